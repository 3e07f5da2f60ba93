// Runs one job of a workflow in .github/workflows as GitHub Actions would, on this machine: its `run` steps
// in order (bash -eo pipefail, the workflow's, job's and step's env with their ${{ }} expressions resolved
// from the given secrets, vars and event, $GITHUB_OUTPUT read back into steps.<id>.outputs, `if:` honoured).
// The set-up steps (checkout, setup-node, pulumi/actions, npm ci) are what scripts/setup.sh already did here:
// they are listed and skipped. Expressions the runner does not know fail the run, so a workflow cannot use
// more than this checks.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";

export interface JobContext {
    /** The checkout: the scripts run there. */
    cwd: string;
    secrets: Record<string, string>;
    vars: Record<string, string>;
    /** The `github` context: repository, token, event ... */
    github: Record<string, unknown>;
    /** The runner's own environment (PATH, the fake gh's state). */
    env: Record<string, string>;
}

export interface StepRun {
    name: string;
    outcome: "success" | "failure" | "skipped";
    output: string;
}

export interface JobRun {
    ok: boolean;
    steps: StepRun[];
    /** Everything the steps printed, in order. */
    log: string;
    summary: string;
}

/** Set-up steps the test machine has done already (scripts/setup.sh). */
const SET_UP = [/^actions\/checkout@/, /^actions\/setup-node@/, /^pulumi\/actions@/];
const NPM_CI = /^npm ci\b/;

type Step = { name?: string; id?: string; uses?: string; run?: string; if?: string; env?: Record<string, string> };

export function readWorkflow(file: string): any {
    return load(readFileSync(file, "utf8"));
}

export async function runJob(workflowFile: string, jobName: string, ctx: JobContext): Promise<JobRun> {
    const workflow = readWorkflow(workflowFile);
    const job = workflow.jobs[jobName];
    if (!job) throw new Error(`${workflowFile} has no job ${jobName}`);
    const temp = mkdtempSync(join(tmpdir(), "job-"));
    const summaryFile = join(temp, "summary.md");
    writeFileSync(summaryFile, "");
    const steps: Record<string, { outputs: Record<string, string> }> = {};
    const contexts = () => ({ secrets: ctx.secrets, vars: ctx.vars, github: ctx.github, steps });
    const run: JobRun = { ok: true, steps: [], log: "", summary: "" };
    if (job.if && !evaluate(job.if, contexts())) throw new Error(`job ${jobName} would not run: if: ${job.if}`);
    const workflowEnv = resolveEnv(workflow.env, contexts());
    const jobEnv = resolveEnv(job.env, contexts());

    for (const [i, step] of (job.steps as Step[]).entries()) {
        const name = step.name ?? step.uses ?? step.run ?? `step ${i}`;
        if (step.uses || NPM_CI.test(step.run ?? "")) {
            if (step.uses && !SET_UP.some((s) => s.test(step.uses!)))
                throw new Error(`step ${name}: action ${step.uses} is not a set-up step this runner knows`);
            run.steps.push({ name, outcome: "skipped", output: "set up by scripts/setup.sh" });
            continue;
        }
        if (!condition(step.if, run.ok, contexts())) {
            run.steps.push({ name, outcome: "skipped", output: `if: ${step.if}` });
            continue;
        }
        const outputFile = join(temp, `output-${i}`);
        writeFileSync(outputFile, "");
        const script = join(temp, `step-${i}.sh`);
        writeFileSync(script, interpolate(step.run!, contexts()));
        const env = {
            ...ctx.env,
            ...workflowEnv,
            ...jobEnv,
            ...resolveEnv(step.env, contexts()),
            CI: "true",
            GITHUB_ACTIONS: "true",
            GITHUB_OUTPUT: outputFile,
            GITHUB_STEP_SUMMARY: summaryFile,
            GITHUB_REPOSITORY: String(ctx.github.repository),
            GITHUB_RUN_ID: String(ctx.github.run_id ?? "1"),
            GITHUB_SERVER_URL: "https://github.com",
            RUNNER_TEMP: temp,
        };
        const { code, output } = await bash(script, ctx.cwd, env);
        run.log += `\n$ ${step.run!.trim()}\n${output}`;
        const outputs = Object.fromEntries(
            readFileSync(outputFile, "utf8")
                .split("\n")
                .filter((l) => l.includes("="))
                .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        if (step.id) steps[step.id] = { outputs };
        run.steps.push({ name, outcome: code === 0 ? "success" : "failure", output });
        if (code !== 0) run.ok = false;
    }
    run.summary = readFileSync(summaryFile, "utf8");
    return run;
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { cwd, env });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, output }));
    });
}

function resolveEnv(env: Record<string, string> | undefined, contexts: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, interpolate(String(v), contexts)]));
}

function interpolate(text: string, contexts: Record<string, unknown>): string {
    return text.replace(/\$\{\{(.*?)\}\}/g, (_m, expr: string) => String(evaluate(expr, contexts) ?? ""));
}

/** A step's `if:`: by default it runs while every earlier step succeeded. */
function condition(expr: string | undefined, ok: boolean, contexts: Record<string, unknown>): boolean {
    if (expr === undefined) return ok;
    const e = expr.replace(/^\s*\$\{\{(.*)\}\}\s*$/, "$1").trim();
    if (e === "always()" || e === "!cancelled()") return true;
    if (e === "success()") return ok;
    if (e === "failure()") return !ok;
    return ok && Boolean(evaluate(e, contexts));
}

/** The expressions the workflows use: context paths, string literals, `a || b`, `a == b`. */
function evaluate(expr: string, contexts: Record<string, unknown>): unknown {
    const e = expr.replace(/^\s*\$\{\{(.*)\}\}\s*$/, "$1").trim();
    if (e.includes("||"))
        return (
            e
                .split("||")
                .map((part) => evaluate(part, contexts))
                .find(Boolean) ?? ""
        );
    if (e.includes("==")) {
        const [a, b] = e.split("==").map((part) => evaluate(part, contexts));
        return a === b;
    }
    const literal = /^'(.*)'$/.exec(e);
    if (literal) return literal[1];
    if (!/^[a-z_]+(\.[A-Za-z0-9_-]+)+$/.test(e)) throw new Error(`expression not known to the test's runner: ${e}`);
    const [root, ...path] = e.split(".");
    if (!(root in contexts)) throw new Error(`context not known to the test's runner: ${root}`);
    return path.reduce<any>((v, key) => (v === undefined || v === null ? undefined : v[key]), contexts[root]);
}
