// One formatter: every TypeScript and JavaScript file of the project is as Prettier writes it
// (.prettierrc.json, .prettierignore). `npm run format` rewrites them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");

test("every source file is formatted as Prettier writes it", () => {
    const prettier = resolve(ROOT, "node_modules", ".bin", "prettier");
    let output = "";
    try {
        execFileSync(prettier, ["--list-different", "."], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
        const err = e as { status?: number; stdout?: string; stderr?: string };
        output = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim() || `prettier exited ${err.status}`;
    }
    assert.equal(output, "", `not formatted (run npm run format):\n${output}`);
});
