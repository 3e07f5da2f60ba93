// What the engine's Node.js dynamic-provider plugin loads for every host step (the `__provider` of each
// HostStep names this file, relative to the project directory, the plugin's working directory). The steps
// are TypeScript: sucrase strips the types as they load (a fifth of the time TypeScript's own transpiler takes
// for them, which this process would have to load first); the program's own run and `npm run build` type-check them.
"use strict";
require("sucrase/dist/register").addHook(".ts", { transforms: ["typescript", "imports"], disableESTransforms: true });

exports.handler = () => require("./provider/handler").hostStepHandler;
// The stack's closure id (./provider/closure-id.ts), on the same plugin.
exports.closureId = () => require("./provider/closure-id").closureIdHandler;
