// Unit tests of the stage table (lib/rules/stages.ts) and the gates (lib/rules/gates.ts), with a fixed `now`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkTransition, Gate, STAGES, STAGE_TABLE, Stage, stageIndex } from "../lib/rules/stages";
import { downloadsUntil } from "../lib/rules/archives";
import { evaluateGate, evaluateGates, nextStageNeeds, purgeWarning } from "../lib/rules/gates";
import { HostFacts, SidekiqWaiting } from "../lib/rules/facts";
import type { Settings } from "../lib/rules/settings";
import { cloudflareFacts, ZoneFacts } from "../lib/edge/cloudflare/zone";
import { IDLE_DATABASE, testFacts } from "./support/facts";
import { testSettings } from "./support/settings";

const settings = (extra: Record<string, string> = {}): Settings => testSettings((extra.stage as Stage | undefined) ?? "dormant", extra);

const facts = (extra: Partial<HostFacts> = {}): HostFacts => testFacts("closed", { database: IDLE_DATABASE, ...extra });

const at = (iso: string) => new Date(iso);

describe("checkTransition", () => {
    test("staying and moving forward by one are allowed", () => {
        for (let i = 0; i < STAGES.length; i++) {
            assert.equal(checkTransition(STAGES[i], STAGES[i]), undefined);
            if (i + 1 < STAGES.length) assert.equal(checkTransition(STAGES[i], STAGES[i + 1]), undefined, `${STAGES[i]} -> ${STAGES[i + 1]}`);
        }
    });

    test("moving back any number of stages is allowed", () => {
        for (let i = 0; i < STAGES.length; i++) for (let j = 0; j < i; j++) assert.equal(checkTransition(STAGES[i], STAGES[j]), undefined);
    });

    test("skipping is refused with the skipped stages and the next stage to set", () => {
        const msg = checkTransition("operating", "closed");
        assert.ok(msg);
        assert.equal(msg, 'stage "closed" skips "announced": the host is at "operating"; set stage to "announced" first');
        const far = checkTransition("announced", "parked")!;
        assert.ok(far.includes('"closed", "self-destructing", "dormant"'), far);
        assert.ok(far.endsWith('set stage to "closed" first'), far);
    });

    test("every skip of two or more is refused", () => {
        let refused = 0;
        for (let i = 0; i < STAGES.length; i++)
            for (let j = i + 2; j < STAGES.length; j++) {
                const msg = checkTransition(STAGES[i], STAGES[j]);
                assert.ok(msg, `${STAGES[i]} -> ${STAGES[j]}`);
                assert.ok(msg.includes(`set stage to "${STAGES[i + 1]}" first`), msg);
                refused++;
            }
        assert.equal(refused, 10);
    });
});

describe("stage table invariants", () => {
    test("six stages in order", () => {
        assert.deepEqual([...STAGES], ["operating", "announced", "closed", "self-destructing", "dormant", "parked"]);
        assert.deepEqual(Object.keys(STAGE_TABLE).sort(), [...STAGES].sort());
        STAGES.forEach((s, i) => assert.equal(stageIndex(s), i));
    });

    test('front mode is "original" exactly before closed, then 410 and never back to original', () => {
        for (const s of STAGES) {
            const before = stageIndex(s) < stageIndex("closed");
            assert.equal(STAGE_TABLE[s].front === "original", before, s);
        }
        assert.equal(STAGE_TABLE.closed.front, "gone-except-downloads");
        assert.equal(STAGE_TABLE["self-destructing"].front, "gone-except-downloads");
        assert.equal(STAGE_TABLE.dormant.front, "gone-everywhere");
        assert.equal(STAGE_TABLE.parked.front, "gone-everywhere");
    });

    test("what a stage turns on stays on in every later stage", () => {
        const flags = ["closeRegistrations", "announce", "requestArchives", "selfDestruct", "databaseDump"] as const;
        for (let i = 1; i < STAGES.length; i++) {
            const prev = STAGE_TABLE[STAGES[i - 1]];
            const cur = STAGE_TABLE[STAGES[i]];
            for (const f of flags) if (prev[f]) assert.equal(cur[f], true, `${f} dropped at ${STAGES[i]}`);
            for (const r of prev.stopped) assert.ok(cur.stopped.includes(r), `${r} restarted at ${STAGES[i]}`);
        }
    });

    test("self-destruct from self-destructing on; never before the 410 vhost", () => {
        for (const s of STAGES) {
            assert.equal(STAGE_TABLE[s].selfDestruct, stageIndex(s) >= stageIndex("self-destructing"), s);
            if (STAGE_TABLE[s].selfDestruct) assert.notEqual(STAGE_TABLE[s].front, "original", s);
        }
    });

    test("the database dump comes with or before any stopped service", () => {
        for (const s of STAGES) {
            if (STAGE_TABLE[s].stopped.length > 0) assert.equal(STAGE_TABLE[s].databaseDump, true, s);
        }
        assert.equal(STAGE_TABLE.dormant.databaseDump, true);
    });

    test("services stop Mastodon first and its stores last, nginx never", () => {
        assert.deepEqual(STAGE_TABLE.dormant.stopped, ["web", "streaming", "sidekiq", "mail", "redis", "postgresql"]);
        assert.deepEqual(STAGE_TABLE.parked.stopped, STAGE_TABLE.dormant.stopped);
        for (const s of ["operating", "announced", "closed", "self-destructing"] as Stage[]) assert.deepEqual(STAGE_TABLE[s].stopped, [], s);
    });

    test("registrations closed and announcement from announced on; archives from closed on", () => {
        for (const s of STAGES) {
            const i = stageIndex(s);
            assert.equal(STAGE_TABLE[s].closeRegistrations, i >= 1, s);
            assert.equal(STAGE_TABLE[s].announce, i >= 1, s);
            assert.equal(STAGE_TABLE[s].requestArchives, i >= 2, s);
        }
    });

    test("gates per stage as in the table", () => {
        const gates: Record<Stage, Gate[]> = {
            operating: [],
            announced: [],
            closed: ["closingDateReached"],
            "self-destructing": ["noPendingArchives", "downloadGracePassed", "moveGracePassed"],
            dormant: ["deletionNoticesSent"],
            parked: ["goneDaysPassed", "edgeReady"],
        };
        for (const s of STAGES) assert.deepEqual(STAGE_TABLE[s].gates, gates[s], s);
    });

    test("manual steps: the dump copy at dormant; DNS, domain and host at parked", () => {
        assert.equal(STAGE_TABLE.dormant.manual.length, 1);
        assert.match(STAGE_TABLE.dormant.manual[0], /dump/);
        assert.ok(STAGE_TABLE.parked.manual.some((m) => /DNS/.test(m) && /410/.test(m)));
        assert.ok(STAGE_TABLE.parked.manual.some((m) => /keep the domain registered/.test(m)));
        for (const s of STAGES) assert.ok(STAGE_TABLE[s].summary.length > 10, s);
    });
});

describe("evaluateGate", () => {
    const s = settings(); // closingDate 2026-06-01, downloadGraceDays 7, goneDays 14

    test("closingDateReached: future, the day itself, past", () => {
        let r = evaluateGate("closingDateReached", facts(), s, at("2026-05-20T12:00:00Z"));
        assert.equal(r.ok, false);
        assert.equal(
            r.figure,
            "12 day(s) left until the closing date 2026-06-01: the gate opens at 2026-06-01 00:00 UTC by the host's clock (now 2026-05-20 12:00 UTC there)",
        );
        r = evaluateGate("closingDateReached", facts(), s, at("2026-05-31T23:59:00Z"));
        assert.equal(r.ok, false);
        assert.match(
            r.figure,
            /^1 day\(s\) left until the closing date 2026-06-01: the gate opens at 2026-06-01 00:00 UTC .*\(now 2026-05-31 23:59 UTC there\)$/,
        );
        for (const now of ["2026-06-01T00:00:00Z", "2026-06-01T15:00:00Z", "2026-07-01T00:00:00Z"]) {
            r = evaluateGate("closingDateReached", facts(), s, at(now));
            assert.equal(r.ok, true, now);
            assert.equal(r.figure, "closing date 2026-06-01 reached: the gate opened at 2026-06-01 00:00 UTC by the host's clock");
        }
    });

    test("noPendingArchives: 0 holds, 3 does not, no database does not", () => {
        const now = at("2026-06-10T00:00:00Z");
        assert.deepEqual(evaluateGate("noPendingArchives", facts(), s, now), {
            gate: "noPendingArchives",
            ok: true,
            figure: "0 archive(s) pending; 0 finished in the last hour",
        });
        const three = facts({
            database: { pendingArchives: 3, archivesLastHour: 0, accountsPendingDeletion: 0, suspendedLast10Min: 0, registrationsMode: "none" },
        });
        assert.deepEqual(evaluateGate("noPendingArchives", three, s, now), {
            gate: "noPendingArchives",
            ok: false,
            figure: "3 archive(s) pending; 0 finished in the last hour; no archives in the last hour, so no estimate yet",
        });
        // The estimate: 90 pending at 60 an hour is an hour and a half.
        const busy = facts({
            database: { pendingArchives: 90, archivesLastHour: 60, accountsPendingDeletion: 0, suspendedLast10Min: 0, registrationsMode: "none" },
        });
        assert.equal(
            evaluateGate("noPendingArchives", busy, s, now).figure,
            "90 archive(s) pending; 60 finished in the last hour; about 90 min left at the pace of the last hour (60 archives)",
        );
        assert.deepEqual(evaluateGate("noPendingArchives", facts({ database: undefined }), s, now), {
            gate: "noPendingArchives",
            ok: false,
            figure: "database not readable",
        });
    });

    test("downloadGracePassed: passed, not passed, never any archive", () => {
        const db = (last?: string) =>
            facts({
                database: { ...IDLE_DATABASE, lastArchiveFinishedAt: last },
            });
        let r = evaluateGate("downloadGracePassed", db("2026-06-01T10:00:00Z"), s, at("2026-06-05T10:00:00Z"));
        assert.equal(r.ok, false);
        assert.equal(r.figure, "last archive finished 2026-06-01T10:00:00Z; 3 day(s) of the 7-day download grace left (holds on 2026-06-08)");
        r = evaluateGate("downloadGracePassed", db("2026-06-01T10:00:00Z"), s, at("2026-06-08T09:59:00Z"));
        assert.equal(r.ok, false, "a minute short of 7 days");
        assert.match(r.figure, /1 day\(s\) of the 7-day download grace left/);
        r = evaluateGate("downloadGracePassed", db("2026-06-01T10:00:00Z"), s, at("2026-06-08T10:00:00Z"));
        assert.equal(r.ok, true);
        assert.equal(r.figure, "last archive finished 2026-06-01T10:00:00Z; 7-day download grace passed");
        r = evaluateGate("downloadGracePassed", db(undefined), s, at("2026-06-02T00:00:00Z"));
        assert.deepEqual(r, { gate: "downloadGracePassed", ok: true, figure: "no archive was ever made" });
        assert.equal(evaluateGate("downloadGracePassed", facts({ database: undefined }), s, at("2026-06-02T00:00:00Z")).ok, false);
        // A grace of 0 days holds at once.
        assert.equal(
            evaluateGate("downloadGracePassed", db("2026-06-01T10:00:00Z"), settings({ downloadGraceDays: "0" }), at("2026-06-01T10:00:00Z")).ok,
            true,
        );
    });

    test("moveGracePassed: moveGraceDays since the last local account moved away, none moved, database not read", () => {
        const drained = { delete: { queued: 0, retrying: 0 }, move: { queued: 0, retrying: 0 }, moveDistributions: 0 };
        const moved = (lastMoveAt?: string, movedAccounts = 1) =>
            facts({ database: { ...IDLE_DATABASE, lastMoveAt, movedAccounts }, sidekiqDeliveries: drained });
        const noneWaiting = "Move deliveries in Sidekiq: 0 queued, 0 to retry, 0 account(s) still to fan out";
        let r = evaluateGate("moveGracePassed", moved("2026-06-01T10:00:00.000Z", 2), s, at("2026-06-03T10:00:00Z"));
        assert.deepEqual(r, {
            gate: "moveGracePassed",
            ok: false,
            figure:
                "2 local account(s) moved away, the last at 2026-06-01T10:00:00.000Z; 5 day(s) of the 7-day move grace left, " +
                `for its Move to reach every follower's server before a Delete (holds on 2026-06-08); ${noneWaiting}`,
        });
        r = evaluateGate("moveGracePassed", moved("2026-06-01T10:00:00.000Z"), s, at("2026-06-08T09:59:00Z"));
        assert.equal(r.ok, false, `a minute short of 7 days: ${r.figure}`);
        r = evaluateGate("moveGracePassed", moved("2026-06-01T10:00:00.000Z"), s, at("2026-06-08T10:00:00Z"));
        assert.deepEqual(r, {
            gate: "moveGracePassed",
            ok: true,
            figure: `1 local account(s) moved away, the last at 2026-06-01T10:00:00.000Z; 7-day move grace passed; ${noneWaiting}`,
        });
        assert.deepEqual(evaluateGate("moveGracePassed", moved(undefined, 0), s, at("2026-06-02T00:00:00Z")), {
            gate: "moveGracePassed",
            ok: true,
            figure: "no local account has moved away",
        });
        assert.equal(evaluateGate("moveGracePassed", facts({ database: undefined }), s, at("2026-06-02T00:00:00Z")).ok, false, "the database not read");
        const now = at("2026-06-01T10:00:00Z");
        assert.equal(
            evaluateGate("moveGracePassed", moved("2026-06-01T10:00:00.000Z"), settings({ moveGraceDays: "0" }), now).ok,
            true,
            "0 days holds at once",
        );
    });

    test("moveGracePassed waits for every Move Sidekiq still holds, whatever the days: queued, to retry, not fanned out, or not read", () => {
        const after = at("2026-07-01T00:00:00Z"); // long after the grace
        const waiting = (sidekiqDeliveries: HostFacts["sidekiqDeliveries"]) =>
            evaluateGate(
                "moveGracePassed",
                facts({ database: { ...IDLE_DATABASE, lastMoveAt: "2026-06-01T10:00:00.000Z", movedAccounts: 1 }, sidekiqDeliveries }),
                s,
                after,
            );
        const none = { queued: 0, retrying: 0 };
        for (const [what, d, shown] of [
            ["a Move queued", { delete: none, move: { queued: 3, retrying: 0 }, moveDistributions: 0 }, "3 queued, 0 to retry, 0 account(s) still to fan out"],
            [
                "a Move to retry",
                { delete: none, move: { queued: 0, retrying: 1 }, moveDistributions: 0 },
                "0 queued, 1 to retry, 0 account(s) still to fan out",
            ],
            ["a Move not fanned out", { delete: none, move: none, moveDistributions: 1 }, "0 queued, 0 to retry, 1 account(s) still to fan out"],
        ] as const) {
            const r = waiting(d);
            assert.equal(r.ok, false, `${what}: ${r.figure}`);
            assert.equal(
                r.figure,
                `1 local account(s) moved away, the last at 2026-06-01T10:00:00.000Z; 7-day move grace passed; Move deliveries in Sidekiq: ${shown}`,
            );
        }
        const queuedDeletes = waiting({ delete: { queued: 40, retrying: 2 }, move: none, moveDistributions: 0 });
        assert.equal(queuedDeletes.ok, true, `Deletes are not Moves: ${queuedDeletes.figure}`);
        const unread = waiting(undefined);
        assert.equal(unread.ok, false, unread.figure);
        assert.match(unread.figure, /7-day move grace passed; Sidekiq's Move deliveries not read$/);
    });

    test("downloadGracePassed keeps the 410 page's promise: not before the last day to download is over", () => {
        const closed = (last?: string) =>
            facts({
                currentStage: "closed",
                reachedAt: { closed: "2026-06-01T10:00:00Z" },
                database: { ...IDLE_DATABASE, lastArchiveFinishedAt: last },
            });
        assert.equal(downloadsUntil(closed(), s, at("2026-06-03T00:00:00Z")), "2026-06-08", "7 days after the day it closed");
        assert.equal(downloadsUntil(facts(), s, at("2026-06-03T15:00:00Z")), "2026-06-10", "closing now: 7 days from today");
        assert.equal(downloadsUntil(closed(), settings({ downloadGraceDays: "0" }), at("2026-06-03T00:00:00Z")), undefined, "no grace, no promise");
        // An old archive alone would let it hold at once; the page said 2026-06-08, so the 8th is still a download day.
        let r = evaluateGate("downloadGracePassed", closed("2026-05-01T00:00:00Z"), s, at("2026-06-08T23:00:00Z"));
        assert.deepEqual(r, {
            gate: "downloadGracePassed",
            ok: false,
            figure: "the 410 page tells users they can download their archive until 2026-06-08; 1 day(s) left (holds on 2026-06-09)",
        });
        r = evaluateGate("downloadGracePassed", closed(undefined), s, at("2026-06-09T00:00:00Z"));
        assert.deepEqual(r, { gate: "downloadGracePassed", ok: true, figure: "no archive was ever made" });
        r = evaluateGate("downloadGracePassed", closed("2026-06-05T00:00:00Z"), s, at("2026-06-09T00:00:00Z"));
        assert.equal(r.ok, false, "an archive finished later still gets its own grace");
    });

    test("deletionNoticesSent before Mastodon 4.3: every local account suspended and Sidekiq's Delete deliveries drained; the purge is never waited for", () => {
        const now = at("2026-07-01T00:00:00Z");
        const legacy = (notSuspended: number, deliveries: SidekiqWaiting | undefined, enabled = true) =>
            facts({
                mastodonVersion: "4.2.10",
                legacySelfDestruct: true,
                selfDestructEnabled: enabled,
                sidekiqDeliveries: deliveries && { delete: deliveries, move: { queued: 0, retrying: 0 }, moveDistributions: 0 },
                database: {
                    pendingArchives: 0,
                    archivesLastHour: 0,
                    accountsPendingDeletion: notSuspended,
                    suspendedLast10Min: 0,
                    registrationsMode: "none",
                    deletionRequestsDueFrom: "2026-07-30T10:00:00.000Z",
                },
            });
        // Every account has a deletion request (suspend! files one, due in 30 days): the gate holds anyway.
        let r = evaluateGate("deletionNoticesSent", legacy(0, { queued: 0, retrying: 0 }), s, now);
        assert.deepEqual(r, {
            gate: "deletionNoticesSent",
            ok: true,
            figure:
                "0 local account(s) not suspended (legacy tootctl self-destruct); Delete deliveries in Sidekiq: 0 queued, 0 to retry; " +
                "Mastodon purges the suspended accounts' local data from 2026-07-30 (deletion requests due 30 days after the command)",
        });
        r = evaluateGate("deletionNoticesSent", legacy(0, { queued: 40, retrying: 0 }), s, now);
        assert.equal(r.ok, false, `deliveries still queued: ${r.figure}`);
        r = evaluateGate("deletionNoticesSent", legacy(0, { queued: 0, retrying: 5 }), s, now);
        assert.equal(r.ok, false, `deliveries waiting to be retried: ${r.figure}`);
        assert.match(r.figure, /0 queued, 5 to retry/);
        r = evaluateGate("deletionNoticesSent", legacy(3, { queued: 0, retrying: 0 }), s, now);
        assert.equal(r.ok, false, r.figure);
        assert.match(r.figure, /^3 local account\(s\) not suspended/);
        r = evaluateGate("deletionNoticesSent", legacy(0, undefined), s, now);
        assert.equal(r.ok, false, `Sidekiq not read: ${r.figure}`);
        assert.match(r.figure, /Sidekiq's Delete deliveries not read/);
        r = evaluateGate("deletionNoticesSent", legacy(0, { queued: 0, retrying: 0 }, false), s, now);
        assert.deepEqual(r, { gate: "deletionNoticesSent", ok: false, figure: "the legacy tootctl self-destruct has not run" });
        // Never federated: the command only suspended (update_all), no deletion request, so nothing is purged.
        const lone = legacy(0, { queued: 0, retrying: 0 });
        lone.database = { ...lone.database!, deletionRequestsDueFrom: undefined };
        assert.deepEqual(evaluateGate("deletionNoticesSent", lone, s, now), {
            gate: "deletionNoticesSent",
            ok: true,
            figure: "0 local account(s) not suspended (legacy tootctl self-destruct); Delete deliveries in Sidekiq: 0 queued, 0 to retry",
        });
        const noDb = facts({
            mastodonVersion: "4.2.10",
            legacySelfDestruct: true,
            selfDestructEnabled: true,
            sidekiqDeliveries: { delete: { queued: 0, retrying: 0 }, move: { queued: 0, retrying: 0 }, moveDistributions: 0 },
            database: undefined,
        });
        assert.equal(evaluateGate("deletionNoticesSent", noDb, s, now).ok, false);
    });

    test("purgeWarning: before 4.3, warns when the purge of suspended accounts is near or has begun and no dump exists", () => {
        const legacy = (due: string | undefined, extra: Partial<HostFacts> = {}) =>
            facts({
                mastodonVersion: "4.2.10",
                legacySelfDestruct: true,
                selfDestructEnabled: true,
                currentStage: "self-destructing",
                database: {
                    pendingArchives: 0,
                    archivesLastHour: 0,
                    accountsPendingDeletion: 0,
                    suspendedLast10Min: 0,
                    registrationsMode: "none",
                    deletionRequestsDueFrom: due,
                },
                ...extra,
            });
        const due = "2026-07-30T10:00:00.000Z";
        assert.equal(purgeWarning(legacy(due), at("2026-07-01T00:00:00Z")), undefined, "29 days ahead: no warning");
        assert.match(
            purgeWarning(legacy(due), at("2026-07-25T00:00:00Z")) ?? "(none)",
            /begins purging .* on 2026-07-30T10:00:00.000Z.*enter dormant before then/,
        );
        assert.match(
            purgeWarning(legacy(due), at("2026-08-02T00:00:00Z")) ?? "(none)",
            /has been purging .* since 2026-07-30T10:00:00.000Z.*Enter dormant now/,
        );
        assert.equal(purgeWarning(legacy(due, { currentStage: "dormant" }), at("2026-08-02T00:00:00Z")), undefined, "dormant: the dump exists");
        // The first accounts purged have no request left: the command's time (journal) still dates the purge.
        const purgedFirst = legacy("2026-08-05T00:00:00.000Z", { reachedAt: { "self-destructing": "2026-06-30T10:00:00.000Z" } });
        assert.match(purgeWarning(purgedFirst, at("2026-08-02T00:00:00Z")) ?? "(none)", /has been purging .* since 2026-07-30T10:00:00.000Z/);
        assert.equal(purgeWarning(legacy(undefined), at("2026-08-02T00:00:00Z")), undefined, "never federated: no deletion request, no purge");
        assert.equal(
            purgeWarning(legacy(due, { mastodonVersion: "4.3.2", legacySelfDestruct: false }), at("2026-08-02T00:00:00Z")),
            undefined,
            "4.3+: the self-destruct schedule replaces the purge",
        );
    });

    test("deletionNoticesSent on 4.7: tootctl's line and nothing left for SelfDestructScheduler (requested_deletion_at)", () => {
        const now = at("2026-09-01T00:00:00Z");
        const sent = "Every deletion notice has been sent! You can safely delete all data and decomission your servers!";
        const v47 = (left: number, progress = sent) =>
            facts({
                mastodonVersion: "4.7.0",
                selfDestructEnabled: true,
                selfDestructProgress: progress,
                database: { pendingArchives: 0, archivesLastHour: 0, accountsPendingDeletion: left, suspendedLast10Min: 4, registrationsMode: "none" },
            });
        assert.equal(evaluateGate("deletionNoticesSent", v47(0), s, now).ok, true);
        const r = evaluateGate("deletionNoticesSent", v47(2), s, now);
        assert.equal(r.ok, false, `the scheduler still has 2 accounts although tootctl says all sent: ${r.figure}`);
        assert.match(
            r.figure,
            /^2 account\(s\) pending deletion; Every deletion notice has been sent!.*; about 5 min left at the pace of the last 10 minutes \(4 accounts deleted\)$/,
        );
        assert.equal(evaluateGate("deletionNoticesSent", v47(0, "Deletion notices are still being processed"), s, now).ok, false);
        // A wrong SELF_DESTRUCT: Mastodon is not in self-destruct mode, and the figure says why.
        const wrong = facts({ mastodonVersion: "4.7.0", selfDestructEnabled: false, selfDestructValueWrong: true });
        assert.deepEqual(evaluateGate("deletionNoticesSent", wrong, s, now), {
            gate: "deletionNoticesSent",
            ok: false,
            figure: "0 account(s) pending deletion; SELF_DESTRUCT does not verify: Mastodon is not in self-destruct mode",
        });
    });

    test("deletionNoticesSent: sent, still sending, self-destruct not enabled", () => {
        const now = at("2026-07-01T00:00:00Z");
        const sent = "Every deletion notice has been sent! You can safely delete all data and decomission your servers!";
        let r = evaluateGate("deletionNoticesSent", facts({ selfDestructEnabled: true, selfDestructProgress: sent }), s, now);
        assert.equal(r.ok, true);
        assert.equal(r.figure, `0 account(s) pending deletion; ${sent}`);
        r = evaluateGate(
            "deletionNoticesSent",
            facts({
                selfDestructEnabled: true,
                selfDestructProgress: "12 accounts are still pending deletion.",
                database: { pendingArchives: 0, archivesLastHour: 0, accountsPendingDeletion: 12, suspendedLast10Min: 0, registrationsMode: "none" },
            }),
            s,
            now,
        );
        assert.equal(r.ok, false);
        assert.equal(
            r.figure,
            "12 account(s) pending deletion; 12 accounts are still pending deletion.; no accounts deleted in the last 10 minutes, so no estimate yet",
        );
        r = evaluateGate(
            "deletionNoticesSent",
            facts({ selfDestructEnabled: true, selfDestructProgress: "Deletion notices are still being processed" }),
            s,
            now,
        );
        assert.equal(r.ok, false);
        r = evaluateGate("deletionNoticesSent", facts({ selfDestructEnabled: false }), s, now);
        assert.deepEqual(r, { gate: "deletionNoticesSent", ok: false, figure: "0 account(s) pending deletion; self-destruct is not enabled" });
        // The "all sent" line is not enough when the host is not in self-destruct mode.
        r = evaluateGate("deletionNoticesSent", facts({ selfDestructEnabled: false, selfDestructProgress: sent }), s, now);
        assert.equal(r.ok, false);
        // Database stopped: no account figure.
        r = evaluateGate("deletionNoticesSent", facts({ selfDestructEnabled: true, selfDestructProgress: sent, database: undefined }), s, now);
        assert.equal(r.ok, true);
        assert.equal(r.figure, sent);
    });

    test("goneDaysPassed: never dormant, not yet, passed", () => {
        let r = evaluateGate("goneDaysPassed", facts(), s, at("2026-07-01T00:00:00Z"));
        assert.deepEqual(r, { gate: "goneDaysPassed", ok: false, figure: "the host never went dormant" });
        const f = facts({ reachedAt: { dormant: "2026-07-01T12:00:00Z" } });
        r = evaluateGate("goneDaysPassed", f, s, at("2026-07-10T12:00:00Z"));
        assert.equal(r.ok, false);
        assert.equal(r.figure, "dormant since 2026-07-01T12:00:00Z; 5 day(s) of the 14-day 410 period left (holds on 2026-07-15)");
        r = evaluateGate("goneDaysPassed", f, s, at("2026-07-15T11:00:00Z"));
        assert.equal(r.ok, false, "an hour short");
        r = evaluateGate("goneDaysPassed", f, s, at("2026-07-15T12:00:00Z"));
        assert.equal(r.ok, true);
        assert.equal(r.figure, "dormant since 2026-07-01T12:00:00Z; 14-day 410 period passed");
        assert.equal(evaluateGate("goneDaysPassed", f, settings({ goneDays: "30" }), at("2026-07-15T12:00:00Z")).ok, false);
    });
});

describe("evaluateGates", () => {
    const s = settings();
    const now = at("2026-05-20T00:00:00Z"); // before the closing date

    test("binding only when moving forward", () => {
        const fwd = evaluateGates("closed", facts({ currentStage: "announced" }), s, now);
        assert.equal(fwd.binding, true);
        assert.deepEqual(
            fwd.results.map((r) => [r.gate, r.ok]),
            [["closingDateReached", false]],
        );
        const same = evaluateGates("closed", facts({ currentStage: "closed" }), s, now);
        assert.equal(same.binding, false);
        assert.equal(same.results.length, 1, "still evaluated, for the outputs");
        const back = evaluateGates("closed", facts({ currentStage: "dormant" }), s, now);
        assert.equal(back.binding, false);
    });

    test("each stage evaluates exactly its own gates, in the table's order", () => {
        for (const stage of STAGES) {
            const r = evaluateGates(stage, facts({ currentStage: "operating" }), s, now);
            assert.deepEqual(
                r.results.map((g) => g.gate),
                STAGE_TABLE[stage].gates,
                stage,
            );
            assert.equal(r.binding, stage !== "operating", stage);
        }
    });

    test("self-destructing with 3 pending archives and no move: one failing, two holding", () => {
        const f = facts({
            currentStage: "closed",
            database: { pendingArchives: 3, archivesLastHour: 0, accountsPendingDeletion: 0, suspendedLast10Min: 0, registrationsMode: "none" },
        });
        const r = evaluateGates("self-destructing", f, s, at("2026-06-10T00:00:00Z"));
        assert.equal(r.binding, true);
        assert.deepEqual(
            r.results.map((g) => [g.gate, g.ok]),
            [
                ["noPendingArchives", false],
                ["downloadGracePassed", true],
                ["moveGracePassed", true],
            ],
        );
    });
});

describe("edgeReady (parking on Cloudflare)", () => {
    const ACCOUNT = "0123456789abcdef0123456789abcdef";
    const cf = settings({ stage: "parked", cloudflareAccountId: ACCOUNT, cloudflareZone: "social.example", cloudflareApiToken: "t" });
    const zone = (over: Partial<NonNullable<ZoneFacts["zone"]>> = {}): ZoneFacts => ({
        zone: { id: "z1", name: "social.example", accountId: ACCOUNT, accountName: "Closing", status: "active", ...over },
        records: [],
        routes: [],
    });
    const now = at("2026-07-20T00:00:00Z");

    test("without Cloudflare settings it holds: DNS stays by hand", () => {
        assert.deepEqual(evaluateGate("edgeReady", facts(), settings({ stage: "parked" }), now), {
            gate: "edgeReady",
            ok: true,
            figure: "no Cloudflare settings: DNS is left to do by hand",
        });
    });

    test("the zone on the given account and active: holds, with its id", () => {
        assert.deepEqual(evaluateGate("edgeReady", facts(), cf, now, cloudflareFacts(zone())), {
            gate: "edgeReady",
            ok: true,
            figure: "zone social.example (z1) is active on account " + ACCOUNT,
        });
    });

    test("the zone on another account: refused with both accounts", () => {
        const r = evaluateGate("edgeReady", facts(), cf, now, cloudflareFacts(zone({ accountId: "f".repeat(32), accountName: "Someone else" })));
        assert.deepEqual(r, {
            gate: "edgeReady",
            ok: false,
            figure: `zone social.example (z1) is on account ${"f".repeat(32)} ("Someone else"), not on cloudflareAccountId ${ACCOUNT}`,
        });
    });

    test("a zone not found, or not read, or pending: refused saying why", () => {
        assert.match(
            evaluateGate("edgeReady", facts(), cf, now, cloudflareFacts({ records: [], routes: [] })).figure,
            /^zone social\.example not found with cloudflareApiToken/,
        );
        assert.equal(evaluateGate("edgeReady", facts(), cf, now).ok, false);
        const pending = evaluateGate("edgeReady", facts(), cf, now, cloudflareFacts(zone({ status: "pending" })));
        assert.deepEqual(
            [pending.ok, pending.figure],
            [false, "zone social.example is pending, not active: Cloudflare does not answer for it yet (its nameservers are not Cloudflare's)"],
        );
    });

    test("evaluateGates passes the zone to the parked gates and binds when entering", () => {
        const r = evaluateGates(
            "parked",
            facts({ currentStage: "dormant", reachedAt: { dormant: "2026-07-01T00:00:00Z" } }),
            cf,
            now,
            cloudflareFacts(zone({ accountId: "e".repeat(32) })),
        );
        assert.equal(r.binding, true);
        assert.deepEqual(
            r.results.map((g) => [g.gate, g.ok]),
            [
                ["goneDaysPassed", true],
                ["edgeReady", false],
            ],
        );
    });
});

describe("nextStageNeeds", () => {
    test("each stage names the next stage's gates", () => {
        assert.equal(nextStageNeeds("operating"), 'stage "announced" needs: no gate');
        assert.equal(nextStageNeeds("announced"), 'stage "closed" needs: closingDateReached');
        assert.equal(
            nextStageNeeds("closed"),
            'stage "self-destructing" needs: noPendingArchives, downloadGracePassed, moveGracePassed, confirmSelfDestruct set to the domain',
        );
        assert.equal(nextStageNeeds("self-destructing"), 'stage "dormant" needs: deletionNoticesSent');
        assert.equal(nextStageNeeds("dormant"), 'stage "parked" needs: goneDaysPassed, edgeReady');
        assert.equal(nextStageNeeds("parked"), "nothing: this is the last stage");
    });
});
