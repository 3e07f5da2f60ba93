// The Pulumi program: settings → probe of the host → transition and gate checks → the closure.
// Everything that can refuse (bad settings, a skipped stage, a gate that does not hold) refuses here,
// before any resource is declared, so preview fails with the reason and up changes nothing.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { MastodonClosure } from "../components/closure";
import { evaluateGates, nextStageNeeds } from "./gates";
import { HostAccess } from "./host-steps";
import { needsZone } from "./plan";
import { probeHost } from "./probe";
import { parseSettings, SECRET_KEYS, Settings } from "./settings";
import { checkTransition, STAGE_TABLE } from "./stages";
import { readZone } from "./zone";

// Exported by @pulumi/pulumi's runtime (runtime/config.js) but missing from its type declarations.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(fullKey: string): boolean };

const NAMESPACE = "mastodon-closure";

/** The plain value of an output whose value is known in preview too (config). Never log it. */
function reveal<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => (resolve(v), v)));
}

/** Why the program declared nothing: a refusal (settings, stage order, gates) or a failure to read the host. */
export class ClosureError extends Error {
    override name = "ClosureError";
}

/**
 * Runs the closure. Refusals and failures are thrown, never just logged: a program that ends normally,
 * even after logging an error, lets the engine delete every resource it did not declare.
 */
export async function closureProgram(): Promise<Record<string, unknown>> {
    try {
        return await declareClosure();
    } catch (err) {
        throw err instanceof ClosureError ? err : new ClosureError((err as Error).message, { cause: err });
    }
}

async function declareClosure(): Promise<Record<string, unknown>> {
    const config = new pulumi.Config(NAMESPACE);
    const settings: Settings = parseSettings({
        get: (key) => config.get(key),
        isSecret: (key) => isConfigSecret(`${NAMESPACE}:${key}`),
    });
    const [privateKey, databasePassword] = SECRET_KEYS.map((k) => config.requireSecret(k));
    const statusToken = config.getSecret("statusToken");
    const access: pulumi.Output<HostAccess> = pulumi.all([privateKey, databasePassword, statusToken]).apply(([key, password, token]) => ({
        ssh: { ...settings.ssh, privateKey: key },
        database: { ...settings.database, password },
        liveDir: settings.liveDir,
        mastodonUser: settings.mastodonUser,
        ...(token ? { statusToken: token } : {}),
    }));

    const now = new Date();
    const { facts, originalVhost } = await probeHost(await reveal(access), settings);

    const skip = checkTransition(facts.currentStage, settings.stage);
    if (skip) throw new ClosureError(`stage: ${skip}`);
    // Parking on Cloudflare: the zone is read (in preview too) through a provider holding the token.
    const provider = settings.cloudflare && needsZone(settings, facts) ? new cloudflare.Provider("cloudflare", { apiToken: config.requireSecret("cloudflareApiToken") }) : undefined;
    const zone = settings.cloudflare && provider ? await readZone(settings.cloudflare, { provider }) : undefined;
    const gates = evaluateGates(settings.stage, facts, settings, now, zone);
    for (const g of gates.results) pulumi.log.info(`gate ${g.gate}: ${g.ok ? "holds" : "does not hold"} (${g.figure})`);
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
    for (const kept of closure.keptOneWay) pulumi.log.warn(`one-way step kept although the stage moved back: ${kept}`);

    const spec = STAGE_TABLE[settings.stage];
    const outputs: Record<string, unknown> = {
        stage: settings.stage,
        stageSummary: spec.summary,
        hostWasAt: facts.currentStage,
        mastodonVersion: facts.mastodonVersion,
        front: spec.front,
        gates: gates.results,
        database: facts.database ?? "stopped (dormant)",
        next: nextStageNeeds(settings.stage),
        keptOneWay: closure.keptOneWay,
        manualSteps: closure.plan.manual,
        edge: closure.edge?.summary,
        hostMayBeTurnedOff: closure.edge?.hostMayBeTurnedOff,
        announcementId: closure.notice?.announcementId,
        reminderDates: closure.notice?.reminderDates,
        archivesRequested: closure.archives?.requested,
        selfDestructEnabledAt: closure.selfDestruct?.enabledAt,
        databaseDump: closure.dump?.manifest,
        stoppedServices: closure.services?.units,
    };
    // Only what this stage has: an undefined output is a warning in every run.
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
}
