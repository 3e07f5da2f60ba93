// The host facts the unit tests start from: a Mastodon 4.3.2 host at a stage (in self-destruct mode from
// self-destructing on), `extra` over it. As the probe would report them (lib/rules/facts.ts).
import type { HostFacts } from "../../lib/rules/facts";
import { Stage, STAGES, stageIndex } from "../../lib/rules/stages";

/** Database figures with nothing pending: no archive in the works, no account left to delete, registrations
 *  closed. Frozen, as every test shares it: change a copy. */
export const IDLE_DATABASE: Readonly<NonNullable<HostFacts["database"]>> = Object.freeze({
    pendingArchives: 0,
    archivesLastHour: 0,
    accountsPendingDeletion: 0,
    suspendedLast10Min: 0,
    registrationsMode: "none",
});

/** Facts of a host at `stage`: no stage ever entered (reachedAt empty) and no database figures unless `extra`
 *  gives them (reachedUpTo, IDLE_DATABASE). */
export function testFacts(stage: Stage, extra: Partial<HostFacts> = {}): HostFacts {
    return {
        mastodonVersion: "4.3.2",
        legacySelfDestruct: false,
        currentStage: stage,
        reachedAt: {},
        selfDestructEnabled: stageIndex(stage) >= stageIndex("self-destructing"),
        ...extra,
    };
}

/** The reachedAt of a host that walked forward to `stage`: each stage after operating up to `stage`, entered at `at(stage)`. */
export function reachedUpTo(stage: Stage, at: (s: Stage) => string): HostFacts["reachedAt"] {
    const reachedAt: HostFacts["reachedAt"] = {};
    for (const s of STAGES.slice(1, stageIndex(stage) + 1)) reachedAt[s] = at(s);
    return reachedAt;
}
