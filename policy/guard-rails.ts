// What no change to the closure may do, whatever the program says: checked by the engine on the resources a
// preview or up declares, before anything runs (policy pack, enforced). The program refuses these itself;
// the guard rails hold when a change to the program would drop its own check.
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { StepKind } from "../lib/host/steps";
import { STEP_TYPE_PREFIX, stepType } from "../lib/provider/step-types";
import { checkTransition, Stage, STAGE_TABLE, STAGES } from "../lib/rules/stages";

const STACK = "pulumi:pulumi:Stack";
const CLOUDFLARE = "cloudflare:";
const DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord";

/** A property's value, or undefined when it is absent or not known yet (a preview before the step ran).
 *  Policy props throw on unknown values; a guard rail must never fail to run over one. */
export function known(obj: unknown, ...path: string[]): unknown {
    let value = obj;
    for (const key of path) {
        if (value === null || typeof value !== "object") return undefined;
        try {
            value = (value as Record<string, unknown>)[key];
        } catch (err) {
            if (err instanceof Error && /can't be known during preview/.test(err.message)) return undefined;
            throw err;
        }
    }
    return value;
}

const isStage = (v: unknown): v is Stage => typeof v === "string" && (STAGES as readonly string[]).includes(v);
const stepsOf = (resources: PolicyResource[], kind: StepKind) => resources.filter((r) => r.type === stepType(kind));

export const stagesInOrder: StackValidationPolicy = {
    name: "stages-in-order",
    description: "One stage at a time: the stage declared is at most one after the stage the host is at, and the host's journal records that stage.",
    validateStack: ({ resources }, report: ReportViolation) => {
        const stack = resources.find((r) => r.type === STACK);
        const stage = known(stack?.props, "stage");
        const hostWasAt = known(stack?.props, "hostWasAt");
        const journals = stepsOf(resources, "journal");
        if (!isStage(stage) || !isStage(hostWasAt)) {
            for (const j of journals)
                report(
                    `the host's journal is written, but the stack does not say which stage it declares and which the host was at (outputs "stage" and "hostWasAt"): no stage may be recorded unchecked`,
                    j.urn,
                );
            return;
        }
        const skip = checkTransition(hostWasAt, stage);
        if (skip) report(`stage: ${skip}`);
        for (const j of journals) {
            const recorded = known(j.props, "params", "stage");
            if (recorded !== undefined && recorded !== stage)
                report(`the host's journal would record stage "${String(recorded)}" while the stack declares "${stage}"`, j.urn);
        }
    },
};

export const verifiedDumpBeforeStop: StackValidationPolicy = {
    name: "verified-dump-before-services-stop",
    description: "No service stops without a verified dump: the step that stops services takes the dump's manifest (path, sha256) from a verified dump step.",
    validateStack: ({ resources }, report: ReportViolation) => {
        for (const stop of stepsOf(resources, "stopServices")) {
            const units = known(stop.props, "params", "units");
            if (!Array.isArray(units) || units.length === 0) continue; // starting services again needs no dump
            const params = known(stop.props, "params") as Record<string, unknown>; // known: units were read from it
            const feeding = [...(stop.propertyDependencies["params"] ?? []), ...stop.dependencies];
            const dump = feeding.find((r) => r.type === stepType("databaseDump"));
            if (!("dump" in params) || known(params, "dump") === null) {
                report(
                    `stops ${units.join(", ")} without a database dump: the stop must take the manifest of a verified dump (components/services.ts)`,
                    stop.urn,
                );
            } else if (!dump) {
                report(`stops ${units.join(", ")} with a dump that no DatabaseDump step of this stack made and verified`, stop.urn);
            } else if (known(dump.props, "params", "intact") !== true) {
                report(`stops ${units.join(", ")} after a dump that is not checked intact (pg_restore --list, sha256)`, stop.urn);
            }
        }
    },
};

/** What credentials look like, for values that should never be in plain text. */
const CREDENTIAL_SHAPES: [RegExp, string][] = [
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
    [/^SELF_DESTRUCT=\S/m, "a SELF_DESTRUCT value"],
    [/\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i, "a URL with a password"],
];

/** Paths of plain string properties (not declared secret) that look like credentials; never their values. */
export function plainCredentials(props: Record<string, unknown>, secretKeys: string[]): string[] {
    const found: string[] = [];
    const walk = (value: unknown, path: string) => {
        if (typeof value === "string") {
            for (const [shape, what] of CREDENTIAL_SHAPES) if (shape.test(value)) found.push(`${path} holds ${what}`);
        } else if (value !== null && typeof value === "object") {
            for (const key of Object.keys(value)) walk(known(value, key), path ? `${path}.${key}` : key);
        }
    };
    // __provider is the dynamic provider's serialized code, not data.
    for (const key of Object.keys(props)) if (!secretKeys.includes(key) && key !== "__provider") walk(known(props, key), key);
    return found;
}

/** The keys of a host step's access that only a secret fills: the provider reads those from the stack's config. */
const ACCESS_SECRETS = ["privateKey", "password", "statusToken"];

/** Paths of the secrets a host step's access holds; never their values. */
export function secretsInAccess(access: unknown): string[] {
    const found: string[] = [];
    const walk = (value: unknown, path: string) => {
        if (value === null || typeof value !== "object") return;
        for (const key of Object.keys(value)) {
            if (ACCESS_SECRETS.includes(key)) found.push(`${path}.${key}`);
            else walk(known(value, key), `${path}.${key}`);
        }
    };
    walk(access, "access");
    return found;
}

export const noPlainSecrets: ResourceValidationPolicy = {
    name: "no-plain-text-secrets",
    description:
        "No secret is a host step's input: its access holds no SSH key, database password or token (the provider reads them from the stack's config; the engine logs every input in plain text at -v=9); the SELF_DESTRUCT step's result is declared secret; no property holds a credential in plain text.",
    validateResource: ({ type, props, opts }, report: ReportViolation) => {
        const secret = opts.additionalSecretOutputs ?? [];
        if (type.startsWith(STEP_TYPE_PREFIX)) {
            for (const path of secretsInAccess(known(props, "access")))
                report(`${path} is a host step's input, which the engine logs at -v=9: the host steps read their secrets from the stack's config`);
            if (type === stepType("selfDestruct") && !secret.includes("result"))
                report(`"result" (the SELF_DESTRUCT value) is not declared secret: it would be stored in plain text in the state`);
        }
        for (const leak of plainCredentials(props, secret)) report(`${leak} in plain text; make it a Pulumi secret`);
    },
};

export const parkedDnsKept: StackValidationPolicy = {
    name: "parked-dns-kept",
    description:
        'Parked DNS records stay: no Cloudflare resource is `protect`ed, which would make `pulumi destroy` and a move back fail (the closure keeps them with retainOnDelete instead, README "protect or retainOnDelete"), and at parked every address record is proxied to the Worker.',
    validateStack: ({ resources }, report: ReportViolation) => {
        const stage = known(resources.find((r) => r.type === STACK)?.props, "stage");
        for (const r of resources.filter((r) => r.type.startsWith(CLOUDFLARE))) {
            if (r.opts.protect)
                report(
                    `${r.name} is protected: a destroy or a move back would fail until someone unprotects it by hand; the closure keeps Cloudflare resources with retainOnDelete`,
                    r.urn,
                );
            if (!(isStage(stage) && STAGE_TABLE[stage].parkAtEdge) || r.type !== DNS_RECORD) continue;
            const recordType = known(r.props, "type");
            if (["A", "AAAA", "CNAME"].includes(String(recordType)) && known(r.props, "proxied") === false) {
                report(
                    `${String(recordType)} ${String(known(r.props, "name"))} is not proxied: visitors would reach ${String(known(r.props, "content"))} instead of the Worker's 410`,
                    r.urn,
                );
            }
        }
    },
};

export const GUARD_RAILS = [stagesInOrder, verifiedDumpBeforeStop, noPlainSecrets, parkedDnsKept];
