// One Pulumi resource per host step (lib/host-steps.ts): create and update run the step's `apply`,
// delete runs its `undo`. A dynamic provider, so it needs no plugin download: the Node.js dynamic
// provider ships with every Pulumi install.
import * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "node:crypto";
import { HostAccess, STEPS, StepKind } from "./host-steps";
import { hostStepProvider } from "./host-step-provider";
import { RemoteHost } from "./ssh";

type StepOf<K extends StepKind> = (typeof STEPS)[K];
export type StepParams<K extends StepKind> = Parameters<StepOf<K>["apply"]>[2];
export type StepResult<K extends StepKind> = Awaited<ReturnType<StepOf<K>["apply"]>>;

interface StepState {
    kind: StepKind;
    access: HostAccess;
    params: unknown;
    result?: unknown;
}

/** JSON with sorted keys: state round-trips through the engine, which does not keep key order. */
function canonical(value: unknown): string {
    return JSON.stringify(value, (_k, v) =>
        v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
    );
}

const provider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: StepState, news: StepState) {
        const changes = canonical(olds.params) !== canonical(news.params) || canonical(olds.access) !== canonical(news.access);
        return { changes };
    },
    async create(inputs: StepState) {
        const step = STEPS[inputs.kind] as { apply(h: RemoteHost, a: HostAccess, p: unknown): Promise<unknown> };
        const result = await RemoteHost.with(inputs.access.ssh, (host) => step.apply(host, inputs.access, inputs.params));
        return { id: randomUUID(), outs: { ...inputs, result } };
    },
    async update(_id: string, olds: StepState, news: StepState) {
        // Only the way in changed (a rotated key, a new address): record it, the host stays as it is.
        if (canonical(olds.params) === canonical(news.params)) return { outs: { ...news, result: olds.result } };
        const step = STEPS[news.kind] as { apply(h: RemoteHost, a: HostAccess, p: unknown, prev: unknown): Promise<unknown> };
        const result = await RemoteHost.with(news.access.ssh, (host) => step.apply(host, news.access, news.params, olds.result));
        return { outs: { ...news, result } };
    },
    async delete(_id: string, props: StepState) {
        const step = STEPS[props.kind] as { undo(h: RemoteHost, a: HostAccess, p: unknown, o: unknown): Promise<void> };
        await RemoteHost.with(props.access.ssh, (host) => step.undo(host, props.access, props.params, props.result));
    },
};

export interface HostStepArgs<K extends StepKind> {
    /** How to reach the host; stored as a secret. */
    access: pulumi.Input<HostAccess>;
    params: pulumi.Input<StepParams<K>>;
}

/** Type names shown in preview, e.g. `pulumi-nodejs:dynamic/closure:NginxSite`. */
const TYPE_NAMES: Record<StepKind, string> = {
    nginxSite: "NginxSite",
    closeRegistrations: "Registrations",
    announcement: "Announcement",
    publicStatus: "PublicStatus",
    requestArchives: "ArchiveRequests",
    selfDestruct: "SelfDestructMode",
    databaseDump: "DatabaseDump",
    stopServices: "StoppedServices",
    journal: "StageJournal",
};

export class HostStep<K extends StepKind> extends pulumi.dynamic.Resource {
    /** What the step did (ids, counts, previous states, the dump manifest). */
    declare readonly result: pulumi.Output<StepResult<K>>;

    constructor(kind: K, name: string, args: HostStepArgs<K>, opts: pulumi.CustomResourceOptions & { secretResult?: boolean } = {}) {
        const { secretResult, ...resourceOpts } = opts;
        super(
            provider,
            name,
            { kind, access: pulumi.secret(args.access), params: args.params, result: undefined },
            { ...resourceOpts, provider: hostStepProvider(), additionalSecretOutputs: ["access", ...(secretResult ? ["result"] : [])] },
            "closure",
            TYPE_NAMES[kind],
        );
    }
}
