// What the engine's Node.js dynamic-provider plugin loads for every host step (the `__provider` of each
// HostStep names this file, relative to the project directory, the plugin's working directory). The steps
// are TypeScript: they are transpiled as they load, with the project's own compiler and tsconfig.json, and
// not type-checked here (the program's own run and `npm run build` do that).
"use strict";
const { readFileSync } = require("node:fs");
const { dirname, join } = require("node:path");
const Module = require("node:module");
const ts = require("typescript");

const root = dirname(__dirname);
const tsconfig = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile).config;
const { options } = ts.convertCompilerOptionsFromJson({ ...tsconfig.compilerOptions, sourceMap: false }, root);

Module._extensions[".ts"] ??= (module, file) =>
    module._compile(ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions: options, fileName: file }).outputText, file);

exports.handler = () => require("./host-step-handler").hostStepHandler;
