// Unit tests of lib/node-preload.cjs: @pulumi/pulumi starts without TypeScript and @npmcli/arborist, and its
// closure serializer, when something does call it, still works with the real modules.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { NODE_PRELOAD, PROJECT_ROOT } from "../bin/sandbox-stack";

/** Runs `script` in a fresh Node.js process in the project, with or without the preload; its stdout as JSON. */
function inNode(script: string, preload: boolean): Record<string, unknown> {
    const args = [...(preload ? ["--require", NODE_PRELOAD] : []), "-e", script];
    return JSON.parse(execFileSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
}

const LOADED = `const loaded = () => ["typescript", "@npmcli/arborist"].filter((m) => Object.keys(require.cache).some((k) => k.includes("/node_modules/" + m + "/")));`;

test("with the preload, @pulumi/pulumi starts without TypeScript or @npmcli/arborist; without it, it loads both", () => {
    const script = `${LOADED} require("@pulumi/pulumi"); console.log(JSON.stringify({ loaded: loaded() }));`;
    assert.deepEqual(inNode(script, true), { loaded: [] });
    assert.deepEqual(inNode(script, false), { loaded: ["typescript", "@npmcli/arborist"] });
});

test("the closure serializer, called anyway, loads the real TypeScript and serializes as it does without the preload", () => {
    const script =
        `${LOADED} const pulumi = require("@pulumi/pulumi"); const answer = 42;` +
        `pulumi.runtime.serializeFunction(() => answer).then((s) => console.log(JSON.stringify({ text: s.text, loaded: loaded() })));`;
    const deferred = inNode(script, true);
    assert.equal(deferred.text, inNode(script, false).text, "the same serialized text as without the preload");
    assert.match(String(deferred.text), /answer: 42/, `serialized: ${deferred.text}`);
    assert.ok((deferred.loaded as string[]).includes("typescript"), `loaded once the serializer ran: ${deferred.loaded}`);
});

test("other modules asking for TypeScript get the real module at once", () => {
    const script = `const ts = require("typescript"); require("@pulumi/pulumi"); console.log(JSON.stringify({ version: ts.version, real: require.cache[require.resolve("typescript")].exports === ts }));`;
    const r = inNode(script, true);
    assert.deepEqual(r, { version: require("typescript").version, real: true });
});
