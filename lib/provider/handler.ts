// What the engine's Node.js dynamic-provider plugin runs for every host step (lib/host/steps/; their
// resources are declared in lib/provider/host-step.ts): create and update run the step's `apply`, read
// (pulumi refresh, preview --refresh) its `read`, delete its `undo` (./run-steps.ts). The plugin loads this
// module from the project directory (host-step-plugin.js), so it is never serialized into the state.
//
// A diff compares the step's params and way in, and needs nothing else: the steps, SSH and PostgreSQL are
// loaded at the first create, read, update or delete, so the plugin of a preview, which only diffs, starts in
// a third of the time.
import type * as pulumi from "@pulumi/pulumi";
import type { StepState } from "./step-state";
import { canonical } from "./step-state";

let loaded: typeof import("./run-steps") | undefined;
const steps = () => (loaded ??= require("./run-steps") as typeof import("./run-steps"));

export const hostStepHandler: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: StepState, news: StepState) {
        return { changes: canonical(olds.params) !== canonical(news.params) || canonical(olds.access) !== canonical(news.access) };
    },
    create: (inputs: StepState) => steps().create(inputs),
    read: (id: string, props: StepState) => steps().read(id, props),
    update: (_id: string, olds: StepState, news: StepState) => steps().update(olds, news),
    delete: (_id: string, props: StepState) => steps().undo(props),
};
