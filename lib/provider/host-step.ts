// One Pulumi resource per host step (lib/host/steps/), run by the Node.js dynamic-provider plugin that
// ships with every Pulumi install, so it needs no plugin download. What the plugin runs for each step is
// lib/provider/handler.ts.
//
// A dynamic resource's `__provider` is the module the plugin loads; `pulumi.dynamic.Resource` fills it with
// the provider's code serialized by value (every module it reaches, 85 KB in each resource's inputs and
// outputs, and half a second of closure serialization in every run). Here it is a one-line loader of
// lib/host-step-plugin.js, by a path relative to the project directory: a checkout that moves keeps working,
// and a step is always read and undone by the code of the checkout that runs it.
import * as pulumi from "@pulumi/pulumi";
import { relative } from "node:path";
import { StepAccess } from "../host/access";
import type { OwnerClaim } from "../rules/owner";
import { STEPS, StepKind } from "../host/steps";
import { isKnown } from "./known";
import { hostStepProvider } from "./provider";
import { stepType } from "./step-types";

type StepOf<K extends StepKind> = (typeof STEPS)[K];
export type StepParams<K extends StepKind> = Parameters<StepOf<K>["apply"]>[2];
export type StepResult<K extends StepKind> = Awaited<ReturnType<StepOf<K>["apply"]>>;

/** Params whose fields may be outputs of other steps (known or not in a preview). */
type ParamsInput<P> = pulumi.Input<{ [F in keyof P]: pulumi.Input<P[F]> }>;

export interface HostStepArgs<K extends StepKind> {
    /** How to reach the host, without the secrets: the provider reads them from the stack's config. */
    access: StepAccess;
    params: ParamsInput<StepParams<K>>;
    /** What the step does on the host, in words: a plain preview prints it under a step it will create or update. */
    about: string;
}

/** The `__provider` of every step: loads lib/host-step-plugin.js from the project directory. */
function pluginLoader(): string {
    const plugin = relative(process.cwd(), `${__dirname}/../host-step-plugin.js`);
    return `exports.handler = () => require(require("node:path").resolve(${JSON.stringify(plugin)})).handler();`;
}

/** Who this run changes the hosts as (lib/host/lock.ts), given once by the program after its decision. */
let runClaim: pulumi.Input<OwnerClaim> | undefined;

/** Every step declared from now on carries `claim`: its first change locks the closure's hosts and settles
 *  their owner record. Not compared: it never re-applies a step. */
export function claimHostsAs(claim: pulumi.Input<OwnerClaim>): void {
    runClaim = claim;
}

// Exported by @pulumi/pulumi's runtime (runtime/settings.js), missing from its type declarations: holds the
// program open until the returned function is called.
const { rpcKeepAlive } = require("@pulumi/pulumi/runtime/settings") as { rpcKeepAlive(): () => void };

export class HostStep<K extends StepKind> extends pulumi.CustomResource {
    /** What the step did (ids, counts, previous states, the dump manifest). */
    declare readonly result: pulumi.Output<StepResult<K>>;

    constructor(kind: K, name: string, args: HostStepArgs<K>, opts: pulumi.CustomResourceOptions & { secretResult?: boolean } = {}) {
        const { secretResult, ...resourceOpts } = opts;
        super(
            stepType(kind),
            name,
            { kind, about: args.about, access: args.access, params: args.params, owner: runClaim, result: undefined, __provider: pluginLoader() },
            { ...resourceOpts, provider: hostStepProvider(), ...(secretResult ? { additionalSecretOutputs: ["result"] } : {}) },
        );
        // A plain preview (no --diff) says in words what each step that changes will do on the host, one line
        // under the step: in a preview the engine hands back a step's result unknown exactly when it will create
        // or update the step (the dynamic provider does not preview), and known, from the state, when it stays.
        if (pulumi.runtime.isDryRun()) {
            const release = rpcKeepAlive();
            isKnown(this.result)
                .then((known) => (known ? undefined : pulumi.log.info(args.about, this)))
                .catch(() => undefined) // a failed registration is reported by the engine
                .finally(release);
        }
    }
}
