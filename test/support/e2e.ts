// End-to-end support: a sandbox host, a closure stack pointed at it, and molecule's converge →
// idempotence → verify sequence with the real engine.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { SandboxStack, openSandboxStack } from "../../bin/sandbox-stack";
import { PROJECT_ROOT } from "../../lib/automation";
import { Sandbox, StartOptions, startSandbox } from "../../sandbox/client";

export interface Closure {
    sandbox: Sandbox;
    s: SandboxStack;
    /** Everything the engine printed, for the secrets check. */
    log: string[];
}

export async function startClosure(opts: StartOptions & { settings?: Record<string, string> } = {}): Promise<Closure> {
    const sandbox = await startSandbox({ sidekiqTickMs: 300, ...opts });
    try {
        const s = await openSandboxStack(sandbox.info, { downloadGraceDays: "0", goneDays: "0", ...opts.settings });
        return { sandbox, s, log: [] };
    } catch (err) {
        await sandbox.stop();
        throw err;
    }
}

export interface CommandResult {
    code: number | null;
    output: string;
}

/** Run a command on the stack as an operator would, in a child process; stdout and stderr together. */
export function command(c: Closure, program: string, args: string[], opts: { onSpawn?: (pid: number) => void } = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(program, args, {
            cwd: c.s.workDir,
            env: { ...process.env, ...c.s.env, PULUMI_SKIP_UPDATE_CHECK: "true", PATH: `${join(PROJECT_ROOT, ".engine", "bin")}:${process.env.PATH}` },
            detached: true,
        });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d));
        child.stderr.on("data", (d: Buffer) => (output += d));
        child.on("error", reject);
        child.on("close", (code) => {
            c.log.push(output);
            resolve({ code, output });
        });
        if (child.pid) opts.onSpawn?.(child.pid);
    });
}

/** `npm run closure -- <verb> ...` on this stack. */
export function closure(c: Closure, verb: string, ...args: string[]): Promise<CommandResult> {
    return command(c, process.execPath, [join(PROJECT_ROOT, "dist", "bin", "closure.js"), verb, "--dir", c.s.workDir, "--stack", "closing", ...args]);
}

/** Stop the sandbox and remove the stack's work directory (state included). */
export async function stopClosure(c: Closure | undefined): Promise<void> {
    if (!c) return;
    await c.sandbox.stop();
    rmSync(c.s.workDir, { recursive: true, force: true });
}

/** Converge (up), prove idempotence (preview --expect-no-changes), and return the stack outputs. */
export async function converge(c: Closure, settings: Record<string, string | undefined>): Promise<Record<string, any>> {
    await c.s.set(settings);
    const up = await closure(c, "up");
    assert.equal(up.code, 0, `up failed:\n${up.output.slice(-3000)}`);
    const again = await closure(c, "preview", "--expect-no-changes");
    assert.equal(again.code, 0, `the second preview found changes:\n${again.output.slice(-3000)}`);
    const outputs = await c.s.stack.outputs();
    return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
}

/** A preview that must be refused; returns what the engine printed, for assertions on the reason. */
export async function refusedPreview(c: Closure, settings: Record<string, string | undefined>): Promise<string> {
    await c.s.set(settings);
    const r = await closure(c, "preview");
    assert.notEqual(r.code, 0, `the preview should have been refused:\n${r.output.slice(-2000)}`);
    return r.output;
}

/** The host-side state a refused stage must leave untouched. */
export async function hostSnapshot(sandbox: Sandbox): Promise<string> {
    const r = await sandbox.exec(
        "cd /etc/nginx/sites-available && sha256sum mastodon; cat /var/lib/mastodon-closure/journal.json 2>/dev/null; " +
            "grep -c '^SELF_DESTRUCT=' /home/mastodon/live/.env.production; " +
            "for u in mastodon-web mastodon-streaming mastodon-sidekiq redis-server postgresql nginx; do systemctl is-active $u; done; true",
    );
    const db = await sandbox.sql("SELECT (SELECT count(*) FROM announcements) AS a, (SELECT value FROM settings WHERE var = 'registrations_mode') AS r").catch(() => "db down");
    return r.stdout + JSON.stringify(db);
}

export async function status(sandbox: Sandbox, path: string, opts: { https?: boolean; method?: string } = {}): Promise<number> {
    return (await sandbox.http(path, opts)).status;
}

/** Poll `check` until it returns true, printing progress; fails after `seconds`. */
export async function waitFor(what: string, seconds: number, check: () => Promise<boolean>): Promise<void> {
    const start = Date.now();
    while (!(await check())) {
        if (Date.now() - start > seconds * 1000) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** Sign in as the owner of `username` and return the session cookie. */
export async function signIn(sandbox: Sandbox, username: string): Promise<string> {
    const [user] = await sandbox.sql<{ email: string }>(
        "SELECT u.email FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = $1 AND a.domain IS NULL",
        [username],
    );
    const r = await sandbox.http("/auth/sign_in", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ "user[email]": user.email, "user[password]": "x" }).toString(),
    });
    const cookie = (r.headers["set-cookie"] ?? "").split(";")[0];
    assert.match(cookie, /^_mastodon_session=.+/, `sign-in as ${username} answered ${r.status} without a session`);
    return cookie;
}
