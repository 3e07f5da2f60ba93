// The Pulumi program: settings → probe of the host → the decision (every refusal, then the plan) → the
// closure → outputs. Everything that can refuse (bad settings, another stack's host, a skipped stage, the
// notice, the archive retention, a gate, the plan) refuses before any resource of the closure is declared (the
// stack's closure id alone comes first, and touches no host), so preview fails with the reason and up changes
// nothing.
import * as pulumi from "@pulumi/pulumi";
import { load } from "js-yaml";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { MastodonClosure } from "./components/closure";
import { describeDeployment } from "./lib/mastodon/deployment";
import { archiveDownloads } from "./lib/rules/archives";
import { Decided, Decision, decide, DecisionInput, edgeFactsNeeded } from "./lib/rules/decide";
import { factsAfterRun, databaseOutput } from "./lib/rules/after-run";
import { hostNow } from "./lib/rules/clock";
import { evaluateGates, nextStageNeeds } from "./lib/rules/gates";
import { HostFacts } from "./lib/rules/facts";
import { HostAccess, StepAccess, withSecrets } from "./lib/host/access";
import { OWNER_RECORD, SERVICES_RECORD } from "./lib/host/records";
import { ClosureId } from "./lib/provider/closure-id";
import { knownValue } from "./lib/provider/known";
import { claimHostsAs } from "./lib/provider/host-step";
import { backendForMessages, changesHost, StackIdentity } from "./lib/rules/owner";
import { Probe, probeHost } from "./lib/host/probe";
import { CONFIG_NAMESPACE, describeHosts, parseSettings, SECRET_KEYS, Settings } from "./lib/rules/settings";
import { STAGE_TABLE } from "./lib/rules/stages";
import { EdgeAt, readEdge } from "./lib/edge/edges";

// Exported by @pulumi/pulumi's runtime (runtime/config.js) but missing from its type declarations.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(fullKey: string): boolean };

/** The plain value of an output whose value is known in preview too (config). Never log it. */
function reveal<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => (resolve(v), v)));
}

/**
 * Why the program declared nothing: a refusal (settings, stage order, gates) or a failure to read the host.
 * A RunError, so the engine prints its message once, as it is. It carries no stack: the runtime formats
 * any error's stack for its tracing, and on Node 20 that walk over @pulumi/pulumi's source-mapped frames
 * takes tens of seconds and gigabytes of memory.
 */
export class ClosureError extends pulumi.RunError {
    override name = "ClosureError";
    constructor(message: string) {
        super(message);
        this.stack = undefined;
    }
}

/** Errors that mean a bug in the closure rather than a refusal or an unreachable host. */
const BUGS = [TypeError, ReferenceError, RangeError, SyntaxError];

/** The message of an error that reached the top, with the closure's own frames when it is a bug. */
function describe(err: unknown): string {
    if (!(err instanceof Error)) return String(err);
    if (!BUGS.some((b) => err instanceof b)) return err.message;
    const frames = (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l) && !l.includes("node_modules") && !l.includes("node:"));
    return `${err.name}: ${err.message} (a bug in mastodon-closure; please report it)\n${frames.slice(0, 5).join("\n")}`;
}

/** What the announcement e-mail did or will do, for the preview; none when the plan does not e-mail it. */
function announcementEmailFigure(closure: MastodonClosure, facts: HostFacts): string | undefined {
    if (!closure.plan.emailAnnouncement) return undefined;
    return facts.announcementEmailedAt
        ? `sent ${facts.announcementEmailedAt}; it is not sent again`
        : `${facts.database?.announcementEmailRecipients ?? 0} recipient(s) (confirmed users of unsuspended accounts), sent once by this run`;
}

/**
 * Runs the closure. Refusals and failures are thrown, never just logged: a program that ends normally,
 * even after logging an error, lets the engine delete every resource it did not declare.
 */
export async function closureProgram(): Promise<Record<string, unknown>> {
    try {
        return await runClosure();
    } catch (err) {
        throw err instanceof ClosureError ? err : new ClosureError(describe(err));
    }
}

/** settings → probe → plan → refusals → declare → outputs. */
async function runClosure(): Promise<Record<string, unknown>> {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const settings = readSettings(config);
    const { access, stepAccess, postPublicStatus } = hostAccess(config, settings);
    const startedAt = new Date();
    // The one resource declared before the decision: the stack's closure id, which touches no host (made at
    // the stack's first up; unknown in the preview before it).
    const closureId = new ClosureId("closure-id");
    const [probe, id] = await Promise.all([probeHost(await reveal(access), settings), knownValue(closureId.closureId)]);
    // The rules go by the host's clock (lib/rules/clock.ts): the probe read how far the runner's is from it.
    const now = hostNow(new Date(), probe.facts.clockSkewMs);
    const names = stackNames();
    const stack: StackIdentity = { ...names, ...(id ? { closureId: id } : {}) };
    const { decision, edge } = await plan(config, settings, probe.facts, now, stack);
    const decided = printThenRefuse(decision);
    const record = changesHost(settings.stage, probe.facts);
    claimHostsAs(closureId.closureId.apply((closureId) => ({ ...names, closureId, adopt: settings.adoptHost, record })));
    const closure = new MastodonClosure("closure", {
        settings,
        access: stepAccess,
        facts: probe.facts,
        originalVhost: probe.originalVhost,
        postPublicStatus,
        now,
        plan: decided.plan,
        ...(edge ? { edge } : {}),
    });
    logDeclared(closure, probe.facts);
    return outputs(settings, probe, decided, closure, { startedAt, edge });
}

/**
 * The stack's name, project and backend, for the hosts' owner record and its messages. The backend as the CLI
 * chose it: PULUMI_BACKEND_URL, else the project's `backend.url`, else the one `pulumi login` selected (the
 * `current` key of its credentials file; nothing else of that file is kept).
 */
function stackNames(): Omit<StackIdentity, "closureId"> {
    const fromFile = <T>(path: string, read: (text: string) => T) => {
        try {
            return read(readFileSync(path, "utf8"));
        } catch {
            return undefined;
        }
    };
    const backend =
        process.env.PULUMI_BACKEND_URL ||
        fromFile("Pulumi.yaml", (t) => (load(t) as { backend?: { url?: string } })?.backend?.url) ||
        fromFile(join(process.env.PULUMI_HOME || join(homedir(), ".pulumi"), "credentials.json"), (t) => (JSON.parse(t) as { current?: string }).current);
    return { stack: pulumi.getStack(), project: pulumi.getProject(), backend: backendForMessages(backend) };
}

/** The settings, checked: every problem at once, before anything connects. */
function readSettings(config: pulumi.Config): Settings {
    return parseSettings({
        get: (key) => config.get(key),
        isSecret: (key) => isConfigSecret(`${CONFIG_NAMESPACE}:${key}`),
    });
}

/**
 * How to reach the host(s): with the secrets, a Pulumi secret, for the probe in this process; without them for
 * the host steps, whose provider reads them from the stack's config itself (lib/provider/stack-secrets.ts), so
 * that no secret crosses the engine. And whether the announcement is also posted as a status.
 */
function hostAccess(config: pulumi.Config, settings: Settings): { access: pulumi.Output<HostAccess>; stepAccess: StepAccess; postPublicStatus: boolean } {
    // parseSettings has checked which are required (the database password is not with compose).
    const [privateKey, databasePassword] = SECRET_KEYS.map((k) => config.getSecret(k) ?? pulumi.secret(""));
    const statusToken = config.getSecret("statusToken");
    const stepAccess: StepAccess = {
        ssh: settings.ssh,
        ...(settings.splitHosts ? { splitHosts: settings.splitHosts } : {}),
        database: settings.database,
        deployment: settings.deployment,
        stack: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    };
    const access = pulumi
        .all([privateKey, databasePassword, statusToken])
        .apply(([key, password, token]) =>
            withSecrets(stepAccess, { sshPrivateKey: key, databasePassword: password, ...(token ? { statusToken: token } : {}) }),
        );
    return { access, stepAccess, postPublicStatus: statusToken !== undefined };
}

/** The decision (lib/rules/decide.ts), with the configured edge read first when the plan needs it (through a
 *  provider holding its credentials: what the closure parks the domain with). */
async function plan(
    config: pulumi.Config,
    settings: Settings,
    facts: HostFacts,
    now: Date,
    stack: StackIdentity,
): Promise<{ decision: Decision; edge?: EdgeAt }> {
    const input: DecisionInput = { settings, facts, now, servicesRecord: SERVICES_RECORD, runBy: { stack, ownerRecord: OWNER_RECORD } };
    const edge = edgeFactsNeeded(input) ? await readEdge(settings, (key) => config.requireSecret(key)) : undefined;
    return { decision: decide({ ...input, edge: edge?.facts }), ...(edge ? { edge } : {}) };
}

/** Prints what the checks found, in order; throws the first refusal, so that nothing is declared. */
function printThenRefuse(decision: Decision): Decided {
    for (const line of decision.logs) {
        if (line.level === "warn") pulumi.log.warn(line.text);
        else pulumi.log.info(line.text);
    }
    if (decision.refusal !== undefined) throw new ClosureError(decision.refusal);
    return decision;
}

/** What the declared closure keeps, e-mails and leaves one-way, for the preview. */
function logDeclared(closure: MastodonClosure, facts: HostFacts): void {
    const bucket = closure.plan.bucket;
    if (bucket) pulumi.log.info(`media and archives on object storage: bucket ${bucket.bucket} at ${bucket.endpoint}, ${bucket.kept}`);
    const email = announcementEmailFigure(closure, facts);
    if (email) pulumi.log.info(`announcement e-mail: ${email}`);
    for (const kept of closure.keptOneWay) pulumi.log.warn(`one-way step kept although the stage moved back: ${kept}`);
}

/**
 * The host after the run (lib/rules/after-run.ts): the probe's facts changed as the steps' results say. Known
 * once the journal step is done, the last of the stage (in a preview that changes the stage: after the run).
 */
function hostAfterRun(probe: Probe, closure: MastodonClosure, startedAt: Date): pulumi.Output<HostFacts> {
    return pulumi
        .all([closure.journal, closure.archives?.result])
        .apply(([journal, archives]) => factsAfterRun(probe.facts, closure.plan, { startedAt: startedAt.toISOString(), journal, archives }));
}

/** The stack's outputs: only what this stage has (an undefined output is a warning in every run). What the run
 *  changes on the host is said as the host has it after the run, not as the probe saw it before. */
function outputs(
    settings: Settings,
    probe: Probe,
    decided: Decided,
    closure: MastodonClosure,
    run: { startedAt: Date; edge?: EdgeAt },
): Record<string, unknown> {
    const { facts, dumpsOnHost } = probe;
    const spec = STAGE_TABLE[settings.stage];
    const after = hostAfterRun(probe, closure, run.startedAt);
    const next = decided.next;
    const outputs: Record<string, unknown> = {
        stage: settings.stage,
        stageSummary: spec.summary,
        hostWasAt: facts.currentStage,
        deployment: describeDeployment(settings.deployment),
        hosts: describeHosts(settings),
        mastodonVersion: facts.mastodonVersion,
        front: spec.front,
        gates: decided.gates.results,
        database: after.apply((a) => databaseOutput(a, facts)),
        objectStorage: closure.plan.bucket,
        // The probe listed the dumps before this run; a dump this run made is on the host too.
        dumpsOnHost: closure.dump
            ? closure.dump.manifest.apply((m) =>
                  dumpsOnHost.some((d) => d.path === m.path) ? dumpsOnHost : [...dumpsOnHost, { path: m.path, bytes: m.bytes }],
              )
            : dumpsOnHost,
        next: nextStageNeeds(settings.stage),
        // Counted at the host's time after the run, from the journal it wrote.
        nextGates: next ? after.apply((a) => evaluateGates(next, a, settings, hostNow(new Date(), facts.clockSkewMs), run.edge?.facts).results) : [],
        keptOneWay: closure.keptOneWay,
        manualSteps: closure.plan.manual,
        edge: closure.edge?.summary,
        hostMayBeTurnedOff: closure.edge?.hostMayBeTurnedOff,
        announcementId: closure.notice?.announcementId,
        reminderDates: closure.notice?.reminderDates,
        archivesRequested: closure.archives?.requested,
        // Counts only: the list, with usernames, stays on the host.
        leavingLedger: closure.ledger?.counts.apply((counts) => ({ path: closure.ledger!.path, ...counts })),
        // Not once the run stops the database: nothing is downloaded from a dormant host.
        archiveDownloads: spec.announce && facts.database && !spec.stopped.includes("postgresql") ? after.apply((a) => archiveDownloads(a)!) : undefined,
        announcementEmail: closure.notice?.email ?? announcementEmailFigure(closure, facts),
        selfDestructEnabledAt: closure.selfDestruct?.enabledAt,
        databaseDump: closure.dump?.manifest,
        stoppedServices: closure.services?.units,
    };
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
}
