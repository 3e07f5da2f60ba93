// What the closure does on the Mastodon host, one step per concern:
//  - `apply` brings the host to the step's desired state (its params) and is safe to run again: it checks
//    what the host has first, and records nothing as done before the host shows it (a vhost counts once
//    nginx, asked on the host, serves it);
//  - `read` reports what the host has now for what the step owns, as params of the same shape, so that a
//    refresh shows a hand change as drift and the next up repairs it (the live host is the truth);
//  - `undo` puts back what apply changed, where that can be done, and refuses loudly where it cannot.
// One-way steps check their preconditions on the host at the moment they act. Run by the dynamic provider
// in lib/provider/host-step.ts, one SSH connection per host per operation. Each step acts on the host of
// its role (roleOfStep; the Mastodon host unless the settings split the server) and reaches another
// role's host, where it must, through `host.on(role)`.
import {
    databaseAddressLine,
    Deployment,
    dumpLines,
    envFile,
    HOST_SYSTEMD,
    inMastodon,
    parseServiceState,
    restartMastodonLine,
    ServiceManager,
    serviceManager,
    ServiceState,
    serviceStatesScript,
    sourceFiles,
    sourceWhere,
    startServiceLines,
    stopServiceLine,
} from "../mastodon/deployment";
import { resolveMastodonSettings, rowFromSql, settingRowSql, SETTINGS_DEFAULTS_FILE } from "../mastodon/site-settings";
import { RAILS_SCRIPTS, RailsScriptName } from "./rails-scripts";
import { envValue, isSelfDestructMode } from "../mastodon/self-destruct";
import { versionAtLeast } from "../mastodon/version";
import { HostTargets, RemoteHost, SshTarget } from "./ssh";
import { HostRole } from "../mastodon/deployment";
import { shq } from "../mastodon/shell";
import { STAGES } from "../rules/stages";

/** Everything a step needs to reach the host. Carries secrets: always a Pulumi secret. */
export interface HostAccess {
    /** The Mastodon host (role `app`), and every role not in splitHosts. */
    ssh: SshTarget;
    /** Roles on machines of their own (README: Split hosts); absent on a single-host server. */
    splitHosts?: Partial<Record<Exclude<HostRole, "app">, SshTarget>>;
    database: { host: string; port: number; name: string; user: string; password: string };
    /** How Mastodon runs there (lib/mastodon/deployment.ts). */
    deployment: Deployment;
    /** Access token with write:statuses (statusToken), when the announcement is also a public status. */
    statusToken?: string;
}

/** The SSH target of every role. */
export function hostTargets(access: HostAccess): HostTargets {
    return { app: access.ssh, ...access.splitHosts };
}

/** Where the closure keeps its own records on the host. */
export const STATE_DIR = "/var/lib/mastodon-closure";
export const JOURNAL_PATH = `${STATE_DIR}/journal.json`;
/** How the closure found each service before it stopped the first one (written before any stop). */
export const SERVICES_RECORD = `${STATE_DIR}/services.json`;
/** How nginx was found before parking stopped it (apart from SERVICES_RECORD, which is the dormant stop's). */
export const NGINX_RECORD = `${STATE_DIR}/nginx.json`;
/** When the announcement was e-mailed and to how many users: written once it is, so it is never sent twice. */
export const EMAIL_RECORD = `${STATE_DIR}/announcement-email.json`;
/** sha256 of the server's own vhost as the closure kept it. */
export const KEPT_VHOST_SUM = `${STATE_DIR}/original-vhost.sha256`;
/** The first line of every vhost the closure renders (lib/gone/nginx.ts). */
export const CLOSURE_VHOST_MARK = "# Managed by mastodon-closure";

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
    const lastWords = [r.stdout.trim() && `stdout: ${tail(r.stdout)}`, r.stderr.trim() && `stderr: ${tail(r.stderr)}`].filter(Boolean).join("; ") || "(nothing)";
    if (r.code === 124 || r.code === 137) {
        throw new Error(
            `${label} did not finish within ${limit} s on ${host.target.host} and was stopped (it may have been waiting on a prompt, or working through a large server): its last output: ${lastWords}`,
        );
    }
    const answered = opts.answers?.length ? `after the ${opts.answers.length} answer(s) the closure gives, its input is closed` : "its input is closed (no answers given)";
    throw new Error(`${label} failed on ${host.target.host} (exit ${r.code}); ${answered}, so a prompt it did not expect ends it: its last output: ${lastWords}`);
}

/** A PostgreSQL client through the SSH connection, at the address the deployment gives (compose: the db
 *  container's); rejected when the database does not answer. */
export async function connectDatabase(host: RemoteHost, access: HostAccess) {
    const ask = databaseAddressLine(access.deployment);
    if (ask === undefined) return host.postgres(access.database);
    const address = (await host.run(ask, { label: "find the database container's address" })).stdout.trim().split(/\s+/)[0];
    if (!address) throw new Error(`the database is not running on ${host.target.host} (no db container)`);
    return host.postgres({ ...access.database, host: address, port: 5432 });
}

/** One query through the SSH tunnel; undefined when the database does not answer (stopped at dormant). */
async function queryOrUndefined<T>(host: RemoteHost, access: HostAccess, sql: string, params: unknown[]): Promise<T[] | undefined> {
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

export interface Step<P, R> {
    apply(host: RemoteHost, access: HostAccess, params: P, previous?: R): Promise<R>;
    /** What the host has now for what the step owns, as the step's params (and result) would say it. */
    read(host: RemoteHost, access: HostAccess, params: P, result: R): Promise<{ params: P; result: R }>;
    undo(host: RemoteHost, access: HostAccess, params: P, result: R): Promise<void>;
}

const unchanged = async <P, R>(_h: RemoteHost, _a: HostAccess, params: P, result: R) => ({ params, result });

// --- nginx ---------------------------------------------------------------------------------------------

/** One request to nginx on the host itself (so no DNS or firewall between the closure and the server can
 *  hide a wrong answer), printing the status; "000" when nothing answers. */
function curlOnHost(domain: string, r: { method: string; path: string }, maxSeconds: number): string {
    return `curl -sk -o /dev/null -w '%{http_code}' --max-time ${maxSeconds} -X ${r.method} --resolve ${shq(`${domain}:443:127.0.0.1`)} ${shq(`https://${domain}${r.path}`)} || true`;
}

/** What nginx on the host answers to each request, asked on the host itself. */
export async function nginxAnswers(host: RemoteHost, domain: string, requests: { method: string; path: string }[]): Promise<string[]> {
    const r = await host.run(requests.map((q) => `${curlOnHost(domain, q, 10)}; echo`).join("\n"), { label: "ask nginx on the host what it answers" });
    return r.stdout.trim().split("\n").map((s) => s.trim().slice(-3));
}

/**
 * What a 410 vhost must answer, asked on the host: "410", or "not 410" where it hands the request to
 * Mastodon. Keyed "METHOD path". An actor alone cannot tell the closed vhost (sign-in kept) from the
 * dormant one (410 everywhere), so sign-in is asked too: a run killed between writing one of them and the
 * reload leaves nginx serving the other, which only this shows.
 */
export type VhostAnswers = Record<string, "410" | "not 410">;

export function vhostAnswers(signInKept: boolean): VhostAnswers {
    return { "GET /users/mastodon-closure-check": "410", "GET /auth/sign_in": signInKept ? "not 410" : "410" };
}

function requestsOf(answers: VhostAnswers): { method: string; path: string }[] {
    return Object.keys(answers).map((k) => ({ method: k.split(" ")[0], path: k.slice(k.indexOf(" ") + 1) }));
}

/** What nginx answers now, in the shape of `expected`. Once a reload took effect old workers still finish
 *  their requests with the old configuration, so with `untilExpected` the host is asked again (for up to
 *  10 s, in one command) until every answer is the expected one. */
async function vhostAnswersOnHost(host: RemoteHost, domain: string, expected: VhostAnswers, untilExpected: boolean): Promise<VhostAnswers> {
    const keys = Object.keys(expected);
    const want = keys.map((k) => `|${expected[k]}`).join("");
    const ask = requestsOf(expected).map((q) => `c=$(${curlOnHost(domain, q, 5)}); [ "$c" = 410 ] && got="$got|410" || got="$got|not 410"`);
    const r = await host.run(
        untilExpected
            ? `for i in $(seq 100); do got=""; ${ask.join("; ")}; [ "$got" = ${shq(want)} ] && break; sleep 0.1; done; echo "$got"`
            : `got=""; ${ask.join("; ")}; echo "$got"`,
        { label: `ask nginx on the host what it answers${untilExpected ? " after the reload" : ""}` },
    );
    const got = r.stdout.trim().split("|").slice(1);
    return Object.fromEntries(keys.map((k, i) => [k, got[i] === "410" ? "410" : "not 410"]));
}

const canonicalAnswers = (a: VhostAnswers) => JSON.stringify(Object.keys(a).sort().map((k) => [k, a[k]]));
const describeAnswers = (a: VhostAnswers) => Object.entries(a).map(([k, v]) => `${v} to ${k}`).join(", ");

/** Requests whose 410 shows that the fediverse sees the closure vhost: an actor, WebFinger, the inbox. */
export function fediversePaths(domain: string): { method: string; path: string }[] {
    return [
        { method: "GET", path: "/users/mastodon-closure-check" },
        { method: "GET", path: `/.well-known/webfinger?resource=acct:mastodon-closure-check@${domain}` },
        { method: "POST", path: "/inbox" },
    ];
}

export interface NginxSiteParams {
    site: string;
    domain: string;
    /** "original": the server's own vhost (restored from the kept copy when there is one); else a 410 vhost. */
    mode: "original" | "gone";
    /** The vhost the site file must hold. */
    content: string;
    /** What nginx must answer, asked on the host, for a 410 vhost. */
    answers?: VhostAnswers;
}

/** Puts the kept original back (nginx -t before the reload), or refuses saying why; "none" when nothing
 *  is kept and the site is the server's own. */
async function restoreOriginal(host: RemoteHost, site: string): Promise<"restored" | "none"> {
    const r = await host.run(
        `set -euo pipefail; site=${shq(site)}; keep="$site.closure-original"; sums=${shq(KEPT_VHOST_SUM)}
if [ ! -e "$keep" ]; then
  if grep -q ${shq(`^${CLOSURE_VHOST_MARK}`)} "$site" 2>/dev/null; then
    echo "the server's own vhost is not kept at $keep, so the closure cannot put it back: the 410 vhost stays at $site. Put your own vhost at $site by hand (nginx -t, systemctl reload nginx), then run up again" >&2
    exit 3
  fi
  echo none; exit 0
fi
want=$(cat "$sums" 2>/dev/null || true); have=$(sha256sum "$keep" | cut -d' ' -f1)
if [ -n "$want" ] && [ "$want" != "$have" ]; then
  echo "the kept original $keep changed since the closure kept it (sha256 $have, kept as $want): check it, put the right vhost at $site by hand, remove $keep, then run up again" >&2
  exit 3
fi
prev="$site.closure-previous"; cp -p "$site" "$prev"; cp -p "$keep" "$site"
if ! out=$(nginx -t 2>&1); then
  mv -f "$prev" "$site"
  printf '%s\\nnginx -t rejected the restored original vhost; the closure vhost stays in place\\n' "$out" >&2
  exit 1
fi
rm -f "$prev"; systemctl reload nginx; rm -f "$keep" "$sums"; echo restored`,
        { label: `restore the original vhost at ${site}` },
    );
    return r.stdout.trim().endsWith("restored") ? "restored" : "none";
}

/**
 * The front vhost. A 410 vhost replaces the server's own, which is kept (byte for byte, with its sha256)
 * the first time and never overwritten; nginx -t runs before every reload, and on rejection the previous
 * file is put back and nothing is reloaded. The step is done once nginx, asked on the host, serves it.
 */
export const nginxSite: Step<NginxSiteParams, { reloaded: boolean }> = {
    async apply(host, _access, p) {
        if (p.mode === "original") return { reloaded: (await restoreOriginal(host, p.site)) === "restored" };
        await host.run(
            `set -euo pipefail; site=${shq(p.site)}; keep="$site.closure-original"; sums=${shq(KEPT_VHOST_SUM)}
mkdir -p ${shq(STATE_DIR)}
if [ ! -e "$keep" ]; then
  if grep -q ${shq(`^${CLOSURE_VHOST_MARK}`)} "$site"; then
    echo "$site already holds a closure vhost but the server's own vhost is not kept at $keep: the closure will not keep a 410 vhost as the original. Put your own vhost back at $site, then run up again" >&2
    exit 3
  fi
  cp -p "$site" "$keep"; sha256sum "$keep" | cut -d' ' -f1 > "$sums"
fi
new="$site.closure-new"; cat > "$new"; chown --reference="$site" "$new"; chmod --reference="$site" "$new"
if cmp -s "$new" "$site"; then
  rm -f "$new"
  out=$(nginx -t 2>&1) || { printf '%s\\nnginx -t rejects the configuration; nginx was not reloaded\\n' "$out" >&2; exit 1; }
  echo same; exit 0
fi
prev="$site.closure-previous"; cp -p "$site" "$prev"; mv -f "$new" "$site"
if ! out=$(nginx -t 2>&1); then
  mv -f "$prev" "$site"
  printf '%s\\nnginx -t rejected the closure vhost; the previous vhost is back in place and nginx was not reloaded\\n' "$out" >&2
  exit 1
fi
rm -f "$prev"; echo written`,
            { stdin: p.content, label: `install the closure vhost at ${p.site}` },
        );
        // Reloaded whenever the step runs (only when what the host must have changed): the file may already
        // be in place from a run killed before its reload, with nginx still serving the previous vhost.
        const reload = await host.run("systemctl is-active --quiet nginx && systemctl reload nginx", {
            label: "reload nginx",
            okCodes: [3],
        });
        if (reload.code !== 0) throw new Error(`nginx is not running on ${host.target.host}: the closure vhost is on disk at ${p.site} but not served. Start nginx (systemctl start nginx), then run up again`);
        const expected = p.answers ?? vhostAnswers(false);
        const after = await vhostAnswersOnHost(host, p.domain, expected, true);
        if (canonicalAnswers(after) !== canonicalAnswers(expected)) {
            throw new Error(`after the reload nginx answers ${describeAnswers(after)} (asked on the host), not ${describeAnswers(expected)}: the closure vhost at ${p.site} is not what nginx serves`);
        }
        return { reloaded: true };
    },
    async read(host, _access, p, result) {
        const [content] = await host.readFiles([p.site], `read ${p.site}`);
        const found: NginxSiteParams = { ...p, content: content ?? "(no file)" };
        if (p.answers !== undefined) found.answers = await vhostAnswersOnHost(host, p.domain, p.answers, false);
        return { params: found, result };
    },
    async undo(host, _access, p) {
        await restoreOriginal(host, p.site);
    },
};

// --- registrations -------------------------------------------------------------------------------------

/** The registrations mode as the server resolves it: the settings row, else the default in the live
 *  directory's config/settings.yml ("open" on 4.2, "none" from 4.3 on, a fork's own otherwise). */
async function readRegistrationsMode(host: RemoteHost, access: HostAccess): Promise<string | undefined> {
    const rows = await queryOrUndefined<{ value: string | null }>(host, access, `SELECT ${settingRowSql("registrations_mode")} AS value`, []);
    if (!rows) return undefined;
    const source = sourceFiles(access.deployment, [SETTINGS_DEFAULTS_FILE]);
    const [defaults] = await host.readFiles(source.paths, `read ${SETTINGS_DEFAULTS_FILE}`, source.wrap);
    if (defaults === undefined) throw new Error(`no ${SETTINGS_DEFAULTS_FILE} in ${sourceWhere(access.deployment)} on ${host.target.host}: Mastodon's defaults are needed to know the registrations mode`);
    return resolveMastodonSettings({ registrations_mode: rowFromSql(rows[0].value) }, defaults).registrationsMode;
}

/** Registrations closed (mode "none"); the mode found the first time is put back on the way back. */
export const closeRegistrations: Step<{ mode: "none" }, { previousMode: string }> = {
    async apply(host, access, _p, previous) {
        const mode = await readRegistrationsMode(host, access);
        if (mode === undefined) throw new Error(`cannot read the registrations mode: PostgreSQL on ${host.target.host} does not answer`);
        if (mode !== "none") await tootctl(host, access, "settings registrations close");
        return previous ?? { previousMode: mode };
    },
    async read(host, access, p, result) {
        const mode = await readRegistrationsMode(host, access);
        return { params: mode !== undefined ? { ...p, mode: mode as "none" } : p, result };
    },
    async undo(host, access, _p, outputs) {
        const arg = { none: "close", open: "open", approved: "approved" }[outputs.previousMode] ?? "close";
        await tootctl(host, access, `settings registrations ${arg}`);
    },
};

// --- announcements -------------------------------------------------------------------------------------

export interface AnnouncementParams {
    text: string;
    /** ISO time; null publishes at once. */
    scheduledAt: string | null;
}

/** Text of a row the closure made that is no longer on the host. */
export const MISSING_ROW = "(not on the host any more)";

/** A reminder whose time has passed when it is first made is skipped (announcementId 0), never
 *  published late: "closes in 30 days" four days before closing would mislead. */
export const announcement: Step<AnnouncementParams, { announcementId: number }> = {
    async apply(host, access, p, previous) {
        if (previous?.announcementId) await railsRunner(host, access, "withdraw_announcement.rb", { id: previous.announcementId });
        if (p.scheduledAt !== null && new Date(p.scheduledAt) <= new Date()) return { announcementId: 0 };
        const r = await railsRunner(host, access, "announce.rb", { text: p.text, scheduled_at: p.scheduledAt });
        return { announcementId: Number(r.id) };
    },
    async read(host, access, p, result) {
        if (!result.announcementId) return { params: p, result };
        const rows = await queryOrUndefined<{ text: string }>(host, access, "SELECT text FROM announcements WHERE id = $1", [result.announcementId]);
        if (!rows) return { params: p, result };
        return { params: { ...p, text: rows[0]?.text ?? MISSING_ROW }, result };
    },
    async undo(host, access, _p, outputs) {
        if (outputs.announcementId) await railsRunner(host, access, "withdraw_announcement.rb", { id: outputs.announcementId });
    },
};

/** The main announcement e-mailed to every confirmed user of an unsuspended account (4.4+), once per host:
 *  the host's record (EMAIL_RECORD) says it was sent, so a later announcement (a moved date, a new text, a
 *  second closure after moving back) is not e-mailed again; moving back cannot call an e-mail back. */
export const announcementEmail: Step<{ announcementId: number }, EmailRecord> = {
    async apply(host, access, p, previous) {
        if (previous) return previous;
        const recorded = await host.readFile(EMAIL_RECORD, "read the announcement e-mail record");
        if (recorded) return JSON.parse(recorded) as EmailRecord;
        const r = await railsRunner(host, access, "distribute_announcement.rb", { id: p.announcementId });
        const sent: EmailRecord = { sentAt: String(r.sent_at), recipients: Number(r.recipients), announcementId: p.announcementId };
        await host.writeFile(EMAIL_RECORD, JSON.stringify(sent, null, 2) + "\n", { owner: "root", mode: "644", label: "record the announcement e-mail" });
        return sent;
    },
    // The e-mails are out: nothing on the host to read back or take back.
    read: unchanged,
    async undo() {},
};

export interface EmailRecord {
    sentAt: string;
    recipients: number;
    /** The announcement that was e-mailed. */
    announcementId: number;
}

// --- public status -------------------------------------------------------------------------------------

export interface PublicStatusParams {
    text: string;
    domain: string;
    /** The Rails backend as the vhost names it, e.g. 127.0.0.1:3000: called on the host, as nginx would. */
    backend: string;
}

/** A Mastodon API call from the host to its own backend; the token goes on stdin, never in argv. */
async function statusesApi(host: RemoteHost, access: HostAccess, p: PublicStatusParams, method: "POST" | "DELETE", path: string, body = ""): Promise<any> {
    if (!access.statusToken) throw new Error("statusToken is not set");
    // From the proxy host: the backend is named as nginx reaches it.
    const proxy = await host.on("proxy");
    const r = await proxy.run(
        `set -euo pipefail; IFS= read -r token; h=$(mktemp); trap 'rm -f "$h"' EXIT
printf 'Authorization: Bearer %s\n' "$token" > "$h"
curl -sS --fail-with-body -X ${method} -H @"$h" -H ${shq(`Host: ${p.domain}`)} -H 'X-Forwarded-Proto: https' \
  -H 'Content-Type: application/json' --data-binary @- ${shq(`http://${p.backend}${path}`)}`,
        { stdin: `${access.statusToken}\n${body}`, label: `${method} ${path}` },
    );
    return JSON.parse(r.stdout);
}

/** The announcement also posted as a public status (POST /api/v1/statuses); deleted on the way back. */
export const publicStatus: Step<PublicStatusParams, { statusId: string }> = {
    async apply(host, access, p, previous) {
        if (previous) await statusesApi(host, access, p, "DELETE", `/api/v1/statuses/${previous.statusId}`).catch(() => undefined);
        const r = await statusesApi(host, access, p, "POST", "/api/v1/statuses", JSON.stringify({ status: p.text, visibility: "public" }));
        return { statusId: String(r.id) };
    },
    async read(host, access, p, result) {
        const rows = await queryOrUndefined<{ text: string }>(host, access, "SELECT text FROM statuses WHERE id = $1 AND deleted_at IS NULL", [result.statusId]);
        if (!rows) return { params: p, result };
        return { params: { ...p, text: rows[0]?.text ?? MISSING_ROW }, result };
    },
    async undo(host, access, p, outputs) {
        await statusesApi(host, access, p, "DELETE", `/api/v1/statuses/${outputs.statusId}`);
    },
};

// --- archives ------------------------------------------------------------------------------------------

export const requestArchives: Step<{ recentDays: number }, { requested: number; skipped: number }> = {
    async apply(host, access, p, previous) {
        if (previous) return previous;
        const r = await railsRunner(host, access, "request_archives.rb", { recent_days: p.recentDays });
        return { requested: Number(r.requested), skipped: Number(r.skipped) };
    },
    // The archives belong to their users: the closure owns nothing there to read back or take back.
    read: unchanged,
    async undo() {},
};

// --- self-destruct -------------------------------------------------------------------------------------

export { versionAtLeast };

export interface SelfDestructParams {
    domain: string;
    mastodonVersion: string;
    /** Mastodon is in self-destruct mode: SELF_DESTRUCT in .env.production verifies (4.3+). */
    enabled: true;
}

/** Refuses a one-way step unless nginx, asked on its host (the proxy's) now, answers 410 on the fediverse paths. */
async function require410(host: RemoteHost, domain: string, what: string): Promise<void> {
    const paths = fediversePaths(domain);
    const proxy = await host.on("proxy");
    const codes = await nginxAnswers(proxy, domain, paths);
    const wrong = paths.map((r, i) => ({ ...r, code: codes[i] })).filter((r) => r.code !== "410");
    if (wrong.length) {
        throw new Error(
            `${what} refused, nothing was changed: nginx on the host${proxy === host ? "" : ` in front (${proxy.target.host})`} answers ${wrong.map((w) => `${w.code} to ${w.method} ${w.path.split("?")[0]}`).join(", ")}, ` +
                `not 410: the closure's 410 vhost is not what nginx serves. Run up at stage "closed" first (or put the closure vhost back)`,
        );
    }
}

/** The legacy command's time limit: it signs and queues a Delete for every local account in one process. */
const LEGACY_SELF_DESTRUCT_LIMIT_SECONDS = 4 * 3600;

async function readEnvProduction(host: RemoteHost, access: HostAccess): Promise<string> {
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
    const env = { SELF_DESTRUCT: envValue(envFile, "SELF_DESTRUCT"), SECRET_KEY_BASE: envValue(envFile, "SECRET_KEY_BASE"), LOCAL_DOMAIN: envValue(envFile, "LOCAL_DOMAIN") };
    if (!env.SELF_DESTRUCT?.trim()) return false;
    if (env.SECRET_KEY_BASE && env.LOCAL_DOMAIN) return isSelfDestructMode(env);
    return (await railsRunner(host, access, "self_destruct_value.rb", {})).enabled === true;
}

/** One-way. 4.3+: the SELF_DESTRUCT value goes into .env.production (on stdin, never in argv) and the
 *  Mastodon services restart once; a value already there is kept only if it verifies (else Mastodon would
 *  silently stay out of self-destruct mode) and is replaced by the one Rails generates. Before 4.3: the
 *  legacy `tootctl self-destruct`, answered and time-limited. Either runs only while nginx, asked on the
 *  host at that moment, answers 410 to the fediverse. */
export const selfDestruct: Step<SelfDestructParams, { value: string; enabledAt: string; mode: string }> = {
    async apply(host, access, p, previous) {
        if (!versionAtLeast(p.mastodonVersion, 4, 3)) {
            if (previous) return previous;
            await require410(host, p.domain, "self-destruct");
            const out = await tootctl(host, access, "self-destruct", { answers: [p.domain, "y"], limitSeconds: LEGACY_SELF_DESTRUCT_LIMIT_SECONDS });
            const said = /Queued \d+ items into Sidekiq for \d+ accounts|It seems like your server has not federated with anything/.exec(out);
            if (!said) throw new Error(`the legacy tootctl self-destruct ended without saying it queued the deletions: ${out.trim().split("\n").pop() ?? "(no output)"}`);
            return { value: "", enabledAt: new Date().toISOString(), mode: `legacy tootctl self-destruct: ${said[0]}` };
        }
        const envText = await readEnvProduction(host, access);
        const existing = envValue(envText, "SELF_DESTRUCT") ?? "";
        const existingWorks = await selfDestructModeOnHost(host, access, envText);
        if (previous && existing === previous.value && existingWorks) return previous;
        await require410(host, p.domain, "self-destruct");
        const value = existingWorks ? existing : String((await railsRunner(host, access, "self_destruct_value.rb", {})).value);
        if (value !== existing) {
            await host.run(
                `set -e; f=${shq(envFile(access.deployment))}; IFS= read -r value; t=$(mktemp "$f.XXXXXX")
grep -Ev '^[[:space:]]*(export[[:space:]]+)?SELF_DESTRUCT[[:space:]]*=' "$f" > "$t" || true
printf 'SELF_DESTRUCT=%s\\n' "$value" >> "$t"
chown --reference="$f" "$t"; chmod --reference="$f" "$t"; mv -f "$t" "$f"`,
                { stdin: `${value}\n`, label: existing ? "replace the SELF_DESTRUCT in .env.production that does not verify" : "write SELF_DESTRUCT to .env.production" },
            );
            if (!(await selfDestructModeOnHost(host, access, await readEnvProduction(host, access)))) {
                throw new Error(`the SELF_DESTRUCT value Rails generated does not verify in .env.production on ${host.target.host}: check SECRET_KEY_BASE and LOCAL_DOMAIN there`);
            }
        }
        await host.run(restartMastodonLine(access.deployment), { label: "restart Mastodon into self-destruct mode" });
        return { value, enabledAt: previous?.enabledAt ?? new Date().toISOString(), mode: "SELF_DESTRUCT" };
    },
    async read(host, access, p, result) {
        if (result.mode !== "SELF_DESTRUCT") return { params: p, result };
        const enabled = await selfDestructModeOnHost(host, access, await readEnvProduction(host, access));
        return { params: { ...p, enabled: enabled as true }, result };
    },
    // One-way: accounts are being deleted on other servers. Nothing to undo.
    async undo() {},
};

// --- database dump -------------------------------------------------------------------------------------

export interface DumpParams {
    dir: string;
    retentionDays: number;
    ageRecipient?: string;
    /** The dump file is on the host and matches its sha256. */
    intact: true;
}

export interface DumpManifest {
    path: string;
    sha256: string;
    bytes: number;
    /** Entries `pg_restore --list` found in the dump before it was (optionally) encrypted. */
    tocEntries: number;
    encrypted: boolean;
    createdAt: string;
    retainUntil: string;
}

/** sha256 of a file on the host, or undefined when it is not there. */
async function sha256Of(host: RemoteHost, path: string): Promise<string | undefined> {
    const r = await host.run(`if [ -e ${shq(path)} ]; then sha256sum ${shq(path)} | cut -d' ' -f1; else exit 44; fi`, { label: `sha256 of ${path}`, okCodes: [44] });
    return r.code === 44 ? undefined : r.stdout.trim();
}

/** pg_dump in custom format, verified with `pg_restore --list` before anything may stop the database,
 *  optionally encrypted to an age recipient, sha256 and a manifest written beside it. Kept on delete.
 *  A failed or interrupted dump leaves no file behind. A dump that vanished later is reported, never made
 *  again silently: the database has changed since (self-destruct), and the old dump is the one to keep. */
export const databaseDump: Step<DumpParams, DumpManifest> = {
    async apply(host, access, p, previous) {
        if (previous) {
            const sum = await sha256Of(host, previous.path);
            if (sum === previous.sha256) return previous;
            throw new Error(
                `the database dump ${previous.path} made ${previous.createdAt} (sha256 ${previous.sha256}) is ${sum ? `changed (sha256 ${sum})` : "gone"} on the host. ` +
                    `It is not made again from a database that self-destruct has been changing since. Put your copy back at that path; ` +
                    `or, to keep a new dump instead, remove the DatabaseDump resource from the stack (pulumi state delete with its URN from pulumi stack --show-urns) and run up again`,
            );
        }
        const db = access.database;
        const lines = dumpLines(access.deployment, db);
        const createdAt = new Date();
        const stamp = createdAt.toISOString().replace(/[-:]/g, "").replace(/\..*/, "Z");
        const retainUntil = new Date(createdAt.getTime() + p.retentionDays * 86400_000).toISOString();
        const base = `${p.dir}/${db.name}-${stamp}.dump`;
        const r = await host.run(
            `set -euo pipefail; umask 077; IFS= read -r PGPASSWORD; export PGPASSWORD
mkdir -p ${shq(p.dir)}; chmod 700 ${shq(p.dir)}
f=${shq(base)}; done=0; ticker=
trap '[ -z "$ticker" ] || kill "$ticker" 2>/dev/null; [ "$done" = 1 ] || rm -f "$f" "$f.age" "$f.sha256" "$f.age.sha256"' EXIT
${lines.dump} &
dump=$!
# The size every 5 s while pg_dump runs, ended as soon as it is done (its sleep holds no output open).
while sleep 5 </dev/null >/dev/null 2>&1; do echo "progress: $(stat -c %s "$f" 2>/dev/null || echo 0)"; done &
ticker=$!
wait "$dump"
kill "$ticker" 2>/dev/null; ticker=
entries=$(${lines.list} | grep -cv '^;' || true)
[ "$entries" -gt 0 ] || { echo "pg_restore --list found no entries in $f" >&2; exit 1; }
${p.ageRecipient ? `age -r ${shq(p.ageRecipient)} -o "$f.age" "$f"; rm -f "$f"; f="$f.age"` : ":"}
sum=$(sha256sum "$f" | cut -d' ' -f1); bytes=$(stat -c %s "$f")
echo "$sum  $(basename "$f")" > "$f.sha256"
done=1
printf '{"path":"%s","sha256":"%s","bytes":%s,"tocEntries":%s}\\n' "$f" "$sum" "$bytes" "$entries"`,
            {
                stdin: `${db.password}\n`,
                label: "pg_dump and verify the Mastodon database",
                // Shown by the engine while the step runs: a large database takes a while.
                onLine: (line) => line.startsWith("progress: ") && console.error(`database dump: ${(Number(line.slice(10)) / 1e6).toFixed(1)} MB written so far`),
            },
        );
        const made = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
        const manifest: DumpManifest = { ...made, encrypted: !!p.ageRecipient, createdAt: createdAt.toISOString(), retainUntil };
        await host.writeFile(`${made.path}.manifest.json`, JSON.stringify(manifest, null, 2) + "\n", {
            owner: "root",
            mode: "600",
            label: "write the dump manifest",
        });
        return manifest;
    },
    async read(host, _access, p, result) {
        return { params: { ...p, intact: ((await sha256Of(host, result.path)) === result.sha256) as true }, result };
    },
    // The dump is kept: it is the only copy of the data once the host is turned off.
    async undo() {},
};

// --- services ------------------------------------------------------------------------------------------

/** How a service was found before the closure stopped it. */
export type UnitState = ServiceState;

export interface StopParams {
    /** Stopped and disabled, in this order; started again in reverse order on the way back. */
    units: string[];
    /** The verified dump the stop depends on: checked on the host again right before the first stop. */
    dump?: { path: string; sha256: string; encrypted: boolean };
    /** The host record of how these units were found, when not the closure's main one (SERVICES_RECORD). */
    record?: string;
    /** Units of the host's own systemd (nginx in front, PostgreSQL on a database host), not the deployment's
     *  Mastodon services. */
    hostUnits?: boolean;
    /** The host the units are on, when not the Mastodon host's: `database` for PostgreSQL on a machine of its
     *  own. Host units without it are the proxy's (nginx). */
    role?: Exclude<HostRole, "app">;
}

/** The host a stop acts on. */
export function stopRole(p: StopParams): HostRole {
    return p.role ?? (p.hostUnits ? "proxy" : "app");
}

/** What starts and stops the units of a stop. */
const managerOf = (access: HostAccess, p: StopParams): ServiceManager => (p.hostUnits ? HOST_SYSTEMD : serviceManager(access.deployment));

async function unitStates(host: RemoteHost, manager: ServiceManager, units: string[]): Promise<UnitState[]> {
    // No units (the stop declared below dormant to start them again): nothing to ask, and no empty line
    // to read as a unit.
    if (units.length === 0) return [];
    const r = await host.run(serviceStatesScript(manager, units), { label: `state of ${units.join(", ")}` });
    return r.stdout.trim().split("\n").map((line, i) => parseServiceState(units[i], line));
}

/** Refuses to stop anything unless the dump on disk matches its sha256 and (when not encrypted) lists
 *  entries with pg_restore --list, now, on the Mastodon host where it was made. */
async function requireIntactDump(host: RemoteHost, access: HostAccess, dump: NonNullable<StopParams["dump"]>): Promise<void> {
    const list = dumpLines(access.deployment, access.database).list;
    const app = await host.on("app");
    const r = await app.run(
        `set -uo pipefail; f=${shq(dump.path)}
[ -e "$f" ] || { echo "missing"; exit 0; }
sum=$(sha256sum "$f" | cut -d' ' -f1); [ "$sum" = ${shq(dump.sha256)} ] || { echo "sha256 $sum"; exit 0; }
${dump.encrypted ? "echo ok" : `n=$(${list} 2>/dev/null | grep -cv '^;' || true); [ "\${n:-0}" -gt 0 ] && echo ok || echo "pg_restore --list found no entries"`}`,
        { label: "check the database dump before stopping anything" },
    );
    const seen = r.stdout.trim();
    if (seen === "ok") return;
    if (app === host) throw new Error(`services not stopped, nothing was changed: the dump ${dump.path} (sha256 ${dump.sha256}) is not intact on the host: ${seen}`);
    // PostgreSQL on a host of its own: its stop runs after the Mastodon host's, and the dump is not there.
    throw new Error(
        `services not stopped on ${host.target.host}, nothing was changed there: the dump ${dump.path} (sha256 ${dump.sha256}) is not intact on the Mastodon host ${app.target.host}: ${seen}`,
    );
}

/** The record of how the closure found each service, from the host (written before the first stop). */
async function recordedStates(host: RemoteHost, record: string): Promise<UnitState[] | undefined> {
    const text = await host.readFile(record, "read the services record");
    return text ? (JSON.parse(text).states as UnitState[]) : undefined;
}

/**
 * Stop and disable units in the given order, only after the dump they depend on is checked on the host.
 * How each service was found is written on the host before the first one stops, once: a run killed half
 * way (or a later one that finds them stopped) still knows what to start again on the way back. With no
 * units (below dormant) it starts again what the record says and empties the record.
 */
export const stopServices: Step<StopParams, { states: UnitState[] }> = {
    async apply(host, access, p, previous) {
        const record = p.record ?? SERVICES_RECORD;
        const manager = managerOf(access, p);
        const onHost = await recordedStates(host, record);
        const recorded = onHost ?? previous?.states ?? [];
        const elsewhere = recorded.filter((s) => !p.units.includes(s.unit));
        if (elsewhere.length) await startAgain(host, manager, elsewhere); // units this stage no longer stops
        const current = await unitStates(host, manager, p.units);
        const todo = current.filter((s) => s.wasActive || s.wasEnabled);
        if (todo.length && p.dump) await requireIntactDump(host, access, p.dump);
        // How each unit was found: as first recorded, or as it is now for a unit stopped the first time.
        const states = p.units.map((u) => recorded.find((s) => s.unit === u) ?? current.find((s) => s.unit === u)!);
        // With every unit started again the record stays, empty: the host keeps saying that the closure had
        // stopped services, so later runs declare this step as this one did (and converge).
        if (onHost === undefined || JSON.stringify(states) !== JSON.stringify(onHost)) {
            await host.writeFile(record, JSON.stringify({ states }, null, 2) + "\n", { owner: "root", mode: "644", label: "record how the services were found" });
        }
        for (const s of todo) await host.run(stopServiceLine(manager, s.unit), { label: `stop and disable ${s.unit}` });
        return { states };
    },
    /** Reports as stopped the units this stop has down, and the recorded ones it is to start again that are
     *  not back as they were found: a move back to below dormant killed before it started them shows as
     *  drift, so the next `up --refresh` starts them. */
    async read(host, access, p, result) {
        const recorded = (await recordedStates(host, p.record ?? SERVICES_RECORD)) ?? [];
        const toStartAgain = recorded.filter((s) => !p.units.includes(s.unit));
        const now = await unitStates(host, managerOf(access, p), [...p.units, ...toStartAgain.map((s) => s.unit)]);
        const down = now.filter((s) => p.units.includes(s.unit) && !s.wasActive && !s.wasEnabled);
        const notBack = now.filter((s) => {
            const found = toStartAgain.find((r) => r.unit === s.unit);
            return found !== undefined && ((found.wasActive && !s.wasActive) || (found.wasEnabled && !s.wasEnabled));
        });
        return { params: { ...p, units: [...down, ...notBack].map((s) => s.unit) }, result };
    },
    async undo(host, access, p, outputs) {
        const record = p.record ?? SERVICES_RECORD;
        await startAgain(host, managerOf(access, p), (await recordedStates(host, record)) ?? outputs.states);
        await host.run(`rm -f ${shq(record)}`, { label: "remove the services record" });
    },
};

async function startAgain(host: RemoteHost, manager: ServiceManager, states: UnitState[]): Promise<void> {
    for (const s of [...states].reverse()) {
        for (const { what, line } of startServiceLines(manager, s)) await host.run(line, { label: what });
    }
}

// --- journal -------------------------------------------------------------------------------------------

export interface Journal {
    stage: string;
    reachedAt: Record<string, string>;
    /** The closing date the announcement gives (the last one applied). */
    announcedClosingDate?: string;
}

/** Record on the host the stage it reached and when each stage was last entered from below (gates count
 *  from it). Written last, once every step of the stage holds on the host. */
export const journal: Step<{ stage: string; closingDate?: string }, Journal> = {
    async apply(host, _access, p) {
        const text = await host.readFile(JOURNAL_PATH, "read the closure journal");
        const old: Journal = text ? JSON.parse(text) : { stage: "operating", reachedAt: {} };
        const next: Journal = { ...old, stage: p.stage, reachedAt: { ...old.reachedAt } };
        // Entering a stage from below starts its clock anew (a second announcement, a second 410 period);
        // coming back down to it keeps the time it was first reached.
        const order = STAGES as readonly string[];
        if (order.indexOf(p.stage) > order.indexOf(old.stage) || !next.reachedAt[p.stage]) next.reachedAt[p.stage] = new Date().toISOString();
        // The date users were told last: moving it earlier is checked against it (lib/rules/gates.ts).
        if (p.stage === "operating") delete next.announcedClosingDate;
        else if (p.closingDate) next.announcedClosingDate = p.closingDate;
        await host.writeFile(JOURNAL_PATH, JSON.stringify(next, null, 2) + "\n", { owner: "root", mode: "644", label: "write the closure journal" });
        return next;
    },
    async read(host, _access, p, result) {
        const text = await host.readFile(JOURNAL_PATH, "read the closure journal");
        return { params: { ...p, stage: text ? (JSON.parse(text) as Journal).stage : "(no journal)" }, result };
    },
    // Back to operating: the journal stays (the host's own record of its closure) with the stage reset.
    async undo(host, access, _p, outputs) {
        await journal.apply(host, access, { stage: "operating" }, outputs);
    },
};

export const STEPS = {
    nginxSite,
    closeRegistrations,
    announcement,
    announcementEmail,
    publicStatus,
    requestArchives,
    selfDestruct,
    databaseDump,
    stopServices,
    journal,
};
export type StepKind = keyof typeof STEPS;

/** The host a step acts on: nginx's vhost on the proxy, a stop where its units are, the rest on the
 *  Mastodon host (its files, commands, database connection and the closure's records). */
export function roleOfStep(kind: StepKind, params: unknown): HostRole {
    if (kind === "nginxSite") return "proxy";
    if (kind === "stopServices") return stopRole(params as StopParams);
    return "app";
}
