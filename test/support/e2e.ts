// End-to-end support: a sandbox host, a closure stack pointed at it, and molecule's converge →
// idempotence → verify sequence, all through the `pulumi` CLI in the project directory as an operator runs it.
import assert from "node:assert/strict";
import { CommandResult, openSandboxStack, SandboxStack, NO_WAITS } from "../../bin/sandbox-stack";
import { HttpResult, Sandbox, StartOptions, startSandbox } from "../../sandbox/client";

export interface Closure {
    sandbox: Sandbox;
    s: SandboxStack;
}

export async function startClosure(opts: StartOptions & { settings?: Record<string, string> } = {}): Promise<Closure> {
    const sandbox = await startSandbox({ sidekiqTickMs: 300, ...opts });
    try {
        const s = await openSandboxStack(sandbox.info, { ...NO_WAITS, ...opts.settings });
        return { sandbox, s };
    } catch (err) {
        await sandbox.stop();
        throw err;
    }
}

/** `pulumi preview --diff` / `pulumi up --yes --diff` / `pulumi refresh --yes` ... on this stack. */
export function pulumi(c: Closure, verb: string, ...args: string[]): Promise<CommandResult> {
    const yes = ["up", "refresh", "destroy"].includes(verb) ? ["--yes"] : [];
    const diff = ["up", "preview"].includes(verb) ? ["--diff"] : [];
    return c.s.pulumi([verb, ...yes, ...diff, "--non-interactive", ...args]);
}

/** Stop the sandbox and remove the stack (state and config file). */
export async function stopClosure(c: Closure | undefined): Promise<void> {
    if (!c) return;
    await c.sandbox.stop();
    await c.s.remove();
}

/** Converge (up), prove idempotence (preview --expect-no-changes), and return the stack outputs. */
export async function converge(c: Closure, settings: Record<string, string | undefined>): Promise<Record<string, any>> {
    await c.s.set(settings);
    const up = await pulumi(c, "up");
    assert.equal(up.code, 0, `up failed:\n${up.output.slice(-3000)}`);
    const again = await pulumi(c, "preview", "--expect-no-changes");
    assert.equal(again.code, 0, `the second preview found changes:\n${again.output.slice(-3000)}`);
    return c.s.outputs();
}

/** A preview that must be refused; returns what the engine printed, for assertions on the reason. */
export async function refusedPreview(c: Closure, settings: Record<string, string | undefined>): Promise<string> {
    await c.s.set(settings);
    const r = await pulumi(c, "preview");
    assert.notEqual(r.code, 0, `the preview should have been refused:\n${r.output.slice(-2000)}`);
    return r.output;
}

/** A shell command on a sandbox host, as root, that must succeed; what it printed. */
export async function onHost(sandbox: Sandbox, command: string): Promise<string> {
    const r = await sandbox.exec(command);
    assert.equal(r.code, 0, `${command} on ${sandbox.info.name} (exit ${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
}

/** The host-side state a refused stage must leave untouched. */
export async function hostSnapshot(sandbox: Sandbox): Promise<string> {
    const r = await sandbox.exec(
        "cd /etc/nginx/sites-available && sha256sum mastodon; cat /var/lib/mastodon-closure/journal.json 2>/dev/null; " +
            "grep -c '^SELF_DESTRUCT=' /home/mastodon/live/.env.production; " +
            "for u in mastodon-web mastodon-streaming mastodon-sidekiq redis-server postgresql nginx; do systemctl is-active $u; done; true",
    );
    const db = await sandbox
        .sql("SELECT (SELECT count(*) FROM announcements) AS a, (SELECT value FROM settings WHERE var = 'registrations_mode') AS r")
        .catch(() => "db down");
    return r.stdout + JSON.stringify(db);
}

export async function status(sandbox: Sandbox, path: string, opts: { https?: boolean; method?: string; cookie?: string } = {}): Promise<number> {
    return (await sandbox.http(path, opts)).status;
}

/** Asserts what nginx answers on the host, saying what it got when it is not that. */
export async function expectStatus(
    sandbox: Sandbox,
    path: string,
    expected: number,
    opts: { https?: boolean; method?: string; cookie?: string; why?: string } = {},
): Promise<void> {
    const got = await status(sandbox, path, opts);
    assert.equal(
        got,
        expected,
        `${opts.method ?? "GET"} ${path}${opts.https === false ? " (http)" : ""} answered ${got}, not ${expected}${opts.why ? `: ${opts.why}` : ""}`,
    );
}

/** Poll `check` until it returns true, every `everyMs` (default 500: checks that start a process on the
 *  host); fails after `seconds`. */
export async function waitFor(what: string, seconds: number, check: () => Promise<boolean>, everyMs = 500): Promise<void> {
    const start = Date.now();
    while (!(await check())) {
        if (Date.now() - start > seconds * 1000) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

/** POST /auth/sign_in as the owner of `username`, with the session `cookie` the browser already has. */
export async function postSignIn(sandbox: Sandbox, username: string, cookie?: string): Promise<HttpResult> {
    const [user] = await sandbox.sql<{ email: string }>(
        "SELECT u.email FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = $1 AND a.domain IS NULL",
        [username],
    );
    return sandbox.http("/auth/sign_in", {
        method: "POST",
        cookie,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ "user[email]": user.email, "user[password]": "x" }).toString(),
    });
}

/** The session cookie an answer sets ("" when none). */
export const sessionOf = (r: HttpResult): string => (r.headers["set-cookie"] ?? "").split(";")[0];

/** Sign in as the owner of `username` and return the session cookie. */
export async function signIn(sandbox: Sandbox, username: string): Promise<string> {
    const r = await postSignIn(sandbox, username);
    const cookie = sessionOf(r);
    assert.match(cookie, /^_mastodon_session=.+/, `sign-in as ${username} answered ${r.status} without a session`);
    return cookie;
}
