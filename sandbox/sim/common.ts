// Shared helpers for the Mastodon simulators that run inside a sandbox host.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import * as yaml from "js-yaml";
import * as yazl from "yazl";
import { generateSelfDestructValue, isSelfDestructMode } from "../../lib/mastodon/self-destruct";
import { versionAtLeast } from "../../lib/mastodon/version";

/** Mastodon's directory (Rails.root): the install guide's checkout, or the image's /opt/mastodon in a
 *  compose sandbox's containers (MASTODON_SIM_LIVE, set by the image). */
export const LIVE = process.env.MASTODON_SIM_LIVE || "/home/mastodon/live";
export const SIMDIR = "/var/lib/mastodon-sim";

export interface SimConfig {
    name: string;
    mastodonVersion: string;
    sidekiqTickMs: number;
    railsBootMs: number;
    accounts: number;
    /** Settings rows to seed (null: no row) and a fork's defaults; null: registrations open, upstream's defaults. */
    mastodonSettings: { rows: Record<string, string | number | null>; defaults: Record<string, string | number> } | null;
}

export function simConfig(): SimConfig {
    return JSON.parse(fs.readFileSync(path.join(SIMDIR, "config.json"), "utf8")) as SimConfig;
}

/** Parse a dotenv file the way Mastodon's dotenv does for simple KEY=value lines. */
export function readEnvFile(file = path.join(LIVE, ".env.production")): Record<string, string> {
    const out: Record<string, string> = {};
    let text = "";
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return out;
    }
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (!line || line.startsWith("#")) continue;
        const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
        if (!m) continue;
        let v = m[2];
        if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
        out[m[1]] = v;
    }
    return out;
}

/** Rails loads .env.production (dotenv) and lets the process environment override it. */
export function railsEnv(): Record<string, string> {
    const env = readEnvFile();
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return env;
}

// ---------------------------------------------------------------- self-destruct token
// Rails.application.message_verifier('self-destruct') as Mastodon 4.3+ configures it (lib/mastodon/self-destruct.ts,
// checked against Ruby's ActiveSupport in test/unit-self-destruct.test.ts).
export function selfDestructValue(secretKeyBase: string, domain: string): string {
    return generateSelfDestructValue(secretKeyBase, domain);
}

/** SelfDestructHelper.self_destruct?: the value must verify and decode to LOCAL_DOMAIN. */
export function isSelfDestruct(env: Record<string, string | undefined>): boolean {
    return isSelfDestructMode(env);
}

/** Whether a Mastodon process starting now is in self-destruct mode: SELF_DESTRUCT exists from 4.3 on. */
export function selfDestructAtStart(env: Record<string, string | undefined>): boolean {
    return versionAtLeast(simConfig().mastodonVersion, 4, 3) && isSelfDestruct(env);
}

// ---------------------------------------------------------------- database
export async function db(env: Record<string, string> = railsEnv()): Promise<Client> {
    const c = new Client({
        host: env.DB_HOST || "/var/run/postgresql",
        port: Number(env.DB_PORT || 5432),
        user: env.DB_USER || "mastodon",
        password: env.DB_PASS || undefined,
        database: env.DB_NAME || "mastodon_production",
    });
    await c.connect();
    return c;
}

// ---------------------------------------------------------------- Sidekiq state (stands in for Redis)
/** The activity an ActivityPub::DeliveryWorker job carries (its first argument, the signed JSON). */
export type Activity = "Delete" | "Move";

/** DeliveryWorker jobs of one activity pushed together (push_bulk), in the push queue's order. */
export interface DeliveryBatch {
    activity: Activity;
    n: number;
    /** Of them, deliveries to FLAKY_DOMAIN: they fail their first attempt. */
    flaky: number;
}

export interface SidekiqState {
    tick: number;
    queue: DeliveryBatch[]; // the push queue, oldest first
    retry: { due: number; n: number; activity: Activity }[]; // retry set: deliveries due again at tick `due`
    delivered: number;
    failed: number;
}

const STATE = path.join(SIMDIR, "sidekiq.json");
const LOCK = path.join(SIMDIR, "sidekiq.lock");

export function readState(): SidekiqState {
    try {
        return JSON.parse(fs.readFileSync(STATE, "utf8")) as SidekiqState;
    } catch {
        return { tick: 0, queue: [], retry: [], delivered: 0, failed: 0 };
    }
}

/** Deliveries waiting in the queue (Sidekiq::Stats#enqueued counts every job), or those of one activity. */
export function enqueuedSize(s: SidekiqState, activity?: Activity): number {
    return s.queue.filter((b) => !activity || b.activity === activity).reduce((a, b) => a + b.n, 0);
}

/** Deliveries in the retry set (Sidekiq::Stats#retry_size), or those of one activity. */
export function retrySize(s: SidekiqState, activity?: Activity): number {
    return s.retry.filter((r) => !activity || r.activity === activity).reduce((a, r) => a + r.n, 0);
}

/** push_bulk of one activity to `inboxes`: those on FLAKY_DOMAIN will fail their first attempt. */
export function pushDeliveries(s: SidekiqState, activity: Activity, inboxes: string[], times = 1): number {
    const n = inboxes.length * times;
    if (n > 0) s.queue.push({ activity, n, flaky: inboxes.filter((i) => i.includes(`://${FLAKY_DOMAIN}/`)).length * times });
    return n;
}

function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Read-modify-write of the Sidekiq state under a lock directory. */
export function updateState(fn: (s: SidekiqState) => void): SidekiqState {
    for (let i = 0; ; i++) {
        try {
            fs.mkdirSync(LOCK);
            break;
        } catch {
            if (i > 400) {
                fs.rmSync(LOCK, { recursive: true, force: true }); // stale lock
            }
            sleepSync(5);
        }
    }
    try {
        const s = readState();
        fn(s);
        const tmp = `${STATE}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(s));
        fs.renameSync(tmp, STATE);
        return s;
    } finally {
        fs.rmdirSync(LOCK);
    }
}

// ---------------------------------------------------------------- paperclip
// ---------------------------------------------------------------- zip
/** A zip archive of the given files, as BackupService writes one. */
export function makeZip(files: { name: string; data: Buffer }[]): Promise<Buffer> {
    const zip = new yazl.ZipFile();
    for (const f of files) zip.addBuffer(f.data, f.name);
    zip.end();
    const chunks: Buffer[] = [];
    return new Promise((resolve, reject) => {
        zip.outputStream.on("data", (d: Buffer) => chunks.push(d));
        zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
        zip.outputStream.on("error", reject);
    });
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** One Rails boot: costs railsBootMs and leaves a line in /var/lib/mastodon-sim/boots. */
export async function railsBoot(what: string): Promise<void> {
    const cfg = simConfig();
    await sleep(cfg.railsBootMs);
    fs.appendFileSync(path.join(SIMDIR, "boots"), `${new Date().toISOString()} ${process.pid} ${what}\n`);
}

/** Account.inboxes: distinct preferred inboxes of remote ActivityPub accounts. */
export const INBOXES_SQL = `SELECT DISTINCT COALESCE(NULLIF(shared_inbox_url, ''), inbox_url) AS inbox
  FROM accounts WHERE domain IS NOT NULL AND protocol = 1 AND suspended_at IS NULL
  AND COALESCE(NULLIF(shared_inbox_url, ''), inbox_url) <> ''`;

/** Inboxes on this domain fail their first delivery attempt (to exercise the retry set). */
export const FLAKY_DOMAIN = "flaky.example";

// ---------------------------------------------------------------- settings (app/models/setting.rb)
export const SETTINGS_YML = path.join(LIVE, "config", "settings.yml");

/** config/settings.yml in upstream's shape for a version (abridged to the keys the sandbox uses):
 *  registrations default "open" on 4.2, "none" from 4.3 on (PR #29280); a fork's `overrides` win. */
export function settingsYml(version: string, overrides: Record<string, string | number> = {}): string {
    const [major, minor] = version.split(".").map((x) => parseInt(x, 10));
    const defaults: Record<string, string | number | boolean> = {
        site_title: "Mastodon",
        registrations_mode: major > 4 || (major === 4 && minor >= 3) ? "none" : "open",
        profile_directory: true,
        closed_registrations_message: "",
        backups_retention_period: 7,
        ...overrides,
    };
    const line = (k: string, v: string | number | boolean) => `  ${k}: ${typeof v === "string" ? `'${v}'` : v}`;
    return [
        "# This file contains default values, and does not need to be edited. All",
        "# important settings can be changed from the admin interface.",
        "",
        "defaults: &defaults",
        ...Object.entries(defaults).map(([k, v]) => line(k, v)),
        "",
        "development:",
        "  <<: *defaults",
        "",
        "test:",
        "  <<: *defaults",
        "",
        "production:",
        "  <<: *defaults",
        "",
    ].join("\n");
}

/** Setting[key]: the row's value YAML-decoded when there is a row, else config/settings.yml's default for
 *  production (Setting.default_settings). */
export async function mastodonSetting(c: Client, key: string): Promise<unknown> {
    const r = await c.query(`SELECT value FROM settings WHERE var = $1`, [key]);
    if (r.rows.length) return r.rows[0].value && String(r.rows[0].value).trim() ? yaml.load(r.rows[0].value) : null;
    const doc = yaml.load(fs.readFileSync(SETTINGS_YML, "utf8")) as { production?: Record<string, unknown> } | null;
    return doc?.production?.[key] ?? null;
}

/** A scalar as Setting#value= stores it (Ruby's to_yaml: "--- open\n"). */
export function settingValue(v: string | number): string {
    return `--- ${yaml.dump(v)}`;
}

// ---------------------------------------------------------------- Sidekiq jobs and mail
/** Jobs enqueued for Sidekiq by Rails (perform_async), one JSON file each: the stand-in's queues. */
export const QUEUE_DIR = path.join(SIMDIR, "queue");
/** What UserMailer delivered: one line per e-mail. */
export const MAIL_LOG = path.join(SIMDIR, "mail.log");

/** Jobs of a worker class Rails enqueued that Sidekiq has not run yet. */
export function queuedJobs(worker: string): number {
    let files: string[] = [];
    try {
        files = fs.readdirSync(QUEUE_DIR).filter((f) => f.endsWith(".json"));
    } catch {
        return 0;
    }
    return files.filter((f) => {
        try {
            return (JSON.parse(fs.readFileSync(path.join(QUEUE_DIR, f), "utf8")) as { class: string }).class === worker;
        } catch {
            return false; // run and removed meanwhile
        }
    }).length;
}

export function performAsync(worker: string, args: unknown[]): void {
    fs.mkdirSync(QUEUE_DIR, { recursive: true });
    const file = path.join(QUEUE_DIR, `${Date.now()}-${process.pid}-${crypto.randomBytes(4).toString("hex")}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ class: worker, args }));
    fs.renameSync(`${file}.tmp`, file);
}
