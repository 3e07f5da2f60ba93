// The decision the program makes before it declares anything: every check in the order of precedence
// (stage order, notice, archive retention, gates, the plan's own refusals), the lines preview and up print on
// the way, and the plan. Pure: the program prints the lines, throws the refusal, or declares the plan.
import { checkArchiveRetention } from "./archives";
import { clockSkewWarning } from "./clock";
import type { HostFacts } from "./facts";
import { evaluateGates, GateResult, purgeWarning } from "./gates";
import { effectiveStage } from "./journal";
import { checkClosingDate } from "./notice";
import { checkOwners, StackIdentity } from "./owner";
import { ClosurePlan, needsEdgeFacts, planClosure } from "./plan";
import type { Settings } from "./settings";
import { checkTransition, nextStage, SELF_DESTRUCT_STAGE, Stage, STAGE_TABLE, STOPPING_STAGE } from "./stages";
import type { EdgeFacts } from "../edge/edges";

export interface DecisionInput {
    settings: Settings;
    facts: HostFacts;
    now: Date;
    /** What the configured edge holds, when the plan needs it (edgeFactsNeeded). */
    edge?: EdgeFacts;
    /** Where the host records how the closure found the services it stops (lib/host/records.ts SERVICES_RECORD). */
    servicesRecord: string;
    /** Who runs, and where hosts record their owner (lib/host/records.ts OWNER_RECORD): a host recorded as
     *  another stack's refuses the run first. The program always gives it; the rules' own tests may not. */
    runBy?: { stack: StackIdentity; ownerRecord: string };
}

export interface LogLine {
    level: "info" | "warn";
    text: string;
}

/** What preview and up print, in order, up to the first refusal (if any). */
interface Printed {
    logs: LogLine[];
}

/** The first check that does not hold: the whole message the program throws. Nothing may be declared. */
export interface Refused extends Printed {
    refusal: string;
}

export interface Decided extends Printed {
    refusal?: undefined;
    gates: { results: GateResult[]; binding: boolean };
    /** The stage after this one, and its gates as they stand (with the pace so far: when to come back). */
    next?: Stage;
    nextGates: GateResult[];
    plan: ClosurePlan;
}

export type Decision = Refused | Decided;

const warn = (text: string): LogLine => ({ level: "warn", text });
const info = (text: string): LogLine => ({ level: "info", text });

/** A refusal of what the settings ask, whatever the host holds. */
const refusedAsSet = (stage: Stage, why: string) => `stage "${stage}" refused, nothing was changed: ${why}`;

/** The plan's refusals, in one message. */
export function planRefusal(stage: Stage, refusals: string[]): string {
    return `stage "${stage}" cannot be reached as set; nothing was changed:\n` + refusals.map((r) => `  - ${r}`).join("\n");
}

/** What the host alone decides: whose closure it is, stage order, the notice the closing date gives, the
 *  archive retention. */
function checkEntry(i: DecisionInput): Refused | Printed {
    const { settings, facts, now } = i;
    // Before anything else: another stack's journal and records are not this stack's to go by.
    const owner = i.runBy ? checkOwners(facts.owners ?? [], i.runBy.stack, settings.adoptHost, i.runBy.ownerRecord) : { logs: [] };
    if (owner.refusal) return { logs: [], refusal: owner.refusal };
    // Whose clock the dates are checked by comes next: a refusal of the closing date may be the clock's doing.
    const clock = clockSkewWarning(facts.clockSkewMs);
    const logs = [...owner.logs, ...(clock ? [warn(clock)] : [])];
    const skip = checkTransition(facts.currentStage, settings.stage);
    if (skip) return { logs, refusal: `stage: ${skip}` };
    const notice = checkClosingDate(settings.stage, facts, settings, now);
    if (notice.refusal) return { logs, refusal: refusedAsSet(settings.stage, notice.refusal) };
    logs.push(...[notice.warning, purgeWarning(facts, now)].filter((w): w is string => w !== undefined).map(warn));
    if (facts.selfDestructValueWrong) logs.push(warn(selfDestructValueWrong(settings.stage)));
    const retention = checkArchiveRetention(settings.stage, facts, settings);
    if (retention.refusal) return { logs, refusal: refusedAsSet(settings.stage, retention.refusal) };
    if (facts.stoppedByClosure && effectiveStage(facts) !== facts.currentStage) logs.push(warn(unfinishedStop(settings.stage, i.servicesRecord)));
    return { logs };
}

function selfDestructValueWrong(stage: Stage): string {
    return (
        "SELF_DESTRUCT in .env.production does not verify (another SECRET_KEY_BASE or LOCAL_DOMAIN, or a damaged value): Mastodon is not in self-destruct mode. " +
        (STAGE_TABLE[stage].selfDestruct
            ? "pulumi up --refresh replaces it with the value Rails generates"
            : `It is replaced when ${SELF_DESTRUCT_STAGE} is entered`)
    );
}

function unfinishedStop(stage: Stage, servicesRecord: string): string {
    return (
        `a move to ${STOPPING_STAGE} did not finish: the closure had begun stopping services (${servicesRecord} records how it found them). ` +
        (STAGE_TABLE[stage].stopped.length > 0 ? "This run finishes it." : "This run starts them again as they were.")
    );
}

/** Whether the configured edge is to be read: the plan needs it, and the host alone does not refuse already
 *  (so a refused stage makes no call to the edge). */
export function edgeFactsNeeded(i: Omit<DecisionInput, "edge">): boolean {
    return needsEdgeFacts(i.settings, i.facts) && !("refusal" in checkEntry(i));
}

/** Every check in order; the first that refuses is the decision. */
export function decide(i: DecisionInput): Decision {
    const { settings, facts, now, edge } = i;
    const entry = checkEntry(i);
    if ("refusal" in entry) return entry;
    const logs = [...entry.logs];

    const gates = evaluateGates(settings.stage, facts, settings, now, edge);
    logs.push(...gates.results.map((g) => info(`gate ${g.gate}: ${g.ok ? "holds" : "does not hold"} (${g.figure})`)));
    const next = nextStage(settings.stage);
    const nextGates = next ? evaluateGates(next, { ...facts, currentStage: settings.stage }, settings, now, edge).results : [];
    logs.push(...nextGates.map((g) => info(`next stage "${next}": ${g.gate} ${g.ok ? "holds" : "does not hold yet"} (${g.figure})`)));
    const failed = gates.results.filter((g) => !g.ok);
    if (gates.binding && failed.length > 0) {
        return {
            logs,
            refusal: `stage "${settings.stage}" cannot be entered yet; nothing was changed:\n` + failed.map((g) => `  - ${g.gate}: ${g.figure}`).join("\n"),
        };
    }

    const plan = planClosure(settings, facts, now, edge);
    if (plan.refusals.length > 0) return { logs, refusal: planRefusal(settings.stage, plan.refusals) };
    return { logs, gates, next, nextGates, plan };
}

/** The plan of a MastodonClosure declared without one (a program of its own, the unit tests): its refusals
 *  thrown, as the program would before declaring it. */
export function planOrThrow(settings: Settings, facts: HostFacts, now: Date, edge?: EdgeFacts): ClosurePlan {
    const plan = planClosure(settings, facts, now, edge);
    if (plan.refusals.length > 0) throw new Error(planRefusal(settings.stage, plan.refusals));
    return plan;
}
