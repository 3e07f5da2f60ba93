// What the host shows after a run, for the outputs an operator reads once `up` is done: the facts the probe
// read before the run, changed as the steps' results say the run changed the host (the journal it wrote, the
// archives it requested, registrations closed, self-destruct on, the database stopped). The next run's probe
// reads the same from the host. Pure.
import { DAY_MS } from "./days";
import type { HostFacts } from "./facts";
import { databaseStoppedByClosure, effectiveStage, noDatabase } from "./journal";
import type { ClosurePlan } from "./plan";
import { Stage, STAGE_TABLE } from "./stages";

/** What the steps of this run report. */
export interface RunResults {
    /** The runner's clock when the run began (before the probe): a step that acted since is this run's. */
    startedAt: string;
    /** The host's journal as the journal step wrote it: written last, once every step of the stage held on the
     *  host. Absent at the baseline, which keeps none. */
    journal?: { stage: string; reachedAt: Partial<Record<Stage, string>> };
    /** The archive requests, when the stage makes them: how many, and when (states older than the time have none). */
    archives?: { requested: number; requestedAt?: string };
}

/** The registrations mode after a move back to a stage that leaves them alone: the one the closure found. */
export const REGISTRATIONS_PUT_BACK = "as the closure found it (put back by this run)";

/** The host after the run, as far as the run changed it; the rest as the probe read it. */
export function factsAfterRun(before: HostFacts, plan: ClosurePlan, run: RunResults): HostFacts {
    const after: HostFacts = { ...before, currentStage: plan.stage, reachedAt: run.journal?.reachedAt ?? before.reachedAt };
    if (plan.selfDestruct && run.journal && !before.selfDestructEnabled) {
        // Turned on by this run (its step verifies SELF_DESTRUCT on the host): its progress is the next run's to read.
        after.selfDestructEnabled = true;
        delete after.selfDestructValueWrong;
        delete after.selfDestructProgress;
    }
    // Moving back below the stage that stops services starts them all again; the record stays, empty.
    if (plan.restartStopped) after.stoppedByClosure = [];
    if (plan.spec.stopped.includes("postgresql")) {
        delete after.database;
        return after;
    }
    if (!before.database) return after;
    const db = { ...before.database };
    if (plan.spec.closeRegistrations) db.registrationsMode = "none";
    else if (STAGE_TABLE[before.currentStage].closeRegistrations) db.registrationsMode = REGISTRATIONS_PUT_BACK;
    const archives = run.archives;
    if (archives?.requestedAt && archives.requestedAt >= run.startedAt && archives.requested > 0) {
        // As rails/request_archives.rb chooses: every user who can sign in with no archive requested within
        // the recent days gets one now.
        const recentFrom = Date.parse(archives.requestedAt) - plan.archiveRecentDays * DAY_MS;
        db.pendingArchives += archives.requested;
        db.latestArchiveByUser = db.latestArchiveByUser?.map((u) =>
            u.requestedAt && Date.parse(u.requestedAt) > recentFrom ? u : { ...u, requestedAt: archives.requestedAt },
        );
    }
    after.database = db;
    return after;
}

/** The output `database`: its figures, or why there are none (stopped by the closure, started again by this run). */
export function databaseOutput(facts: HostFacts, before?: HostFacts): unknown {
    if (facts.database) return (({ latestArchiveByUser: _byUser, ...figures }) => figures)(facts.database);
    if (!databaseStoppedByClosure(facts) && before && databaseStoppedByClosure(before))
        return "started again by this run, as the closure found it: its figures are read by the next run";
    return databaseStoppedByClosure(facts) ? `stopped by the closure (${effectiveStage(facts)})` : noDatabase(facts);
}
