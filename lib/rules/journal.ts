// Where the host is on the stage table, from its journal (HostFacts.currentStage and reachedAt) and the
// closure's record of the services it stopped. Pure.
import type { HostFacts } from "./facts";
import { Stage, STAGE_TABLE, stageIndex, STOPPING_STAGE } from "./stages";

/** The stage the host is entering or in: a move to the stage that stops services, once its stops began,
 *  counts as that stage already. */
export function effectiveStage(facts: HostFacts): Stage {
    return facts.stoppedByClosure?.length && stageIndex(facts.currentStage) < stageIndex(STOPPING_STAGE) ? STOPPING_STAGE : facts.currentStage;
}

/** Whether `target` is entered, moving forward from where the host is: gates and the archive retention bind
 *  then, not on later runs of the stage. */
export function entering(target: Stage, facts: HostFacts): boolean {
    return stageIndex(target) > stageIndex(effectiveStage(facts));
}

/** The database is not read because the closure stopped it (dormant on, or a move there that began stopping). */
export function databaseStoppedByClosure(facts: HostFacts): boolean {
    return !facts.database && STAGE_TABLE[effectiveStage(facts)].stopped.includes("postgresql");
}

/** Why the database figures are missing, in words for a gate's figure or an output. */
export function noDatabase(facts: HostFacts): string {
    return databaseStoppedByClosure(facts) ? `database stopped by the closure (${effectiveStage(facts)}): not read` : "database not readable";
}
