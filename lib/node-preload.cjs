// Preloaded (NODE_OPTIONS="--require <this file>", bin/sandbox-stack.ts sandboxEnv) into the Node.js processes
// a `pulumi` run starts: the program and the dynamic-provider plugin. @pulumi/pulumi loads TypeScript and
// @npmcli/arborist as it starts, for its closure serializer (serializeFunction, computeCodePaths), which the
// closure never calls: its host steps are loaded by path (host-step-plugin.js). Both take about 0.6 s of CPU
// in each process, a fifth of a preview's. Here they load on first use instead: what @pulumi/pulumi requires of
// them is a stand-in that loads the real module the first time anything of it is read, so a serializer that
// does run gets the real thing. Nothing else changes: other modules (ts-node, which loads TypeScript for the
// program) get the real module as before.
"use strict";
const Module = require("node:module");
const { sep } = require("node:path");

const DEFERRED = new Set(["typescript", "@npmcli/arborist"]);
const PULUMI_SDK = `${sep}node_modules${sep}@pulumi${sep}pulumi${sep}`;
const load = Module._load;

/** Whether `request` resolves from `parent`: one that does not is left to fail as it would (typescript-shim.js
 *  then falls back to the TypeScript @pulumi/pulumi vendors). */
function resolves(request, parent) {
    try {
        Module._resolveFilename(request, parent);
        return true;
    } catch {
        return false;
    }
}

Module._load = function (request, parent, isMain) {
    if (!DEFERRED.has(request) || !parent?.filename?.includes(PULUMI_SDK) || !resolves(request, parent)) return load.apply(this, arguments);
    let real;
    const module = () => (real ??= load.call(this, request, parent, isMain));
    // __esModule: TypeScript's __importStar then uses the stand-in as it is instead of copying every key.
    return new Proxy(
        {},
        {
            get: (_, key) => (key === "__esModule" ? true : Reflect.get(module(), key)),
            has: (_, key) => Reflect.has(module(), key),
            ownKeys: () => Reflect.ownKeys(module()),
            getOwnPropertyDescriptor: (_, key) => {
                const d = Reflect.getOwnPropertyDescriptor(module(), key);
                return d && { ...d, configurable: true };
            },
        },
    );
};
