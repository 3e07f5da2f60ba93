// The Pulumi program: settings → probe of the host → transition and gate checks → the closure.
// Everything that can refuse (bad settings, a skipped stage, a gate that does not hold) refuses here,
// before any resource is declared, so preview fails with the reason and up changes nothing.
import * as pulumi from "@pulumi/pulumi";
import { MastodonClosure } from "./components/closure";
import { describeDeployment } from "./lib/mastodon/deployment";
import { archiveDownloads, checkArchiveRetention } from "./lib/rules/archives";
import { evaluateGates, nextStageNeeds, purgeWarning } from "./lib/rules/gates";
import { checkClosingDate } from "./lib/rules/notice";
import { effectiveStage } from "./lib/rules/journal";
import { HostFacts } from "./lib/rules/facts";
import { HostAccess, SERVICES_RECORD } from "./lib/host/steps";
import { needsZone } from "./lib/rules/plan";
import { probeHost } from "./lib/host/probe";
import { describeHosts, parseSettings, SECRET_KEYS, Settings } from "./lib/rules/settings";
import { checkTransition, DATABASE_STOPPED_STAGE, nextStage, SELF_DESTRUCT_STAGE, STAGE_TABLE, STOPPING_STAGE } from "./lib/rules/stages";
import { readZone } from "./lib/edge/cloudflare/zone";

// Exported by @pulumi/pulumi's runtime (runtime/config.js) but missing from its type declarations.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(fullKey: string): boolean };

const NAMESPACE = "mastodon-closure";

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

/** What the announcement e-mail did or will do, for the preview. */
function announcementEmailFigure(facts: HostFacts): string {
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
        return await declareClosure();
    } catch (err) {
        throw err instanceof ClosureError ? err : new ClosureError(describe(err));
    }
}

async function declareClosure(): Promise<Record<string, unknown>> {
    const config = new pulumi.Config(NAMESPACE);
    const settings: Settings = parseSettings({
        get: (key) => config.get(key),
        isSecret: (key) => isConfigSecret(`${NAMESPACE}:${key}`),
    });
    // parseSettings has checked which are required (the database password is not with compose).
    const [privateKey, databasePassword] = SECRET_KEYS.map((k) => config.getSecret(k) ?? pulumi.secret(""));
    const statusToken = config.getSecret("statusToken");
    const split = settings.splitHosts;
    const access: pulumi.Output<HostAccess> = pulumi.all([privateKey, databasePassword, statusToken]).apply(([key, password, token]) => ({
        ssh: { ...settings.ssh, privateKey: key },
        // The one key reaches every host.
        ...(split ? { splitHosts: Object.fromEntries(Object.entries(split).map(([role, ssh]) => [role, { ...ssh, privateKey: key }])) } : {}),
        database: { ...settings.database, password },
        deployment: settings.deployment,
        ...(token ? { statusToken: token } : {}),
    }));

    const now = new Date();
    const { facts, originalVhost, dumpsOnHost } = await probeHost(await reveal(access), settings);

    const skip = checkTransition(facts.currentStage, settings.stage);
    if (skip) throw new ClosureError(`stage: ${skip}`);
    const notice = checkClosingDate(settings.stage, facts, settings, now);
    if (notice.refusal) throw new ClosureError(`stage "${settings.stage}" refused, nothing was changed: ${notice.refusal}`);
    if (notice.warning) pulumi.log.warn(notice.warning);
    const purge = purgeWarning(facts, now);
    if (purge) pulumi.log.warn(purge);
    if (facts.selfDestructValueWrong) {
        pulumi.log.warn(
            "SELF_DESTRUCT in .env.production does not verify (another SECRET_KEY_BASE or LOCAL_DOMAIN, or a damaged value): Mastodon is not in self-destruct mode. " +
                (STAGE_TABLE[settings.stage].selfDestruct ? "pulumi up --refresh replaces it with the value Rails generates" : `It is replaced when ${SELF_DESTRUCT_STAGE} is entered`),
        );
    }
    const retention = checkArchiveRetention(settings.stage, facts, settings);
    if (retention.refusal) throw new ClosureError(`stage "${settings.stage}" refused, nothing was changed: ${retention.refusal}`);
    if (facts.stoppedByClosure && effectiveStage(facts) !== facts.currentStage) {
        pulumi.log.warn(
            `a move to ${STOPPING_STAGE} did not finish: the closure had begun stopping services (${SERVICES_RECORD} records how it found them). ` +
                (STAGE_TABLE[settings.stage].stopped.length > 0 ? "This run finishes it." : "This run starts them again as they were."),
        );
    }
    // Parking on Cloudflare: the zone is read (in preview too) through a provider holding the token.
    // (The SDK is loaded only then: it takes a noticeable part of a run to load.)
    const provider =
        settings.cloudflare && needsZone(settings, facts)
            ? new (await import("@pulumi/cloudflare")).Provider("cloudflare", { apiToken: config.requireSecret("cloudflareApiToken") })
            : undefined;
    const zone = settings.cloudflare && provider ? await readZone(settings.cloudflare, { provider }) : undefined;
    const gates = evaluateGates(settings.stage, facts, settings, now, zone);
    for (const g of gates.results) pulumi.log.info(`gate ${g.gate}: ${g.ok ? "holds" : "does not hold"} (${g.figure})`);
    // What the next stage waits for, with the pace so far: when to come back.
    const next = nextStage(settings.stage);
    const nextGates = next ? evaluateGates(next, { ...facts, currentStage: settings.stage }, settings, now, zone).results : [];
    for (const g of nextGates) pulumi.log.info(`next stage "${next}": ${g.gate} ${g.ok ? "holds" : "does not hold yet"} (${g.figure})`);
    const failed = gates.results.filter((g) => !g.ok);
    if (gates.binding && failed.length > 0) {
        throw new ClosureError(
            `stage "${settings.stage}" cannot be entered yet; nothing was changed:\n` + failed.map((g) => `  - ${g.gate}: ${g.figure}`).join("\n"),
        );
    }

    const closure = new MastodonClosure("closure", {
        settings,
        access,
        facts,
        originalVhost,
        postPublicStatus: statusToken !== undefined,
        now,
        ...(zone && provider ? { cloudflare: { zone, provider } } : {}),
    });
    const bucket = closure.plan.bucket;
    if (bucket) pulumi.log.info(`media and archives on object storage: bucket ${bucket.bucket} at ${bucket.endpoint}, ${bucket.kept}`);
    const email = closure.plan.emailAnnouncement ? announcementEmailFigure(facts) : undefined;
    if (email) pulumi.log.info(`announcement e-mail: ${email}`);
    for (const kept of closure.keptOneWay) pulumi.log.warn(`one-way step kept although the stage moved back: ${kept}`);

    const spec = STAGE_TABLE[settings.stage];
    const outputs: Record<string, unknown> = {
        stage: settings.stage,
        stageSummary: spec.summary,
        hostWasAt: facts.currentStage,
        deployment: describeDeployment(settings.deployment),
        hosts: describeHosts(settings),
        mastodonVersion: facts.mastodonVersion,
        front: spec.front,
        gates: gates.results,
        // Every user's latest archive is summed up in archiveDownloads, not listed here.
        database: facts.database
            ? (({ latestArchiveByUser: _byUser, ...figures }) => figures)(facts.database)
            : effectiveStage(facts) === DATABASE_STOPPED_STAGE
              ? `stopped by the closure (${DATABASE_STOPPED_STAGE})`
              : "not readable",
        objectStorage: closure.plan.bucket,
        // The probe listed the dumps before this run; a dump this run made is on the host too.
        dumpsOnHost: closure.dump
            ? closure.dump.manifest.apply((m) => (dumpsOnHost.some((d) => d.path === m.path) ? dumpsOnHost : [...dumpsOnHost, { path: m.path, bytes: m.bytes }]))
            : dumpsOnHost,
        next: nextStageNeeds(settings.stage),
        nextGates,
        keptOneWay: closure.keptOneWay,
        manualSteps: closure.plan.manual,
        edge: closure.edge?.summary,
        hostMayBeTurnedOff: closure.edge?.hostMayBeTurnedOff,
        announcementId: closure.notice?.announcementId,
        reminderDates: closure.notice?.reminderDates,
        archivesRequested: closure.archives?.requested,
        archiveDownloads: STAGE_TABLE[settings.stage].announce ? archiveDownloads(facts) : undefined,
        announcementEmail: closure.notice?.email ?? email,
        selfDestructEnabledAt: closure.selfDestruct?.enabledAt,
        databaseDump: closure.dump?.manifest,
        stoppedServices: closure.services?.units,
    };
    // Only what this stage has: an undefined output is a warning in every run.
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
}
