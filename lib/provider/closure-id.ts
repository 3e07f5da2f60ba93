// The stack's closure id (README: One closure per host): made once, at the stack's first `up`, by the
// dynamic-provider plugin, and kept in the stack's state as this resource's output, the one place a program
// can keep a value of its own. So the same stack run from any checkout of its backend (a colleague's laptop,
// the pipeline) is the same closure, while a copied config on a new stack, or the stack made again on a fresh
// backend, is another one. It touches no host; `pulumi refresh` keeps it; only the stack's state losing it
// (`pulumi destroy`, `pulumi stack rm`) makes the next one new.
import * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "node:crypto";
import { relative } from "node:path";
import { hostStepProvider } from "./provider";

/** Recorded in the state: renaming it would make a new id. Not a host step's type (it has no access). */
export const CLOSURE_ID_TYPE = "pulumi-nodejs:dynamic/stack:ClosureId";

/** What the plugin runs for the closure id: it is made at create, and never changes. */
export const closureIdHandler: pulumi.dynamic.ResourceProvider = {
    async create() {
        const closureId = randomUUID();
        return { id: closureId, outs: { closureId } };
    },
    async diff() {
        return { changes: false };
    },
    async read(id: string, props: { closureId: string }) {
        return { id, props };
    },
};

/** The `__provider` of the closure id: lib/host-step-plugin.js, loaded from the project directory. */
function pluginLoader(): string {
    const plugin = relative(process.cwd(), `${__dirname}/../host-step-plugin.js`);
    return `exports.handler = () => require(require("node:path").resolve(${JSON.stringify(plugin)})).closureId();`;
}

export class ClosureId extends pulumi.CustomResource {
    declare readonly closureId: pulumi.Output<string>;

    constructor(name: string) {
        super(CLOSURE_ID_TYPE, name, { closureId: undefined, __provider: pluginLoader() }, { provider: hostStepProvider() });
    }
}
