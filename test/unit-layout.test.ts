// The house rules of the source tree (CONTRIBUTING.md), checked on the files themselves: imports run one
// way between the folders of lib/, no module cycle, no file in lib/ over 300 lines, and no module but the
// stage table deciding anything by a stage's name.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(__dirname, "..", "..");

/** Each area and the areas it may import, lowest first (its own area is always allowed). */
const MAY_IMPORT: Record<string, readonly string[]> = {
    "lib/mastodon": [],
    "lib/gone": ["lib/mastodon"],
    "lib/edge": ["lib/gone", "lib/mastodon"],
    "lib/rules": ["lib/edge", "lib/gone", "lib/mastodon"],
    "lib/host": ["lib/rules", "lib/edge", "lib/gone", "lib/mastodon"],
    "lib/provider": ["lib/host", "lib/rules", "lib/edge", "lib/gone", "lib/mastodon"],
    components: ["lib/provider", "lib/host", "lib/rules", "lib/edge", "lib/gone", "lib/mastodon"],
    policy: ["lib/provider", "lib/host", "lib/rules"],
};

function sources(dir: string): string[] {
    return readdirSync(join(ROOT, dir)).flatMap((name) => {
        const path = join(dir, name);
        if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
        return /\.(ts|js)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
    });
}

const LIB = sources("lib");
const CHECKED = [...LIB, ...sources("components"), ...sources("policy").filter((f) => !f.includes("node_modules")), "program.ts", "index.js"];

function areaOf(file: string): string | undefined {
    return Object.keys(MAY_IMPORT).find((area) => file === area || file.startsWith(`${area}/`));
}

/** The project files a source imports (relative imports, resolved to their .ts or .js file). */
function importsOf(file: string): string[] {
    const text = readFileSync(join(ROOT, file), "utf8");
    const specs = [...text.matchAll(/(?:from|import\(|require\()\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
    return specs.map((spec) => {
        const base = relative(ROOT, resolve(ROOT, dirname(file), spec));
        const found = [`${base}.ts`, `${base}.js`, base, `${base}/index.ts`].find((c) => {
            try {
                return statSync(join(ROOT, c)).isFile();
            } catch {
                return false;
            }
        });
        assert.ok(found, `${file} imports "${spec}", which is not a file of the project`);
        return found;
    });
}

test("imports run one way: no area of lib/ imports an area above it", () => {
    const upward: string[] = [];
    for (const file of CHECKED) {
        const from = areaOf(file);
        if (!from) continue;
        for (const target of importsOf(file)) {
            const to = areaOf(target);
            if (to && to !== from && !MAY_IMPORT[from].includes(to)) upward.push(`${file} -> ${target}`);
            if (!to && target !== "lib/host-step-plugin.js") upward.push(`${file} -> ${target} (outside lib/)`);
        }
    }
    assert.deepEqual(upward, [], `imports that run back up:\n${upward.join("\n")}`);
});

test("no import cycle between the modules of lib/, components/ and the program", () => {
    const graph = new Map(CHECKED.map((f) => [f, importsOf(f)]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]) => {
        if (state.get(file) === "done") return;
        if (state.get(file) === "open") return void cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        state.set(file, "open");
        for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
        state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, [], `cycles:\n${cycles.join("\n")}`);
});

test("no file in lib/ is over 300 lines", () => {
    const long = LIB.map((f) => [f, readFileSync(join(ROOT, f), "utf8").split("\n").length - 1] as const).filter(([, n]) => n > 300);
    assert.deepEqual(long, [], `files over 300 lines: ${long.map(([f, n]) => `${f} (${n})`).join(", ")}`);
});

/** An edge's own mode (EdgeMode in lib/edge/edge.ts: "parked" | "restored"), written as a mode: there "parked"
 *  says the edge answers 410 for the domain, not the stage of that name. lib/edge never sees a stage (it may
 *  not import lib/rules; the rules tell an edge only whether to park), so its mode word is let through in
 *  lib/edge only, and only as a mode; every other stage name there, and "parked" anywhere else, is flagged. */
const EDGE_MODE = /"parked"\s*\|\s*"restored"|\bmode\s*(:|===)\s*"parked"/g;

test("only the stage table decides by a stage's name", () => {
    const STAGE_NAME = /"(operating|announced|closed|self-destructing|dormant|parked)"|reachedAt\s*(\.\s*[a-z]|\[\s*")/;
    const found: string[] = [];
    for (const file of CHECKED.filter((f) => f !== "lib/rules/stages.ts")) {
        readFileSync(join(ROOT, file), "utf8")
            .split("\n")
            .forEach((line, i) => {
                const uncommented = line.replace(/\/\/.*$/, "").replace(/^\s*\*.*$/, "");
                const code = file.startsWith("lib/edge/") ? uncommented.replace(EDGE_MODE, "") : uncommented;
                if (STAGE_NAME.test(code)) found.push(`${file}:${i + 1}: ${line.trim()}`);
            });
    }
    assert.deepEqual(found, [], `stage names outside lib/rules/stages.ts:\n${found.join("\n")}`);
});
