// How the program (index.js) and the host-step plugin (host-step-plugin.js) load the project's TypeScript:
// sucrase strips the types as each .ts module loads, and what it made is kept by the hash of the source
// (node_modules/.cache/mastodon-closure), so a run loads sucrase only for a module changed since the last.
// Sucrase keeps every line where it was, so stack traces name the right .ts lines without a source map, and
// none is made. Types are checked by `npm run build` (tsc), which CI runs, not at every `pulumi preview`:
// ts-node loading TypeScript for it, and sucrase for every module, cost a seventh of a preview's CPU.
"use strict";
const { createHash } = require("node:crypto");
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const { addHook } = require("pirates");

const CACHE = join(__dirname, "..", "node_modules", ".cache", "mastodon-closure");
const OPTIONS = { transforms: ["typescript", "imports"], disableESTransforms: true };
/** What the output depends on besides the source: the options and sucrase's version. */
const SALT = JSON.stringify(OPTIONS) + require("sucrase/package.json").version;

addHook(
    (code, filePath) => {
        const kept = join(CACHE, `${createHash("sha256").update(SALT).update(code).digest("hex")}.js`);
        try {
            return readFileSync(kept, "utf8");
        } catch {
            const js = require("sucrase").transform(code, { ...OPTIONS, filePath }).code;
            try {
                mkdirSync(CACHE, { recursive: true });
                const part = `${kept}.${process.pid}`;
                writeFileSync(part, js);
                renameSync(part, kept); // whole or not at all, whoever else writes it meanwhile
            } catch {
                // A read-only checkout: nothing kept, the next run strips the types again.
            }
            return js;
        }
    },
    { exts: [".ts"] },
);
