// A closure stack pointed at a sandbox host, driven with the `pulumi` CLI in the project directory as an
// operator drives theirs: `pulumi stack init`, `pulumi config set [--secret]`, `pulumi preview`, `pulumi up`.
// Each sandbox gets its own stack (`sandbox-<name>`, config in Pulumi.sandbox-<name>.yaml); all of them
// live in one file:// backend under .state/. Used by the demo, `npm run try`, the tests and the benchmarks.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO as PROJECT_ROOT, SandboxInfo } from "../sandbox/client";

export { PROJECT_ROOT };

/** Only protects sandbox state; real stacks use the operator's own passphrase or secrets provider. */
export const SANDBOX_PASSPHRASE = "sandbox-only-passphrase";
export const ENGINE_BIN = join(PROJECT_ROOT, ".engine", "bin");
export const SANDBOX_BACKEND = `file://${join(PROJECT_ROOT, ".state", "backend")}`;
/** Preloaded into the run's Node.js processes: what @pulumi/pulumi loads for a serializer the closure never uses
 *  waits for its first use (a fifth of a preview's CPU). */
export const NODE_PRELOAD = join(PROJECT_ROOT, "lib", "node-preload.cjs");

/** What a CLI on this machine needs: the project's engine first on PATH, the sandboxes' backend; and the
 *  preload that makes each run cheaper. */
export function sandboxEnv(): Record<string, string> {
    return {
        PATH: `${ENGINE_BIN}:${process.env.PATH ?? ""}`,
        PULUMI_BACKEND_URL: SANDBOX_BACKEND,
        PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${JSON.stringify(NODE_PRELOAD)}`].filter(Boolean).join(" "),
    };
}

export interface CommandResult {
    code: number | null;
    /** stdout and stderr together, in order of arrival. */
    output: string;
}

export interface RunOptions {
    /** Written to stdin (e.g. a secret for `pulumi config set --secret`), then closed. */
    input?: string;
    /** Called with the pid of the command (the leader of its own process group). */
    onSpawn?: (pid: number) => void;
    /** Each chunk of output as it arrives. */
    onOutput?: (chunk: string) => void;
    /** Another project directory (default: this project). */
    cwd?: string;
}

/** Runs of the CLI in this process, by verb (count, milliseconds), for the test runner's closing table
 *  (scripts/test-file-timer.cjs reads it when a test file's process exits). */
const CLI_RUNS = Symbol.for("mastodon-closure.cli-runs");
function countRun(verb: string, ms: number): void {
    const runs: Record<string, [number, number]> = ((globalThis as any)[CLI_RUNS] ??= {});
    const [n, total] = runs[verb] ?? [0, 0];
    runs[verb] = [n + 1, total + ms];
}

/** Run `pulumi ARGS` in the project directory (or opts.cwd), in its own process group. */
export function runPulumi(args: string[], env: Record<string, string>, opts: RunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", args, { cwd: opts.cwd ?? PROJECT_ROOT, env: { ...process.env, ...env }, detached: true });
        let output = "";
        const take = (d: Buffer) => {
            output += d;
            opts.onOutput?.(d.toString());
        };
        child.stdout.on("data", take);
        child.stderr.on("data", take);
        child.on("error", reject);
        const started = Date.now();
        child.on("close", (code) => {
            countRun(args[0], Date.now() - started);
            resolve({ code, output });
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
        if (child.pid) opts.onSpawn?.(child.pid);
    });
}

export class SandboxStack {
    readonly env = sandboxEnv();
    /** Everything the CLI printed on this stack, for the secrets check. */
    readonly log: string[] = [];

    constructor(readonly name: string) {}

    /** `pulumi ARGS --stack NAME`; fails unless `ok` allows the exit code. */
    async pulumi(args: string[], opts: RunOptions = {}): Promise<CommandResult> {
        const r = await runPulumi([...args, "--stack", this.name], this.env, opts);
        this.log.push(r.output);
        return r;
    }

    private async must(args: string[], opts: RunOptions = {}): Promise<CommandResult> {
        const r = await this.pulumi(args, opts);
        if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${r.code}):\n${r.output.slice(-2000)}`);
        return r;
    }

    /** Set plain settings (undefined removes one), as `pulumi config set` / `pulumi config rm` do. */
    async set(settings: Record<string, string | undefined>): Promise<void> {
        const set = Object.entries(settings).filter(([, v]) => v !== undefined);
        if (set.length) await this.must(["config", "set-all", ...set.flatMap(([k, v]) => ["--plaintext", `mastodon-closure:${k}=${v}`])]);
        for (const [k] of Object.entries(settings).filter(([, v]) => v === undefined)) {
            await this.must(["config", "rm", `mastodon-closure:${k}`]);
        }
    }

    /** `pulumi config set --secret KEY` with the value on stdin (never in argv), or in plain text. */
    async setSecret(key: string, value: string, opts: { plainText?: boolean } = {}): Promise<void> {
        await this.must(["config", "set", opts.plainText ? "--plaintext" : "--secret", `mastodon-closure:${key}`], { input: value });
    }

    async outputs(): Promise<Record<string, any>> {
        return JSON.parse((await this.must(["stack", "output", "--json"])).output);
    }

    /** Remove the stack, its state and its Pulumi.<stack>.yaml (the host is left as it is). */
    async remove(): Promise<void> {
        await this.pulumi(["stack", "rm", "--force", "--yes"]);
    }
}

/** A sandbox walks through the stages in minutes: the waits meant for users (notice, download grace, move
 *  grace, the 410 period before parking) are zero there. */
export const NO_WAITS = { downloadGraceDays: "0", moveGraceDays: "0", goneDays: "0", minimumNoticeDays: "0" };

/** Create the stack `sandbox-<name>` (or `stack`: another stack of the same host) for a sandbox, with every
 *  setting it needs, through the CLI. */
export async function openSandboxStack(info: SandboxInfo, settings: Record<string, string> = {}, stack = `sandbox-${info.name}`): Promise<SandboxStack> {
    mkdirSync(join(PROJECT_ROOT, ".state", "backend"), { recursive: true });
    const s = new SandboxStack(stack);
    const init = await s.pulumi(["stack", "init"]);
    if (init.code !== 0) throw new Error(`pulumi stack init ${s.name} failed:\n${init.output}`);
    await s.set({
        stage: "operating",
        host: info.address,
        sshPort: String(info.sshPort),
        sshUser: info.sshUser,
        sshHostKey: info.hostKey,
        domain: info.domain,
        closingDate: new Date().toISOString().slice(0, 10),
        successor: "successor.example",
        ...settings,
    });
    await s.setSecret("sshPrivateKey", readFileSync(info.sshPrivateKeyPath, "utf8"));
    await s.setSecret("databasePassword", info.dbPassword);
    return s;
}
