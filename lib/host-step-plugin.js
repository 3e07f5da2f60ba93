// What the engine's Node.js dynamic-provider plugin loads for every host step (the `__provider` of each
// HostStep names this file, relative to the project directory, the plugin's working directory). The steps
// are TypeScript, loaded as the program loads its own (./load-typescript.cjs).
"use strict";
require("./load-typescript.cjs");

exports.handler = () => require("./provider/handler").hostStepHandler;
// The stack's closure id (./provider/closure-id.ts), on the same plugin.
exports.closureId = () => require("./provider/closure-id").closureIdHandler;
