// Shared pieces of the benchmarks: timing, progress during long waits, medians, the sandbox's boot
// counter, and the host access the closure's own steps use (built from a sandbox's info).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { HostAccess } from "../lib/host/access";
import { DEFAULTS } from "../lib/rules/settings";
import type { Sandbox, SandboxInfo } from "../sandbox/client";

export const now = (): number => performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
    const t0 = now();
    const value = await fn();
    return { ms: now() - t0, value };
}

/** Runs `fn`, printing a line every `everyMs` while it runs (with `status()` when given). */
export async function withProgress<T>(label: string, fn: () => Promise<T>, status?: () => Promise<string>, everyMs = 5000): Promise<T> {
    const t0 = now();
    let busy = false;
    const timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        const extra = status ? await status().catch(() => "") : "";
        console.log(`     … ${label}: ${secs(now() - t0)}${extra ? `, ${extra}` : ""}`);
        busy = false;
    }, everyMs);
    try {
        return await fn();
    } finally {
        clearInterval(timer);
    }
}

export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const secs = (ms: number): string =>
    ms >= 100_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
export const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(a / b >= 100 ? 0 : 2)}×` : "n/a");
export const list = (xs: number[]): string => xs.map((x) => secs(x)).join(", ");

/** Lines in the sandbox's Rails/tootctl boot log (one per boot). */
export async function bootCount(sandbox: Sandbox): Promise<number> {
    const r = await sandbox.exec("[ -e /var/lib/mastodon-sim/boots ] && wc -l < /var/lib/mastodon-sim/boots || echo 0");
    return Number(r.stdout.trim());
}

/** Change the simulated Rails boot time of a running sandbox (read by every tootctl/rails call). */
export async function setRailsBootMs(sandbox: Sandbox, ms: number): Promise<void> {
    const r = await sandbox.exec(
        `sed -i -E 's/"railsBootMs":[0-9]+/"railsBootMs":${ms}/' /var/lib/mastodon-sim/config.json && grep -o '"railsBootMs":[0-9]*' /var/lib/mastodon-sim/config.json`,
    );
    if (r.stdout.trim() !== `"railsBootMs":${ms}`) throw new Error(`could not set railsBootMs in ${sandbox.info.name}: ${r.stdout}${r.stderr}`);
}

/** What the closure's steps get from the stack's settings, for a sandbox (the settings' defaults). */
export function accessFor(info: SandboxInfo): HostAccess {
    return {
        ssh: { host: info.address, port: info.sshPort, user: info.sshUser, hostKey: info.hostKey, privateKey: readFileSync(info.sshPrivateKeyPath, "utf8") },
        database: {
            host: DEFAULTS.databaseHost,
            port: DEFAULTS.databasePort,
            name: DEFAULTS.databaseName,
            user: DEFAULTS.databaseUser,
            password: info.dbPassword,
        },
        deployment: { kind: DEFAULTS.deployment, dir: DEFAULTS.liveDir, mastodonUser: DEFAULTS.mastodonUser },
    };
}

/** The operator's way: OpenSSH client, the sandbox's key and pinned host key, a script on stdin. */
export function sshScript(info: SandboxInfo, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const p = spawn(
            "ssh",
            [
                "-i",
                info.sshPrivateKeyPath,
                "-o",
                `UserKnownHostsFile=${info.root}/client/known_hosts`,
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-p",
                String(info.sshPort),
                `${info.sshUser}@${info.address}`,
                "sudo -n bash -s",
            ],
            { stdio: ["pipe", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d: Buffer) => (stdout += d));
        p.stderr.on("data", (d: Buffer) => (stderr += d));
        p.on("error", reject);
        p.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
        p.stdin.end(script);
    });
}

/** One row of the final table. */
export interface Row {
    benchmark: string;
    closure: string;
    baseline: string;
    ratio: string;
    raw: string;
}
