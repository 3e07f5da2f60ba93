// Unit tests of what the outputs say after a run (lib/rules/after-run.ts) and of the gates' figures when the
// probe could not read a figure (lib/rules/gates.ts): each says what the host shows, never what it showed
// before the run, never "not enabled" for a self-destruct that is on.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { databaseOutput, factsAfterRun, REGISTRATIONS_PUT_BACK } from "../lib/rules/after-run";
import type { HostFacts } from "../lib/rules/facts";
import { evaluateGate, evaluateGates } from "../lib/rules/gates";
import { planClosure } from "../lib/rules/plan";
import { Stage } from "../lib/rules/stages";
import { IDLE_DATABASE, reachedUpTo, testFacts } from "./support/facts";
import { testSettings } from "./support/settings";

const NOW = new Date("2026-07-20T12:00:00Z");
const STARTED = "2026-07-20T11:59:58.000Z";
const ENTERED = "2026-07-01T00:00:00.000Z";

/** A host that walked forward to `stage` (every stage entered on ENTERED), database running unless `extra` says. */
const walked = (stage: Stage, extra: Partial<HostFacts> = {}): HostFacts =>
    testFacts(stage, { reachedAt: reachedUpTo(stage, () => ENTERED), database: { ...IDLE_DATABASE, registrationsMode: "open" }, ...extra });

/** The facts after moving from `before` to `stage`, the journal written at NOW. */
function after(before: HostFacts, stage: Stage, archives?: { requested: number; requestedAt?: string }, extra: Record<string, string> = {}) {
    const settings = testSettings(stage, { goneDays: "0", ...extra });
    const plan = planClosure(settings, before, NOW);
    const journal = stage === "operating" ? undefined : { stage, reachedAt: { ...before.reachedAt, [stage]: NOW.toISOString() } };
    return { facts: factsAfterRun(before, plan, { startedAt: STARTED, journal, archives }), settings };
}

describe("factsAfterRun", () => {
    test("announced: registrations are closed after the run, not as the probe saw them before it", () => {
        const { facts } = after(walked("operating"), "announced");
        assert.equal((databaseOutput(facts) as { registrationsMode: string }).registrationsMode, "none");
        assert.equal(facts.currentStage, "announced");
        // Back to operating: the closure reopens them as it found them (its step's undo).
        const back = after(walked("announced", { database: { ...IDLE_DATABASE, registrationsMode: "none" } }), "operating");
        assert.equal(back.facts.database?.registrationsMode, REGISTRATIONS_PUT_BACK);
    });

    test("dormant: the run stopped the database, and the next stage counts from the journal it wrote", () => {
        const before = walked("self-destructing", { selfDestructProgress: "Every deletion notice has been sent!" });
        const { facts, settings } = after(before, "dormant");
        assert.equal(databaseOutput(facts, before), "stopped by the closure (dormant)");
        assert.deepEqual(evaluateGate("goneDaysPassed", facts, settings, NOW), {
            gate: "goneDaysPassed",
            ok: true,
            figure: "dormant since 2026-07-20T12:00:00.000Z; 0-day 410 period passed",
        });
        // As the probe sees it before that run: never dormant.
        assert.equal(evaluateGate("goneDaysPassed", before, settings, NOW).figure, "the host never went dormant");
    });

    test("self-destructing: the run turned it on; the next gate says so and that its progress is the next run's to read", () => {
        const before = walked("closed", { selfDestructEnabled: false });
        const { facts, settings } = after(before, "self-destructing");
        const [gate] = evaluateGates("dormant", facts, settings, NOW).results;
        assert.deepEqual(gate, {
            gate: "deletionNoticesSent",
            ok: false,
            figure: "0 account(s) pending deletion; self-destruct is enabled (SELF_DESTRUCT verifies); its progress is read by the next run (tootctl self-destruct)",
        });
        assert.match(evaluateGates("dormant", before, settings, NOW).results[0].figure, /self-destruct is not enabled/, "before the run it was not");
    });

    test("closed: the archives this run requested are pending, and each user's is dated", () => {
        const users = [
            { username: "alice", requestedAt: "2026-07-18T00:00:00.000Z" }, // recent: skipped
            { username: "bob", requestedAt: "2026-06-01T00:00:00.000Z" }, // old: asked again
            { username: "carol" }, // none: asked
        ];
        const before = walked("announced", { database: { ...IDLE_DATABASE, latestArchiveByUser: users } });
        const requestedAt = "2026-07-20T12:00:01.000Z";
        const { facts, settings } = after(before, "closed", { requested: 2, requestedAt }, { requestArchives: "true" });
        assert.equal(facts.database?.pendingArchives, 2);
        assert.deepEqual(
            facts.database?.latestArchiveByUser?.map((u) => `${u.username} ${u.requestedAt}`),
            ["alice 2026-07-18T00:00:00.000Z", `bob ${requestedAt}`, `carol ${requestedAt}`],
        );
        assert.deepEqual(evaluateGate("noPendingArchives", facts, settings, NOW), {
            gate: "noPendingArchives",
            ok: false,
            figure: "2 archive(s) pending; 0 finished in the last hour; no archives in the last hour, so no estimate yet",
        });
        // Requested by an earlier run (before this one started): the probe counted them already.
        const earlier = after(before, "closed", { requested: 2, requestedAt: "2026-07-19T00:00:00.000Z" }, { requestArchives: "true" });
        assert.equal(earlier.facts.database?.pendingArchives, 0);
    });

    test("moving back from dormant: the services started again, the database with them", () => {
        const before = walked("dormant", { database: undefined, stoppedByClosure: [{ unit: "postgresql", wasActive: true, wasEnabled: true }] });
        const { facts } = after(before, "self-destructing");
        assert.equal(databaseOutput(facts, before), "started again by this run, as the closure found it: its figures are read by the next run");
        assert.equal(databaseOutput(before), "stopped by the closure (dormant)");
    });
});

describe("deletionNoticesSent never says 'not enabled' of a self-destruct that is on", () => {
    const settings = testSettings("dormant");

    test("dormant, the database stopped by the closure: held when dormant was entered", () => {
        const dormant = walked("dormant", { database: undefined });
        assert.deepEqual(evaluateGate("deletionNoticesSent", dormant, settings, NOW), {
            gate: "deletionNoticesSent",
            ok: true,
            figure: `held when dormant was entered (${ENTERED}); self-destruct is enabled (SELF_DESTRUCT verifies); database stopped by the closure (dormant): not read`,
        });
        const legacy = walked("dormant", { database: undefined, mastodonVersion: "4.2.10", legacySelfDestruct: true });
        assert.match(
            evaluateGate("deletionNoticesSent", legacy, settings, NOW).figure,
            /^held when dormant was entered .*; the legacy tootctl self-destruct ran;/,
        );
    });

    test("on, progress not asked: says it is on; off: says so; a wrong value: says that", () => {
        const on = walked("closed", { selfDestructEnabled: true });
        assert.match(
            evaluateGate("deletionNoticesSent", on, settings, NOW).figure,
            /self-destruct is enabled \(SELF_DESTRUCT verifies\); its progress is read by the next run/,
        );
        assert.match(evaluateGate("deletionNoticesSent", walked("closed"), settings, NOW).figure, /; self-destruct is not enabled$/);
        const wrong = walked("closed", { selfDestructValueWrong: true });
        assert.match(evaluateGate("deletionNoticesSent", wrong, settings, NOW).figure, /SELF_DESTRUCT does not verify/);
    });
});
