// The program `pulumi preview` / `pulumi up` run in this directory (Pulumi.yaml: Node.js, `typescript: false`:
// the modules are TypeScript, loaded by ./lib/load-typescript.cjs rather than ts-node). Exported as a function:
// the runtime calls it inside the stack and awaits it at once, so a refusal is reported once, with no
// late-handled rejection. The host-step provider is declared before the program's modules load, so that its
// plugin starts meanwhile.
// @ts-check
"use strict";
require("./lib/load-typescript.cjs");
const { hostStepProvider } = require("./lib/provider/provider");

module.exports = async () => {
    hostStepProvider();
    const { closureProgram } = require("./program");
    return closureProgram();
};
