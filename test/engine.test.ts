// The engine the project builds (scripts/engine.sh): the CLI at the version of @pulumi/pulumi in the
// lockfile, and the Node.js language host it runs programs with, Pulumi.yaml's runtime options reaching it.
// If a new CLI stops accepting the pinned language host, this fails first, with what the CLI said.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { CommandResult, PROJECT_ROOT, runPulumi, sandboxEnv } from "../bin/sandbox-stack";

const lockVersion = JSON.parse(readFileSync(join(PROJECT_ROOT, "package-lock.json"), "utf8")).packages["node_modules/@pulumi/pulumi"].version;
mkdirSync(join(PROJECT_ROOT, ".state"), { recursive: true });

/** A project of its own under .state with these files and this project's node_modules, a file:// backend of
 *  its own and a stack `check`: what runs the CLI there, as sandboxEnv sets it up. */
async function projectOf(files: Record<string, string>): Promise<(args: string[]) => Promise<CommandResult>> {
    const dir = mkdtempSync(join(PROJECT_ROOT, ".state", "engine-test-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"));
    mkdirSync(join(dir, "state"));
    const env = { ...sandboxEnv(), PULUMI_BACKEND_URL: `file://${join(dir, "state")}` };
    const run = (args: string[]) => runPulumi([...args, "--non-interactive"], env, { cwd: dir });
    const init = await run(["stack", "init", "check"]);
    assert.equal(init.code, 0, init.output);
    return run;
}

test("the pulumi CLI on PATH is the lockfile's version", async () => {
    const r = await runPulumi(["version"], sandboxEnv());
    assert.equal(r.output.trim(), `v${lockVersion}`, `pulumi version printed: ${r.output}`);
});

test("the CLI runs a TypeScript program through the pinned language host, with no warning", async () => {
    const run = await projectOf({
        "Pulumi.yaml": "name: engine-check\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
        "package.json": JSON.stringify({ name: "engine-check", private: true }),
        "index.ts":
            'import * as pulumi from "@pulumi/pulumi";\n' +
            "class Check extends pulumi.ComponentResource {\n" +
            '    constructor(name: string) { super("engine:check:Check", name, {}); this.registerOutputs({}); }\n}\n' +
            'new Check("check");\nconst typed: string = "language host ok";\nexport const answer = typed;\n' +
            // What sandboxEnv preloads (lib/node-preload.cjs) reaches the program through the CLI and the language host.
            'export const arboristLoaded = Object.keys(require.cache).some((k) => k.includes("/@npmcli/arborist/"));\n',
    });
    const up = await run(["up", "--yes"]);
    assert.equal(up.code, 0, `pulumi up of a two-resource TypeScript program failed:\n${up.output}`);
    assert.match(up.output, /\+ 2 created/, up.output);
    assert.doesNotMatch(up.output, /from \$PATH|warning/i, "the language host is found next to the CLI, with no warning");
    const out = await run(["stack", "output", "answer"]);
    assert.equal(out.output.trim(), "language host ok");
    const arborist = await run(["stack", "output", "arboristLoaded"]);
    assert.equal(arborist.output.trim(), "false", "the preload deferred @npmcli/arborist in the program");
});

test("the project's runtime options reach the pinned language host (engine/language-host/runtime-options)", async () => {
    // The CLI sends them over gRPC, which the v3.68.0 host ignores; the wrapper hands them over as its flags.
    const run = await projectOf({
        "Pulumi.yaml": "name: engine-options\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: --max-old-space-size=1234\n",
        "package.json": JSON.stringify({ name: "engine-options", private: true }),
        "index.js":
            "exports.typescriptLoaded = Object.keys(require.cache).some((k) => /\\/typescript\\/lib\\/typescript\\.js$|\\/ts-node/.test(k));\n" +
            "exports.nodeArgs = process.execArgv.join(' ');\n",
    });
    const up = await run(["up", "--yes"]);
    assert.equal(up.code, 0, `pulumi up of a JavaScript program failed:\n${up.output}`);
    const out = JSON.parse((await run(["stack", "output", "--json"])).output);
    assert.equal(out.typescriptLoaded, false, "typescript: false: neither ts-node nor TypeScript loaded in the program");
    assert.match(out.nodeArgs, /--max-old-space-size=1234/, `nodeargs reached node: ${out.nodeArgs}`);
});
