// What the probe (lib/host/probe.ts) and the steps (lib/host/steps/) share to ask the host: Mastodon's own
// commands (a Rails runner script, tootctl), its database through the SSH connection, its .env.production and
// what nginx on the host answers. None of these changes the host by itself; what a script or a tootctl
// command does is its caller's to say.
import { databaseAddressLine, envFile, inMastodon } from "../mastodon/deployment";
import { envValue, isSelfDestructMode } from "../mastodon/self-destruct";
import { shq } from "../mastodon/shell";
import { HostAccess } from "./access";
import { databaseConnectError } from "./connect-errors";
import { RAILS_SCRIPTS, RailsScriptName } from "./rails-scripts";
import { RemoteHost } from "./ssh";

/** Run one of the closure's Ruby scripts (rails/*.rb) with `bin/rails runner`, JSON in and out. */
export async function railsRunner(host: RemoteHost, access: HostAccess, name: RailsScriptName, input: object): Promise<any> {
    // The script is written where Mastodon runs (its user's /tmp, or its container's), then run there.
    const r = await host.run(
        inMastodon(
            access.deployment,
            `set -e; d=$(mktemp -d /tmp/mastodon-closure.XXXXXX); trap 'rm -rf "$d"' EXIT; ` +
                `echo ${Buffer.from(RAILS_SCRIPTS[name]).toString("base64")} | base64 -d > "$d/${name}"; bin/rails runner "$d/${name}"`,
        ),
        { stdin: JSON.stringify(input), label: `bin/rails runner ${name}` },
    );
    const last = r.stdout.trim().split("\n").pop() ?? "";
    try {
        return JSON.parse(last);
    } catch {
        throw new Error(`bin/rails runner ${name} printed no JSON result: ${last.slice(0, 200)}`);
    }
}

/** Every exit code: tootctl's own are explained here (a prompt it was not answered, the time limit). */
const ANY_EXIT = Array.from({ length: 255 }, (_, i) => i + 1);

/**
 * `bin/tootctl ARGS`, never left waiting: its stdin carries the closure's `answers` (one line each) and is
 * then closed, and the command is stopped after `limitSeconds` (SIGTERM, then SIGKILL 10 s later). A
 * failure says which of the two ended it, with the command's last words.
 */
export async function tootctl(host: RemoteHost, access: HostAccess, args: string, opts: { answers?: string[]; limitSeconds?: number } = {}): Promise<string> {
    const limit = opts.limitSeconds ?? 300;
    const label = `tootctl ${args.split(" ").slice(0, 3).join(" ")}`;
    const r = await host.run(inMastodon(access.deployment, `timeout -k 10 ${limit} bin/tootctl ${args}`), {
        stdin: (opts.answers ?? []).map((a) => `${a}\n`).join(""),
        label,
        okCodes: ANY_EXIT,
    });
    if (r.code === 0) return r.stdout;
    const tail = (text: string) => text.trim().split("\n").slice(-2).join(" / ");
    const lastWords =
        [r.stdout.trim() && `stdout: ${tail(r.stdout)}`, r.stderr.trim() && `stderr: ${tail(r.stderr)}`].filter(Boolean).join("; ") || "(nothing)";
    if (r.code === 124 || r.code === 137) {
        throw new Error(
            `${label} did not finish within ${limit} s on ${host.target.host} and was stopped (it may have been waiting on a prompt, or working through a large server): its last output: ${lastWords}`,
        );
    }
    const answered = opts.answers?.length
        ? `after the ${opts.answers.length} answer(s) the closure gives, its input is closed`
        : "its input is closed (no answers given)";
    throw new Error(
        `${label} failed on ${host.target.host} (exit ${r.code}); ${answered}, so a prompt it did not expect ends it: its last output: ${lastWords}`,
    );
}

/** A PostgreSQL client through the SSH connection, at the address the deployment gives (compose: the db
 *  container's); rejected when the database does not answer. */
export async function connectDatabase(host: RemoteHost, access: HostAccess) {
    const ask = databaseAddressLine(access.deployment);
    let db = access.database;
    if (ask !== undefined) {
        const address = (await host.run(ask, { label: "find the database container's address" })).stdout.trim().split(/\s+/)[0];
        if (!address) throw new Error(`the database is not running on ${host.target.host} (no db container): start it (docker compose up -d db in liveDir)`);
        db = { ...db, host: address, port: 5432 };
    }
    try {
        return await host.postgres(db);
    } catch (err) {
        const { host: at, port, name, user } = db;
        throw databaseConnectError(err as Error, { host: at, port, name, user, deployment: access.deployment.kind, via: host.target.host });
    }
}

/** One query through the SSH tunnel; undefined when the database does not answer (stopped at dormant). */
export async function queryOrUndefined<T>(host: RemoteHost, access: HostAccess, sql: string, params: unknown[]): Promise<T[] | undefined> {
    let db;
    try {
        db = await connectDatabase(host, access);
    } catch {
        return undefined;
    }
    try {
        return (await db.query(sql, params as any[])).rows as T[];
    } finally {
        await db.end();
    }
}

/** One request to nginx on the host itself (so no DNS or firewall between the closure and the server can
 *  hide a wrong answer), printing the status; "000" when nothing answers. */
export function curlOnHost(domain: string, r: { method: string; path: string }, maxSeconds: number): string {
    return `curl -sk -o /dev/null -w '%{http_code}' --max-time ${maxSeconds} -X ${r.method} --resolve ${shq(`${domain}:443:127.0.0.1`)} ${shq(`https://${domain}${r.path}`)} || true`;
}

/** What nginx on the host answers to each request, asked on the host itself. */
export async function nginxAnswers(host: RemoteHost, domain: string, requests: { method: string; path: string }[]): Promise<string[]> {
    const r = await host.run(requests.map((q) => `${curlOnHost(domain, q, 10)}; echo`).join("\n"), { label: "ask nginx on the host what it answers" });
    return r.stdout
        .trim()
        .split("\n")
        .map((s) => s.trim().slice(-3));
}

/** Mastodon's .env.production on the host; refused when it is not there. */
export async function readEnvProduction(host: RemoteHost, access: HostAccess): Promise<string> {
    const path = envFile(access.deployment);
    const text = await host.readFile(path, "read .env.production");
    if (text === undefined) throw new Error(`no ${path} on ${host.target.host}`);
    return text;
}

/**
 * Whether Mastodon, booted with this .env.production, is in self-destruct mode: SELF_DESTRUCT verifies to
 * LOCAL_DOMAIN with the verifier derived from SECRET_KEY_BASE (SelfDestructHelper). Checked here when the
 * file has SECRET_KEY_BASE (no Rails boot); otherwise (the secret comes from elsewhere) by Rails itself.
 * A wrong value means off, as it does to Mastodon.
 */
export async function selfDestructModeOnHost(host: RemoteHost, access: HostAccess, envFile: string): Promise<boolean> {
    const env = {
        SELF_DESTRUCT: envValue(envFile, "SELF_DESTRUCT"),
        SECRET_KEY_BASE: envValue(envFile, "SECRET_KEY_BASE"),
        LOCAL_DOMAIN: envValue(envFile, "LOCAL_DOMAIN"),
    };
    if (!env.SELF_DESTRUCT?.trim()) return false;
    if (env.SECRET_KEY_BASE && env.LOCAL_DOMAIN) return isSelfDestructMode(env);
    return (await railsRunner(host, access, "self_destruct_value.rb", {})).enabled === true;
}
