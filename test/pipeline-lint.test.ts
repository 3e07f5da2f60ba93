// The pipeline's files as GitHub and bash will read them: actionlint on .github/workflows (expressions,
// contexts, events, and each `run:` step through shellcheck), shellcheck on the scripts they call.
// Both are installed by scripts/setup.sh (actionlint v1.7.12 from the Go module proxy, shellcheck from Debian).
// And no verbose or debug logging anywhere in them: the engine's verbose log holds secrets.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
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

/** What turns on logging that prints secrets (README "Secrets and logs"): flags of a pulumi command, and the
 *  variables that make the engine or a Terraform-bridged provider log what it is given. */
const VERBOSE_FLAGS = /(^|\s)(-v\b|-v=|--verbose\b|--debug\b|--logflow\b|--logtostderr\b)/;
const VERBOSE_VARIABLES = /\b(TF_LOG\w*|PULUMI_DEBUG_GRPC)\b/;

/** The lines of the pipeline's files that turn on verbose logging, as "file:line: text"; comments aside. */
function verboseLines(files: { name: string; text: string }[]): string[] {
    return files.flatMap(({ name, text }) =>
        text
            .split("\n")
            .map((line, i) => ({ line, at: `${name}:${i + 1}` }))
            .filter(({ line }) => !line.trim().startsWith("#"))
            .filter(({ line }) => VERBOSE_VARIABLES.test(line) || (/\b(run_)?pulumi\s/.test(line) && VERBOSE_FLAGS.test(line)))
            .map(({ line, at }) => `${at}: ${line.trim()}`),
    );
}

test("the pipeline never turns on verbose or debug logging: no -v, --debug, --logtostderr, TF_LOG or PULUMI_DEBUG_GRPC", () => {
    const pipeline = [...WORKFLOWS, ...files("scripts/pipeline", /\.sh$/)].map((name) => ({ name, text: readFileSync(join(PROJECT_ROOT, name), "utf8") }));
    assert.deepEqual(verboseLines(pipeline), []);
    // Not blind: each way in is found, comments are not.
    const broken = [
        'run_pulumi "$REPORTS/up.txt" up --yes -v=9 --logtostderr',
        "  pulumi preview --debug --stack closing",
        "      TF_LOG: DEBUG",
        "export PULUMI_DEBUG_GRPC=/tmp/grpc.log",
        "# never pulumi up -v=9",
        "grep -v x file",
    ].join("\n");
    assert.deepEqual(verboseLines([{ name: "broken", text: broken }]), [
        'broken:1: run_pulumi "$REPORTS/up.txt" up --yes -v=9 --logtostderr',
        "broken:2: pulumi preview --debug --stack closing",
        "broken:3: TF_LOG: DEBUG",
        "broken:4: export PULUMI_DEBUG_GRPC=/tmp/grpc.log",
    ]);
});
