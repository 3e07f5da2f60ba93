// Benchmarks 1 and 3, on one small sandbox and one closure stack:
//  3. time to first 410: `up` from "announced" to "closed" against a shell script over OpenSSH doing the
//     same nginx change (rendered vhost from lib/nginx renderVhost, nginx -t, systemctl reload nginx),
//     with /users/alice polled through nginx every ~50 ms;
//  1. no-op `up` of the converged "closed" stage against the `up` of an empty inline program, same engine
//     and a file:// backend, plus the parts of the difference that can be timed on their own.
import { LocalWorkspace, LocalWorkspaceOptions, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { openSandboxStack, SANDBOX_PASSPHRASE } from "../bin/sandbox-stack";
import { PROJECT_ROOT } from "../lib/automation";
import { HostAccess, tootctl } from "../lib/host-steps";
import { parseOriginalVhost, renderVhost } from "../lib/nginx";
import { probeHost } from "../lib/probe";
import { closureProgram } from "../lib/program";
import { parseSettings, Settings } from "../lib/settings";
import { RemoteHost } from "../lib/ssh";
import type { Sandbox } from "../sandbox/client";
import { accessFor, bootCount, now, secs, sleep, sshScript, timed, withProgress } from "./common";

const SITE = "/etc/nginx/sites-available/mastodon";
const ENGINE_ROOT = join(PROJECT_ROOT, ".engine");

/** Polls a path through the sandbox's nginx every `everyMs`, noting when a 410 first arrives. */
class StatusPoller {
    private stopped = false;
    private done: Promise<void>;
    private t0 = now();
    first410?: number;
    /** When the request that got the first 410 was sent (the change happened before it was answered). */
    first410Sent?: number;
    requests = 0;
    constructor(
        private sandbox: Sandbox,
        private path: string,
        private everyMs = 50,
    ) {
        this.done = this.loop();
    }
    /** Counts from here. */
    mark(): void {
        this.t0 = now();
        this.first410 = undefined;
        this.first410Sent = undefined;
    }
    private async loop(): Promise<void> {
        while (!this.stopped) {
            const sent = now();
            const status = await this.sandbox.http(this.path).then((r) => r.status, () => 0);
            this.requests++;
            if (status === 410 && this.first410 === undefined) {
                this.first410 = now() - this.t0;
                this.first410Sent = sent - this.t0;
            }
            await sleep(Math.max(0, this.everyMs - (now() - sent)));
        }
    }
    async waitFor410(timeoutMs: number): Promise<number> {
        const start = now();
        while (this.first410 === undefined) {
            if (now() - start > timeoutMs) throw new Error(`no 410 on ${this.path} within ${timeoutMs} ms`);
            await sleep(10);
        }
        return this.first410;
    }
    async stop(): Promise<void> {
        this.stopped = true;
        await this.done;
    }
}

async function statusOf(sandbox: Sandbox, path: string): Promise<number> {
    return (await sandbox.http(path)).status;
}

export interface First410 {
    /** ms from the start to the first 410 received, and to the sending of the request that got it. */
    scriptMs: number[];
    scriptSentMs: number[];
    scriptReturnedMs: number[];
    closureMs: number[];
    closureSentMs: number[];
    closureUpMs: number[];
    pollRequests: number;
}

export interface StackRuns {
    bootMs: number;
    first410: First410;
    noop: {
        closureMs: number[];
        /** The closure program's own callback (probe, checks, resource declarations) inside each no-op up. */
        programMs: number[];
        bootsPerUp: number[];
        resources: number;
        emptyMs: number[];
        emptyFirstMs: number;
        probeMs: number[];
        sshConnectMs: number[];
        tootctlVersionMs: number[];
        /** node start + require("@pulumi/pulumi"), as the dynamic provider's process does once per up. */
        providerStartMs: number[];
    };
}

/** Wait until the path answers `status` (after a restore, outside any timing). */
async function waitForStatus(sandbox: Sandbox, path: string, status: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
        if ((await statusOf(sandbox, path)) === status) return;
        await sleep(50);
    }
    throw new Error(`${path} never answered ${status}`);
}

/** The operator's script: write the closure's rendered vhost, check it, reload. */
function scriptFor(vhost: string): string {
    const eof = "MASTODON_CLOSURE_BENCH_VHOST";
    if (vhost.includes(eof)) throw new Error("vhost contains the heredoc delimiter");
    return `set -e\ncat > ${SITE} <<'${eof}'\n${vhost}${eof}\nnginx -t 2>/dev/null\nsystemctl reload nginx\n`;
}

async function up(stack: Stack, label: string): Promise<{ ms: number; changes: Record<string, number> }> {
    const r = await withProgress(label, () => timed(() => stack.up()));
    return { ms: r.ms, changes: (r.value.summary.resourceChanges ?? {}) as Record<string, number> };
}

function settingsFor(sandbox: Sandbox, stage: string): { settings: Settings; access: HostAccess } {
    const access = accessFor(sandbox.info);
    const values: Record<string, string> = {
        stage,
        host: sandbox.info.address,
        sshPort: String(sandbox.info.sshPort),
        sshUser: sandbox.info.sshUser,
        sshHostKey: sandbox.info.hostKey,
        sshPrivateKey: access.ssh.privateKey,
        domain: sandbox.info.domain,
        databasePassword: sandbox.info.dbPassword,
        closingDate: new Date().toISOString().slice(0, 10),
        successor: "successor.example",
        requestArchives: "true",
    };
    const settings = parseSettings({ get: (k) => values[k], isSecret: (k) => k === "sshPrivateKey" || k === "databasePassword" });
    return { settings, access };
}

/** Workspace options as lib/automation's openStack builds them: the project's engine, a file:// backend. */
async function workspaceOptions(workDir: string): Promise<LocalWorkspaceOptions> {
    const engineBin = join(ENGINE_ROOT, "bin");
    const haveEngine = existsSync(join(engineBin, "pulumi"));
    return {
        workDir,
        pulumiCommand: haveEngine ? await PulumiCommand.get({ root: ENGINE_ROOT }) : undefined,
        envVars: {
            PULUMI_SKIP_UPDATE_CHECK: "true",
            ...(haveEngine ? { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true", PATH: `${engineBin}:${process.env.PATH}` } : {}),
            PULUMI_BACKEND_URL: `file://${join(workDir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE,
        },
    };
}

/** An empty inline program's stack. */
async function emptyStack(workDir: string): Promise<Stack> {
    mkdirSync(join(workDir, "state"), { recursive: true });
    return LocalWorkspace.createOrSelectStack(
        { stackName: "empty", projectName: "bench-empty", program: async () => ({}) },
        { ...(await workspaceOptions(workDir)), projectSettings: { name: "bench-empty", runtime: "nodejs" } },
    );
}

/** The same closure stack, its program wrapped to time the program callback itself. */
async function timedClosureStack(workDir: string, programMs: number[]): Promise<Stack> {
    const program = async () => {
        const t0 = now();
        try {
            return await closureProgram();
        } finally {
            programMs.push(now() - t0);
        }
    };
    return LocalWorkspace.selectStack({ stackName: "closing", projectName: "mastodon-closure", program }, await workspaceOptions(workDir));
}

function nodeRequireMs(): Promise<number> {
    return new Promise((resolve, reject) => {
        const t0 = now();
        const p = spawn(process.execPath, ["-e", "require('@pulumi/pulumi')"], { cwd: PROJECT_ROOT, stdio: "ignore" });
        p.on("error", reject);
        p.on("close", (code) => (code === 0 ? resolve(now() - t0) : reject(new Error(`node -e require('@pulumi/pulumi') exited ${code}`))));
    });
}

export async function stackRuns(sandbox: Sandbox, opts: { bootMs: number; trials: number }): Promise<StackRuns> {
    const workDirs: string[] = [];
    try {
        const s = await openSandboxStack(sandbox.info, { requestArchives: "true", downloadGraceDays: "0", goneDays: "0" });
        workDirs.push(s.workDir);
        console.log(`   stack state in ${s.workDir}/state`);

        // --- 3. time to first 410 -------------------------------------------------------------------
        const original = (await sandbox.exec(`cat ${SITE}`)).stdout;
        const { settings } = settingsFor(sandbox, "closed");
        const vhost = renderVhost("gone-except-downloads", settings.domain, parseOriginalVhost(original), {
            domain: settings.domain,
            closingDate: settings.closingDate,
            successor: settings.successor,
        });
        const script = scriptFor(vhost);
        const poller = new StatusPoller(sandbox, "/users/alice");
        const f: First410 = { scriptMs: [], scriptSentMs: [], scriptReturnedMs: [], closureMs: [], closureSentMs: [], closureUpMs: [], pollRequests: 0 };
        try {
            for (let i = 0; i < opts.trials; i++) {
                // Both from "announced" with the server's own vhost in place.
                await s.set({ stage: "announced" });
                const back = await up(s.stack, `trial ${i + 1}: up to announced (setup, not timed)`);
                await waitForStatus(sandbox, "/users/alice", 200);
                console.log(`   trial ${i + 1}: at announced (${JSON.stringify(back.changes)}, ${secs(back.ms)}), /users/alice 200`);

                await sandbox.exec(`cp -p ${SITE} /root/bench-vhost-original`);
                poller.mark();
                const t0 = now();
                const r = await sshScript(sandbox.info, script);
                const returned = now() - t0;
                if (r.code !== 0) throw new Error(`the nginx script failed (exit ${r.code}): ${r.stderr}`);
                f.scriptMs.push(await poller.waitFor410(30_000));
                f.scriptSentMs.push(poller.first410Sent!);
                f.scriptReturnedMs.push(returned);
                console.log(`   trial ${i + 1}: script: first 410 after ${secs(f.scriptMs[i])} (script returned after ${secs(returned)})`);
                const restore = await sandbox.exec(`cp -p /root/bench-vhost-original ${SITE} && rm -f /root/bench-vhost-original && nginx -t 2>/dev/null && systemctl reload nginx`);
                if (restore.code !== 0) throw new Error(`restoring the original vhost failed: ${restore.stderr}`);
                await waitForStatus(sandbox, "/users/alice", 200);

                await s.set({ stage: "closed" });
                poller.mark();
                const closed = await up(s.stack, `trial ${i + 1}: up announced → closed (timed)`);
                f.closureMs.push(await poller.waitFor410(5000));
                f.closureSentMs.push(poller.first410Sent!);
                f.closureUpMs.push(closed.ms);
                console.log(`   trial ${i + 1}: closure: first 410 after ${secs(f.closureMs[i])}; up returned after ${secs(closed.ms)}: ${JSON.stringify(closed.changes)}`);
            }
        } finally {
            await poller.stop();
        }
        f.pollRequests = poller.requests;

        // --- 1. no-op up of the converged "closed" stage ----------------------------------------------
        const programMs: number[] = [];
        const timedStack = await timedClosureStack(s.workDir, programMs);
        const closureNoop: number[] = [];
        const bootsPerUp: number[] = [];
        let resources = 0;
        for (let i = 0; i < opts.trials; i++) {
            const b0 = await bootCount(sandbox);
            const r = await up(timedStack, `no-op up ${i + 1}/${opts.trials}`);
            bootsPerUp.push((await bootCount(sandbox)) - b0);
            const changed = Object.entries(r.changes).filter(([k, n]) => k !== "same" && n > 0);
            if (changed.length) throw new Error(`the "no-op" up changed something: ${JSON.stringify(r.changes)}`);
            resources = r.changes.same ?? 0;
            closureNoop.push(r.ms);
            console.log(`   closure no-op up ${i + 1}: ${secs(r.ms)} (program callback ${secs(programMs[i])}), ${resources} resources unchanged, ${bootsPerUp[i]} boot(s)`);
        }

        // The parts of a no-op up, each timed alone.
        const { settings: closedSettings, access } = settingsFor(sandbox, "closed");
        const probeMs: number[] = [];
        const sshConnectMs: number[] = [];
        const tootctlVersionMs: number[] = [];
        const providerStartMs: number[] = [];
        for (let i = 0; i < opts.trials; i++) {
            probeMs.push((await timed(() => probeHost(access, closedSettings))).ms);
            sshConnectMs.push((await timed(() => RemoteHost.with(access.ssh, (h) => h.run("true", { label: "true" })))).ms);
            await RemoteHost.with(access.ssh, async (h) => {
                tootctlVersionMs.push((await timed(() => tootctl(h, access, "version"))).ms);
            });
            providerStartMs.push(await nodeRequireMs());
        }

        mkdirSync(join(PROJECT_ROOT, ".state"), { recursive: true });
        const emptyDir = mkdtempSync(join(PROJECT_ROOT, ".state", "bench-empty-"));
        workDirs.push(emptyDir);
        const empty = await emptyStack(emptyDir);
        const first = await timed(() => empty.up());
        console.log(`   empty program first up (creates its stack resource): ${secs(first.ms)}`);
        const emptyMs: number[] = [];
        for (let i = 0; i < opts.trials; i++) {
            emptyMs.push((await timed(() => empty.up())).ms);
            console.log(`   empty program no-op up ${i + 1}: ${secs(emptyMs[i])}`);
        }
        return {
            bootMs: opts.bootMs,
            first410: f,
            noop: { closureMs: closureNoop, programMs, bootsPerUp, resources, emptyMs, emptyFirstMs: first.ms, probeMs, sshConnectMs, tootctlVersionMs, providerStartMs },
        };
    } finally {
        for (const d of workDirs) rmSync(d, { recursive: true, force: true });
    }
}
