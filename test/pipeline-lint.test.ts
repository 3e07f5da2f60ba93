// The pipeline's files as GitHub and bash will read them: actionlint on .github/workflows (expressions,
// contexts, events, and each `run:` step through shellcheck), shellcheck on the scripts they call.
// Both are installed by scripts/setup.sh (actionlint v1.7.12 from the Go module proxy, shellcheck from Debian).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ENGINE_BIN, PROJECT_ROOT } from "../bin/sandbox-stack";

const env = { ...process.env, PATH: `${ENGINE_BIN}:${process.env.PATH}` };
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: PROJECT_ROOT, env, encoding: "utf8" });
const files = (dir: string, pattern: RegExp) =>
    readdirSync(join(PROJECT_ROOT, dir))
        .filter((f) => pattern.test(f))
        .map((f) => join(dir, f));

const WORKFLOWS = files(".github/workflows", /\.ya?ml$/);
const SCRIPTS = [...files("scripts/pipeline", /\.sh$/), ...files("scripts", /\.sh$/), "policy/analyzer"];

test("the workflows are there: preview on pull requests, up on main, drift on a schedule", () => {
    assert.deepEqual(WORKFLOWS.sort(), [".github/workflows/drift.yml", ".github/workflows/preview.yml", ".github/workflows/up.yml"]);
});

test("actionlint v1.7.12 passes the workflows, their run steps checked by shellcheck", () => {
    const version = run("actionlint", ["-version"]);
    assert.equal(version.stdout.split("\n")[0], "v1.7.12", `actionlint -version: ${version.stdout}${version.stderr}${version.error ?? ""}`);
    const r = run("actionlint", ["-shellcheck", "shellcheck", "-no-color", ...WORKFLOWS]);
    assert.equal(r.status, 0, `actionlint found problems:\n${r.stdout}${r.stderr}`);
});

test("neither is blind: a workflow with an unknown context property, a script with an unquoted variable are refused", () => {
    const r = spawnSync("actionlint", ["-"], {
        env,
        encoding: "utf8",
        input: "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n",
    });
    assert.equal(r.status, 1, `actionlint accepted a broken workflow:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /property "no_such_thing" is not defined/);
    const sc = spawnSync("shellcheck", ["-"], { env, encoding: "utf8", input: "#!/usr/bin/env bash\nrm -rf $1/cache\n" });
    assert.equal(sc.status, 1, `shellcheck accepted an unquoted variable:\n${sc.stdout}${sc.stderr}`);
    assert.match(sc.stdout, /SC2086/);
});

test("shellcheck passes every script the workflows and the set-up run", () => {
    const r = run("shellcheck", ["--external-sources", "--severity", "style", ...SCRIPTS]);
    assert.equal(r.status, 0, `shellcheck on ${SCRIPTS.join(" ")}:\n${r.stdout}${r.stderr}${r.error ?? ""}`);
    assert.ok(SCRIPTS.length >= 9, `scripts checked: ${SCRIPTS.join(" ")}`);
});
