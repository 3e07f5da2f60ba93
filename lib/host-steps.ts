// What the closure does on the Mastodon host, one step per concern: `apply` brings the host to the
// step's desired state (and is safe to run again), `undo` puts back what it changed, where that can be done.
// Run by the dynamic provider in lib/host-step-resource.ts, one SSH connection per operation.
import { RemoteHost, shq, SshTarget } from "./ssh";
import { STAGES } from "./stages";

/** Everything a step needs to reach the host. Carries secrets: always a Pulumi secret. */
export interface HostAccess {
    ssh: SshTarget;
    database: { host: string; port: number; name: string; user: string; password: string };
    liveDir: string;
    mastodonUser: string;
    /** Access token with write:statuses (statusToken), when the announcement is also a public status. */
    statusToken?: string;
}

/** A shell line running a Mastodon command (bin/tootctl, bin/rails) as the Mastodon user, with rbenv's
 *  Ruby on PATH as the install guide sets it up, from the live directory. */
export function asMastodon(access: HostAccess, command: string): string {
    const u = shq(access.mastodonUser);
    return (
        `home=$(getent passwd ${u} | cut -d: -f6); cd ${shq(access.liveDir)} && ` +
        `runuser -u ${u} -- env HOME="$home" PATH="$home/.rbenv/shims:$home/.rbenv/bin:$PATH" RAILS_ENV=production ${command}`
    );
}

/** Run one of the closure's Ruby scripts (rails/*.rb) with `bin/rails runner`, JSON in and out. */
export async function railsRunner(host: RemoteHost, access: HostAccess, script: { name: string; body: string }, input: object): Promise<any> {
    const r = await host.run(
        `set -e; d=$(mktemp -d /tmp/mastodon-closure.XXXXXX); trap 'rm -rf "$d"' EXIT; ` +
            `echo ${shq(Buffer.from(script.body).toString("base64"))} | base64 -d > "$d/${script.name}"; ` +
            `chmod 755 "$d"; chmod 644 "$d/${script.name}"; ` +
            asMastodon(access, `bin/rails runner "$d/${script.name}"`),
        { stdin: JSON.stringify(input), label: `bin/rails runner ${script.name}` },
    );
    const last = r.stdout.trim().split("\n").pop() ?? "";
    try {
        return JSON.parse(last);
    } catch {
        throw new Error(`bin/rails runner ${script.name} printed no JSON result: ${last.slice(0, 200)}`);
    }
}

export async function tootctl(host: RemoteHost, access: HostAccess, args: string, opts: { stdin?: string } = {}): Promise<string> {
    const r = await host.run(asMastodon(access, `bin/tootctl ${args}`), { stdin: opts.stdin, label: `tootctl ${args.split(" ").slice(0, 3).join(" ")}` });
    return r.stdout;
}

export interface Step<P, O> {
    apply(host: RemoteHost, access: HostAccess, params: P, previous?: O): Promise<O>;
    undo(host: RemoteHost, access: HostAccess, params: P, outputs: O): Promise<void>;
}

// --- nginx vhost -------------------------------------------------------------------------------------

export interface NginxSiteParams {
    site: string;
    content: string;
}

/** Swap in a vhost, validated with `nginx -t` before the reload; on rejection the previous file is put
 *  back and nothing is reloaded. The server's own vhost is kept the first time, to restore byte for byte. */
export const nginxSite: Step<NginxSiteParams, { reloaded: boolean }> = {
    async apply(host, _access, p) {
        const s = shq(p.site);
        const r = await host.run(
            `set -e; site=${s}; keep="$site.closure-original"; prev="$site.closure-previous"; new="$site.closure-new"
[ -e "$keep" ] || cp -p "$site" "$keep"
cat > "$new"; chown --reference="$site" "$new"; chmod --reference="$site" "$new"
if cmp -s "$new" "$site"; then rm -f "$new"; echo unchanged; exit 0; fi
cp -p "$site" "$prev"; mv -f "$new" "$site"
if ! out=$(nginx -t 2>&1); then
  mv -f "$prev" "$site"
  printf '%s\\nnginx -t rejected the closure vhost; the previous vhost is back in place and nginx was not reloaded\\n' "$out" >&2
  exit 1
fi
rm -f "$prev"; systemctl reload nginx; echo reloaded`,
            { stdin: p.content, label: `install the closure vhost at ${p.site}` },
        );
        return { reloaded: r.stdout.trim().endsWith("reloaded") };
    },
    async undo(host, _access, p) {
        await host.run(
            `set -e; site=${shq(p.site)}; keep="$site.closure-original"; prev="$site.closure-previous"
[ -e "$keep" ] || { echo "no kept original vhost at $keep; the site stays as it is" >&2; exit 0; }
cp -p "$site" "$prev"; cp -p "$keep" "$site"
if ! out=$(nginx -t 2>&1); then
  mv -f "$prev" "$site"
  printf '%s\\nnginx -t rejected the restored original vhost; the closure vhost stays in place\\n' "$out" >&2
  exit 1
fi
rm -f "$prev" "$keep"; systemctl reload nginx`,
            { label: `restore the original vhost at ${p.site}` },
        );
    },
};

// --- registrations -----------------------------------------------------------------------------------

/** Mastodon stores settings as YAML scalars ("--- open\n"). */
export function parseSettingValue(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    return /^---\s*['"]?([^'"\s]+)/.exec(value)?.[1];
}

/** The registrations mode a `settings` row stands for; no row means Mastodon's default from
 *  config/settings.yml, which is "none". */
export function registrationsMode(value: string | undefined): string {
    return parseSettingValue(value) ?? "none";
}

export const closeRegistrations: Step<Record<string, never>, { previousMode: string }> = {
    async apply(host, access, _p, previous) {
        if (previous) return previous;
        const db = await host.postgres(access.database);
        let mode: string;
        try {
            const rows = await db.query("SELECT value FROM settings WHERE var = 'registrations_mode'");
            mode = registrationsMode(rows.rows[0]?.value);
        } finally {
            await db.end();
        }
        if (mode !== "none") await tootctl(host, access, "settings registrations close");
        return { previousMode: mode };
    },
    async undo(host, access, _p, outputs) {
        const arg = { none: "close", open: "open", approved: "approved" }[outputs.previousMode] ?? "close";
        await tootctl(host, access, `settings registrations ${arg}`);
    },
};

// --- announcements -----------------------------------------------------------------------------------

export interface RailsScript {
    name: string;
    body: string;
}

export interface AnnouncementParams {
    text: string;
    /** ISO time; null publishes at once. */
    scheduledAt: string | null;
    announce: RailsScript;
    withdraw: RailsScript;
}

/** A reminder whose time has passed when it is first made is skipped (announcementId 0), never
 *  published late: "closes in 30 days" four days before closing would mislead. */
export const announcement: Step<AnnouncementParams, { announcementId: number }> = {
    async apply(host, access, p, previous) {
        if (previous?.announcementId) await railsRunner(host, access, p.withdraw, { id: previous.announcementId });
        if (p.scheduledAt !== null && new Date(p.scheduledAt) <= new Date()) return { announcementId: 0 };
        const r = await railsRunner(host, access, p.announce, { text: p.text, scheduled_at: p.scheduledAt });
        return { announcementId: Number(r.id) };
    },
    async undo(host, access, p, outputs) {
        if (outputs.announcementId) await railsRunner(host, access, p.withdraw, { id: outputs.announcementId });
    },
};

// --- public status -----------------------------------------------------------------------------------

export interface PublicStatusParams {
    text: string;
    domain: string;
    /** The Rails backend as the vhost names it, e.g. 127.0.0.1:3000: called on the host, as nginx would. */
    backend: string;
}

/** A Mastodon API call from the host to its own backend; the token goes on stdin, never in argv. */
async function statusesApi(host: RemoteHost, access: HostAccess, p: PublicStatusParams, method: "POST" | "DELETE", path: string, body = ""): Promise<any> {
    if (!access.statusToken) throw new Error("statusToken is not set");
    const r = await host.run(
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
        if (previous) await statusesApi(host, access, p, "DELETE", `/api/v1/statuses/${previous.statusId}`);
        const r = await statusesApi(host, access, p, "POST", "/api/v1/statuses", JSON.stringify({ status: p.text, visibility: "public" }));
        return { statusId: String(r.id) };
    },
    async undo(host, access, p, outputs) {
        await statusesApi(host, access, p, "DELETE", `/api/v1/statuses/${outputs.statusId}`);
    },
};

// --- archives ----------------------------------------------------------------------------------------

export const requestArchives: Step<{ recentDays: number; script: RailsScript }, { requested: number; skipped: number }> = {
    async apply(host, access, p, previous) {
        if (previous) return previous;
        const r = await railsRunner(host, access, p.script, { recent_days: p.recentDays });
        return { requested: Number(r.requested), skipped: Number(r.skipped) };
    },
    // Archives are the users' data: nothing to take back.
    async undo() {},
};

// --- self-destruct -----------------------------------------------------------------------------------

export const MASTODON_UNITS = ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq"];

export function versionAtLeast(version: string, major: number, minor: number): boolean {
    const m = /^v?(\d+)\.(\d+)/.exec(version);
    return !!m && (+m[1] > major || (+m[1] === major && +m[2] >= minor));
}

export interface SelfDestructParams {
    domain: string;
    mastodonVersion: string;
    script: RailsScript;
}

/** One-way. 4.3+: the SELF_DESTRUCT value goes into .env.production (on stdin, never in argv) and the
 *  Mastodon services restart once. Before 4.3: the legacy `tootctl self-destruct`, which deletes itself. */
export const selfDestruct: Step<SelfDestructParams, { value: string; enabledAt: string; mode: string }> = {
    async apply(host, access, p, previous) {
        if (previous) return previous;
        const enabledAt = new Date().toISOString();
        if (!versionAtLeast(p.mastodonVersion, 4, 3)) {
            await tootctl(host, access, "self-destruct", { stdin: `${p.domain}\ny\ny\n` });
            return { value: "", enabledAt, mode: "legacy tootctl self-destruct" };
        }
        const env = `${access.liveDir}/.env.production`;
        const existing = await host.run(`grep -E '^SELF_DESTRUCT=.+' ${shq(env)} | tail -n 1 | cut -d= -f2-`, {
            label: "read SELF_DESTRUCT from .env.production",
        });
        let value = existing.stdout.trim();
        if (!value) {
            value = String((await railsRunner(host, access, p.script, {})).value);
            await host.run(
                `set -e; f=${shq(env)}; IFS= read -r value; t=$(mktemp "$f.XXXXXX")
grep -v '^SELF_DESTRUCT=' "$f" > "$t" || true
printf 'SELF_DESTRUCT=%s\\n' "$value" >> "$t"
chown --reference="$f" "$t"; chmod --reference="$f" "$t"; mv -f "$t" "$f"`,
                { stdin: `${value}\n`, label: "write SELF_DESTRUCT to .env.production" },
            );
        }
        await host.run(`systemctl restart ${MASTODON_UNITS.join(" ")}`, { label: "restart Mastodon into self-destruct mode" });
        return { value, enabledAt, mode: "SELF_DESTRUCT" };
    },
    // One-way: accounts are being deleted on other servers. Nothing to undo.
    async undo() {},
};

// --- database dump -----------------------------------------------------------------------------------

export interface DumpParams {
    dir: string;
    retentionDays: number;
    ageRecipient?: string;
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

/** pg_dump in custom format, verified with `pg_restore --list` before anything may stop the database,
 *  optionally encrypted to an age recipient, sha256 and a manifest written beside it. Kept on delete. */
export const databaseDump: Step<DumpParams, DumpManifest> = {
    async apply(host, access, p, previous) {
        if (previous) return previous;
        const db = access.database;
        const createdAt = new Date();
        const stamp = createdAt.toISOString().replace(/[-:]/g, "").replace(/\..*/, "Z");
        const retainUntil = new Date(createdAt.getTime() + p.retentionDays * 86400_000).toISOString();
        const base = `${p.dir}/${db.name}-${stamp}.dump`;
        const r = await host.run(
            `set -euo pipefail; umask 077; IFS= read -r PGPASSWORD; export PGPASSWORD
mkdir -p ${shq(p.dir)}; chmod 700 ${shq(p.dir)}
f=${shq(base)}
pg_dump -Fc -h ${shq(db.host)} -p ${db.port} -U ${shq(db.user)} -d ${shq(db.name)} -f "$f"
entries=$(pg_restore --list "$f" | grep -cv '^;' || true)
[ "$entries" -gt 0 ] || { echo "pg_restore --list found no entries in $f" >&2; exit 1; }
${p.ageRecipient ? `age -r ${shq(p.ageRecipient)} -o "$f.age" "$f"; rm -f "$f"; f="$f.age"` : ":"}
sum=$(sha256sum "$f" | cut -d' ' -f1); bytes=$(stat -c %s "$f")
echo "$sum  $(basename "$f")" > "$f.sha256"
printf '{"path":"%s","sha256":"%s","bytes":%s,"tocEntries":%s}\\n' "$f" "$sum" "$bytes" "$entries"`,
            { stdin: `${db.password}\n`, label: "pg_dump and verify the Mastodon database" },
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
    // The dump is kept: it is the only copy of the data once the host is turned off.
    async undo() {},
};

// --- services ----------------------------------------------------------------------------------------

export interface UnitState {
    unit: string;
    wasActive: boolean;
    wasEnabled: boolean;
}

async function unitState(host: RemoteHost, unit: string): Promise<UnitState> {
    const r = await host.run(`systemctl is-active ${shq(unit)}; systemctl is-enabled ${shq(unit)}; true`, { label: `state of ${unit}` });
    const [active, enabled] = r.stdout.trim().split("\n");
    return { unit, wasActive: active === "active", wasEnabled: enabled === "enabled" };
}

/** Stop and disable units in the given order; on the way back start them in reverse order, as they were. */
export const stopServices: Step<{ units: string[] }, { states: UnitState[] }> = {
    async apply(host, _access, p, previous) {
        const states = previous?.states.filter((s) => p.units.includes(s.unit)) ?? [];
        const restore = previous?.states.filter((s) => !p.units.includes(s.unit)) ?? [];
        await startAgain(host, restore);
        for (const unit of p.units) {
            if (states.some((s) => s.unit === unit)) continue;
            states.push(await unitState(host, unit));
            await host.run(`systemctl disable --now ${shq(unit)}`, { label: `stop and disable ${unit}` });
        }
        return { states };
    },
    async undo(host, _access, _p, outputs) {
        await startAgain(host, outputs.states);
    },
};

async function startAgain(host: RemoteHost, states: UnitState[]): Promise<void> {
    for (const s of [...states].reverse()) {
        if (s.wasEnabled) await host.run(`systemctl enable ${shq(s.unit)}`, { label: `enable ${s.unit}` });
        if (s.wasActive) await host.run(`systemctl start ${shq(s.unit)}`, { label: `start ${s.unit}` });
    }
}

// --- journal -----------------------------------------------------------------------------------------

export const JOURNAL_PATH = "/var/lib/mastodon-closure/journal.json";

export interface Journal {
    stage: string;
    reachedAt: Record<string, string>;
}

/** Record on the host the stage it reached and when each stage was last entered from below (gates count
 *  from it). */
export const journal: Step<{ stage: string }, Journal> = {
    async apply(host, _access, p) {
        const text = await host.readFile(JOURNAL_PATH, "read the closure journal");
        const old: Journal = text ? JSON.parse(text) : { stage: "operating", reachedAt: {} };
        const next: Journal = { stage: p.stage, reachedAt: { ...old.reachedAt } };
        // Entering a stage from below starts its clock anew (a second announcement, a second 410 period);
        // coming back down to it keeps the time it was first reached.
        const order = STAGES as readonly string[];
        if (order.indexOf(p.stage) > order.indexOf(old.stage) || !next.reachedAt[p.stage]) next.reachedAt[p.stage] = new Date().toISOString();
        await host.writeFile(JOURNAL_PATH, JSON.stringify(next, null, 2) + "\n", { owner: "root", mode: "644", label: "write the closure journal" });
        return next;
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
    publicStatus,
    requestArchives,
    selfDestruct,
    databaseDump,
    stopServices,
    journal,
};
export type StepKind = keyof typeof STEPS;
