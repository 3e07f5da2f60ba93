// TypeScript API to the sandbox: a disposable host that looks like a server set up by
// Mastodon's install guide (real sshd, nginx, PostgreSQL, Redis; simulated Mastodon).
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import * as path from "node:path";
import { Client } from "pg";
import { shq } from "../lib/mastodon/shell";
import type { S3Bucket } from "./sim/s3";

export interface SandboxInfo {
    name: string;
    root: string;
    address: string;
    sshPort: number;
    sshUser: string;
    sshPrivateKeyPath: string;
    hostKey: string;
    domain: string;
    dbPassword: string;
    mastodonVersion: string;
    /** Media on object storage (StartOptions.objectStorage): the bucket, its S3 server and Mastodon's key. */
    objectStorage?: S3Bucket;
    /** How Mastodon runs there (StartOptions.deployment); absent: systemd. */
    deployment?: SandboxDeployment;
    /** Split hosts (StartOptions.databaseServer): this sandbox is only a PostgreSQL server. */
    databaseServer?: true;
    /** Split hosts (StartOptions.databaseOn): Mastodon's database is on that database sandbox, at its address;
     *  dbPassword is that database's. */
    databaseOn?: { name: string; address: string };
}

/** `systemd`: the install guide's units. `compose`: upstream's docker-compose.yml in /home/mastodon/live, run by
 *  a real Docker engine in the sandbox (sandbox/host/compose). */
export type SandboxDeployment = "systemd" | "compose";

export interface StartOptions {
    name?: string;
    accounts?: number;
    mastodonVersion?: string;
    sidekiqTickMs?: number;
    railsBootMs?: number;
    /** Rows of the `settings` table as the admin UI would store them (a value; null: no row). Default: the
     *  registrations_mode row "open", as after `tootctl settings registrations open`. */
    mastodonSettings?: Record<string, string | number | null>;
    /** Defaults a fork's config/settings.yml gives instead of upstream's for the version. */
    settingsDefaults?: Record<string, string | number>;
    /** Media and archives on object storage: a real S3-compatible server (sandbox/object-storage) on the
     *  sandbox's address, port 9000, checking every signature, and S3_* in .env.production. Default false. */
    objectStorage?: boolean;
    /** Split hosts: this sandbox is only the nginx in front of the Mastodon of another sandbox, at its address
     *  (SandboxInfo.address): the vhost's upstreams point there, and Mastodon's units are never enabled here. */
    proxyFor?: string;
    /** Split hosts: Mastodon's web and streaming listen on the sandbox's network too (BIND=0.0.0.0 in
     *  .env.production), for a proxy sandbox to reach them. Default: 127.0.0.1 only. */
    listenOnNetwork?: boolean;
    /** How Mastodon runs (SandboxDeployment). Default "systemd". */
    deployment?: SandboxDeployment;
    /** Split hosts: this sandbox is only the PostgreSQL server of another sandbox's Mastodon (started with
     *  `databaseOn`): its cluster listens on its own address too (log_connections on), and runs alone with sshd:
     *  Mastodon's units, Redis and nginx are never enabled. Its mastodon_production (role mastodon, password
     *  SandboxInfo.dbPassword) stays empty until that Mastodon's seed fills it. */
    databaseServer?: boolean;
    /** Split hosts: Mastodon's database is on the database sandbox of this name (started with databaseServer):
     *  its pg_hba lets this sandbox's address in (scram-sha-256), DB_HOST in .env.production is its address,
     *  the seed fills it from here, and this sandbox's own PostgreSQL is never set up, enabled or started. */
    databaseOn?: string;
}

export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface HttpOptions {
    https?: boolean;
    method?: string;
    cookie?: string;
    headers?: Record<string, string>;
    body?: string;
}

export interface HttpResult {
    status: number;
    headers: Record<string, string>;
    body: string;
}

/** Repository root (dist/sandbox/client.js -> ../..). */
export const REPO = path.resolve(__dirname, "..", "..");
const HOST_DIR = path.join(REPO, "sandbox", "host");
const PATH_INSIDE = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function sandboxesRoot(): string {
    return process.env.MC_SANDBOX_ROOT || "/var/tmp/mastodon-closure-sandboxes";
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        p.stdout.on("data", (d: Buffer) => out.push(d));
        p.stderr.on("data", (d: Buffer) => err.push(d));
        p.on("error", reject);
        p.on("close", (code, signal) =>
            resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
        );
        p.stdin.on("error", () => undefined);
        p.stdin.end(opts.input ?? "");
    });
}

function allocateSlot(base: string, name: string): number {
    const slots = path.join(base, ".slots");
    fs.mkdirSync(slots, { recursive: true });
    for (let n = 1; n < 255; n++) {
        try {
            fs.mkdirSync(path.join(slots, String(n)));
            fs.writeFileSync(path.join(slots, String(n), "name"), name);
            return n;
        } catch {
            /* taken */
        }
    }
    throw new Error("no free sandbox network slot (10.213.1-254.0/30)");
}

export async function startSandbox(opts: StartOptions = {}): Promise<Sandbox> {
    if (process.getuid && process.getuid() !== 0) throw new Error("the sandbox needs root (network and mount namespaces)");
    const name = opts.name ?? `s${crypto.randomBytes(3).toString("hex")}`;
    if (!/^[a-z0-9][a-z0-9-]{0,19}$/.test(name)) throw new Error(`invalid sandbox name "${name}" (a-z, 0-9, '-', at most 20 characters)`);
    // Split hosts: the database sandbox this Mastodon's database is on, checked before anything is created.
    const databaseOn = opts.databaseOn !== undefined ? databaseSandbox(opts) : undefined;
    if (opts.databaseServer && (opts.deployment === "compose" || opts.proxyFor))
        throw new Error("databaseServer is a systemd host running only PostgreSQL: not with proxyFor or a compose deployment");
    const base = sandboxesRoot();
    const root = path.join(base, name);
    fs.mkdirSync(base, { recursive: true });
    try {
        fs.mkdirSync(root);
    } catch {
        throw new Error(`sandbox "${name}" already exists (${root}); stop it first`);
    }
    const n = allocateSlot(base, name);
    fs.writeFileSync(path.join(root, "net"), String(n));
    const domain = "social.example";
    const mastodonVersion = opts.mastodonVersion ?? "4.3.2";
    const dbPassword = databaseOn?.info.dbPassword ?? crypto.randomBytes(18).toString("base64url");
    if (databaseOn) {
        // The database sandbox lets this sandbox's address in before the seed reaches it from here.
        await databaseOn.allowDatabaseClient(`10.213.${n}.2`).catch(async (err) => {
            await run("bash", [path.join(HOST_DIR, "destroy.sh"), root]);
            throw err;
        });
    }
    const objectStorage: S3Bucket | undefined = opts.objectStorage
        ? {
              endpoint: `http://10.213.${n}.2:9000`,
              bucket: "social-example-media",
              region: "us-east-1",
              accessKeyId: `AKIA${crypto.randomBytes(8).toString("hex").toUpperCase()}`,
              secretAccessKey: crypto.randomBytes(30).toString("base64url"),
          }
        : undefined;
    const env: NodeJS.ProcessEnv = {
        PATH: `${PATH_INSIDE}:${process.env.PATH ?? ""}`,
        SBX_NAME: name,
        SBX_ROOT: root,
        SBX_N: String(n),
        SBX_DOMAIN: domain,
        SBX_ACCOUNTS: String(opts.accounts ?? 5),
        SBX_VERSION: mastodonVersion,
        SBX_TICK_MS: String(opts.sidekiqTickMs ?? 1000),
        SBX_BOOT_MS: String(opts.railsBootMs ?? 300),
        SBX_REPO: REPO,
        SBX_DB_PASS: dbPassword,
        SBX_SECRET: crypto.randomBytes(64).toString("hex"),
        SBX_MASTODON_SETTINGS: JSON.stringify({ rows: opts.mastodonSettings ?? { registrations_mode: "open" }, defaults: opts.settingsDefaults ?? {} }),
        ...(opts.proxyFor ? { SBX_PROXY_FOR: opts.proxyFor } : {}),
        ...(opts.listenOnNetwork ? { SBX_BIND: "0.0.0.0" } : {}),
        SBX_DEPLOYMENT: opts.deployment ?? "systemd",
        ...(opts.databaseServer ? { SBX_DB_SERVER: "1" } : {}),
        ...(databaseOn ? { SBX_DB_HOST: databaseOn.info.address } : {}),
        ...(objectStorage
            ? { SBX_S3_BUCKET: objectStorage.bucket, SBX_S3_ACCESS_KEY: objectStorage.accessKeyId, SBX_S3_SECRET_KEY: objectStorage.secretAccessKey }
            : {}),
    };
    const r = await run("bash", [path.join(HOST_DIR, "create.sh")], { env });
    if (r.code !== 0) {
        if (!process.env.MC_SANDBOX_KEEP_FAILED) await run("bash", [path.join(HOST_DIR, "destroy.sh"), root]);
        throw new Error(`sandbox ${name} failed to start (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    }
    const hostKey = fs.readFileSync(path.join(root, "etc/ssh/ssh_host_ed25519_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
    const info: SandboxInfo = {
        name,
        root,
        address: `10.213.${n}.2`,
        sshPort: 22,
        sshUser: "admin",
        sshPrivateKeyPath: path.join(root, "client/id_ed25519"),
        hostKey,
        domain,
        dbPassword,
        mastodonVersion,
        ...(objectStorage ? { objectStorage } : {}),
        ...(opts.deployment === "compose" ? { deployment: "compose" as const } : {}),
        ...(opts.databaseServer ? { databaseServer: true as const } : {}),
        ...(databaseOn ? { databaseOn: { name: databaseOn.info.name, address: databaseOn.info.address } } : {}),
    };
    fs.writeFileSync(path.join(root, "info.json"), JSON.stringify(info, null, 2) + "\n");
    return new Sandbox(info);
}

/** Split hosts: the running database sandbox StartOptions.databaseOn names, for a systemd Mastodon sandbox. */
function databaseSandbox(opts: StartOptions): Sandbox {
    const name = opts.databaseOn!;
    if (opts.databaseServer || opts.deployment === "compose")
        throw new Error("databaseOn is for a systemd Mastodon sandbox: not with databaseServer or a compose deployment");
    let db: Sandbox;
    try {
        db = Sandbox.attach(name);
    } catch {
        throw new Error(`databaseOn: no sandbox "${name}" (start it with databaseServer first)`);
    }
    if (!db.info.databaseServer) throw new Error(`databaseOn: sandbox "${name}" is not a database server (start it with databaseServer)`);
    return db;
}

/** Names of the sandboxes that exist under the sandboxes root. */
export function listSandboxes(): string[] {
    try {
        return fs.readdirSync(sandboxesRoot()).filter((d) => !d.startsWith("."));
    } catch {
        return [];
    }
}

/** Remove a sandbox by name, whatever state it is in. */
export async function stopSandbox(name: string): Promise<void> {
    const root = path.join(sandboxesRoot(), name);
    const r = await run("bash", [path.join(HOST_DIR, "destroy.sh"), root]);
    if (r.code !== 0) throw new Error(`stop ${name} failed: ${r.stderr}`);
}

export class Sandbox {
    constructor(readonly info: SandboxInfo) {}

    /** Attach to a running sandbox by name (reads <root>/info.json). */
    static attach(name: string): Sandbox {
        const info = JSON.parse(fs.readFileSync(path.join(sandboxesRoot(), name, "info.json"), "utf8")) as SandboxInfo;
        return new Sandbox(info);
    }

    private initPid(): string {
        return fs.readFileSync(path.join(this.info.root, "init.pid"), "utf8").trim();
    }

    /** bash -c inside the host's namespaces, as root. `--norc`: node gives a child a socket as stdin, which
     *  Debian's bash takes for sshd's and then sources ~/.bashrc (the machine's /root/.bashrc: on a machine
     *  whose .bashrc runs pyenv or the like, 0.6 to 2 s per command, most of a crash point's host checks). */
    exec(command: string, input?: string): Promise<ExecResult> {
        return run(
            "nsenter",
            ["-t", this.initPid(), "-n", "-m", "--", "env", "-i", `PATH=${PATH_INSIDE}`, "HOME=/root", "LANG=C.UTF-8", "bash", "--norc", "-c", command],
            { input },
        );
    }

    /** A real request through the host's nginx (Host = domain; self-signed certificate accepted). */
    http(p: string, opts: HttpOptions = {}): Promise<HttpResult> {
        const useHttps = opts.https ?? true;
        const headers: Record<string, string> = { Host: this.info.domain, ...(opts.headers ?? {}) };
        if (opts.cookie) headers.Cookie = opts.cookie;
        if (opts.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(opts.body));
        return new Promise((resolve, reject) => {
            const reqOpts: https.RequestOptions = {
                host: this.info.address,
                port: useHttps ? 443 : 80,
                path: p,
                method: opts.method ?? "GET",
                headers,
                servername: this.info.domain,
                rejectUnauthorized: false,
                agent: false,
                timeout: 15000,
            };
            const req = (useHttps ? https : http).request(reqOpts, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (d: Buffer) => chunks.push(d));
                res.on("end", () => {
                    const h: Record<string, string> = {};
                    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(", ") : v;
                    resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString("utf8") });
                });
            });
            req.on("timeout", () => req.destroy(new Error(`timeout: ${p}`)));
            req.on("error", reject);
            req.end(opts.body);
        });
    }

    /** A query against Mastodon's database through a unix socket exposed in the sandbox dir: the host's
     *  mastodon_production, or (compose) the db container's `postgres` as upstream's setup names it. */
    async sql<T = any>(query: string, params?: unknown[]): Promise<T[]> {
        // Split hosts (databaseOn): the database is the database sandbox's cluster.
        if (this.info.databaseOn) return Sandbox.attach(this.info.databaseOn.name).sql<T>(query, params);
        const c =
            this.info.deployment === "compose"
                ? new Client({ host: path.join(this.info.root, "var-lib-sim", "pgsock"), user: "postgres", database: "postgres" })
                : new Client({ host: path.join(this.info.root, "pgsock"), user: "mastodon", database: "mastodon_production" });
        await c.connect();
        try {
            return (await c.query(query, params as any[])).rows as T[];
        } finally {
            await c.end();
        }
    }

    /** Split hosts (a databaseServer sandbox): let the Mastodon host at `address` into mastodon_production as
     *  mastodon, with scram-sha-256 (a line in pg_hba.conf, then PostgreSQL reloads it). */
    async allowDatabaseClient(address: string): Promise<void> {
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) throw new Error(`not an IPv4 address: "${address}"`);
        const r = await this.exec(
            `set -e; . /var/lib/mastodon-sim/sandbox.env; echo "host    mastodon_production mastodon ${address}/32 scram-sha-256" >> "$PGDATA/pg_hba.conf"; systemctl reload postgresql`,
        );
        if (r.code !== 0) throw new Error(`${this.info.name} did not let ${address} into its database: ${r.stderr}${r.stdout}`);
    }

    /** Crash points (sandbox/host/session): from now on count every SSH command; with `at`, hold the at-th
     *  one once it ran (a number), or the first one whose text contains `at` (a string), until release(). */
    async armCrashPoint(at?: number | string): Promise<void> {
        const arm = typeof at === "number" ? `echo ${at} > /run/mcsbx-crash/at && ` : at ? "cat > /run/mcsbx-crash/match && " : "";
        const r = await this.exec(
            `rm -rf /run/mcsbx-crash && mkdir /run/mcsbx-crash && ${arm}chown -R admin /run/mcsbx-crash`,
            typeof at === "string" ? at : undefined,
        );
        if (r.code !== 0) throw new Error(`arming a crash point failed: ${r.stderr}`);
    }

    /** SSH commands run since armCrashPoint, and whether the armed one is being held now. */
    async crashPoint(): Promise<{ count: number; held: boolean }> {
        // Read through the init process's view of the host's /run (its mount namespace): no process to start,
        // so a test can ask every few milliseconds.
        const dir = path.join("/proc", this.initPid(), "root", "run", "mcsbx-crash");
        let count = 0;
        try {
            count = Number(fs.readFileSync(path.join(dir, "count"), "utf8").trim()) || 0;
        } catch {
            /* no command counted yet */
        }
        return { count, held: fs.existsSync(path.join(dir, "hit")) };
    }

    /** Let a held command finish; hold no other. */
    async disarmCrashPoint(): Promise<void> {
        await this.exec("[ -d /run/mcsbx-crash ] && touch /run/mcsbx-crash/release && rm -f /run/mcsbx-crash/at /run/mcsbx-crash/match; true");
    }

    /** SSH sessions sshd accepted since the sandbox started (its own log: one line per session). */
    sshSessions(): number {
        try {
            return fs
                .readFileSync(path.join(this.info.root, "logs", "sshd-events.log"), "utf8")
                .split("\n")
                .filter((l) => l.includes("Accepted publickey")).length;
        } catch {
            return 0;
        }
    }

    /** Stop every service, start the enabled ones (a fresh /run, as a real reboot). */
    async reboot(): Promise<void> {
        const r = await this.exec("systemctl __halt; umount -l /run && mount -t tmpfs -o mode=755 tmpfs /run; systemctl __boot");
        if (r.code !== 0) throw new Error(`reboot of ${this.info.name} failed: ${r.stderr}${r.stdout}`);
    }

    /**
     * Enqueue a job of Sidekiq's schedule now, as the "Enqueue now" button of sidekiq-scheduler's web UI does
     * (upstream runs vacuum_scheduler daily at a random time between 03:00 and 06:00): resolves once Sidekiq
     * ran it, or refused when the job is not in the schedule (self-destruct mode replaces the schedule).
     */
    async enqueueScheduledJob(job: string): Promise<{ ran: boolean; message: string }> {
        const dir = "/var/lib/mastodon-sim/enqueue";
        const r = await this.exec(
            `set -e; mkdir -p ${dir}; chown mastodon ${dir}; rm -f ${dir}/${job}.result; touch ${dir}/${job}
for i in $(seq 600); do [ -e ${dir}/${job}.result ] && break; sleep 0.1; done
[ -e ${dir}/${job}.result ] || { echo "Sidekiq did not take ${job} within 60 s (is mastodon-sidekiq running?)" >&2; exit 1; }
cat ${dir}/${job}.result`,
        );
        if (r.code !== 0) throw new Error(r.stderr.trim());
        return JSON.parse(r.stdout);
    }

    /**
     * `username` moves to `target` (user@domain) as its /settings/migration form does, the successor's actor
     * naming `alsoKnownAs` (sandbox/sim/move.ts): refused with AccountMigration's message when that does not
     * name this account or the account is on its 30-day cooldown. Its Move goes out through Sidekiq.
     */
    async moveAccount(username: string, target: string, alsoKnownAs: string[]): Promise<void> {
        const args = [username, target, ...alsoKnownAs].map(shq).join(" ");
        const r = await this.exec(`cd /home/mastodon/live && runuser -u mastodon -- /usr/bin/node /opt/mastodon-sim/dist/sandbox/sim/move.js ${args}`);
        if (r.code !== 0) throw new Error(`${username} could not move to ${target}: ${r.stderr.trim()}`);
    }

    /** E-mails Mastodon sent (UserMailer), one per line of the sandbox's mail log: time, mailer action, address, subject id. */
    async mails(): Promise<{ at: string; action: string; to: string; about: string }[]> {
        const r = await this.exec("cat /var/lib/mastodon-sim/mail.log 2>/dev/null; true");
        return r.stdout
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => {
                const [at, action, to, about] = l.split(" ");
                return { at, action, to, about };
            });
    }

    /** Kill every process, delete the netns and all files. */
    stop(): Promise<void> {
        return stopSandbox(this.info.name);
    }
}
