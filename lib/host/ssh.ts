// SSH access to the closure's hosts: one connection per host per operation, the host key pinned, commands
// run through sudo (unless the login user is root), data and secrets passed on stdin, never in argv. The
// one place that connects: which machine does what (HostRole) is resolved here, from the targets.
import { Client, utils } from "ssh2";
import { Client as PgClient, types as pgTypes } from "pg";
import type { Duplex } from "node:stream";
import type { HostRole } from "../mastodon/deployment";
import { shq } from "../mastodon/shell";
import { sshConnectError, SshSettingNames, sshSettingNames } from "./connect-errors";

/** How to reach one host. */
export interface SshTarget {
    host: string;
    port: number;
    user: string;
    /** OpenSSH private key (a Pulumi secret in config). */
    privateKey: string;
    /** The host's public key line, e.g. "ssh-ed25519 AAAA...": the connection is refused on any other key. */
    hostKey: string;
}

/** The SSH target of each role: the Mastodon host's (`app`) for every role not given its own. */
export type HostTargets = { app: SshTarget } & Partial<Record<Exclude<HostRole, "app">, SshTarget>>;

/** The settings a role's connection comes from (its own when the settings split it off), for messages. */
export function sshSettingsOf(targets: HostTargets, role: HostRole): SshSettingNames {
    return sshSettingNames(role !== "app" && targets[role] ? role : undefined);
}

/** How long the database may take to let the closure in (the SSH handshake's allowance too). */
const DATABASE_ANSWER_MS = 20_000;

export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface ExecOptions {
    /** Written to the command's stdin, then closed. */
    stdin?: string;
    /** Words for error messages; the command text itself is never put in errors (it may carry paths a
     *  reader need not see, and callers keep secrets on stdin). */
    label: string;
    /** Accept these exit codes instead of failing (default: only 0). */
    okCodes?: number[];
    /** Each complete line of stdout as it arrives (progress of a long command). */
    onLine?: (line: string) => void;
}

function publicKeyBlob(hostKeyLine: string): Buffer {
    const parsed = utils.parseKey(hostKeyLine.trim());
    if (parsed instanceof Error) {
        throw new Error(`sshHostKey is not an OpenSSH public key line ("ssh-ed25519 AAAA..."): ${parsed.message}`);
    }
    return (Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH();
}

export interface HostOptions {
    /** Runs before every command; a rejection stops the command from starting. */
    beforeCommand?: () => Promise<void>;
    /** The host of another role (HostSet); without it this host does every role. */
    reach?: (role: HostRole) => Promise<RemoteHost>;
    /** The settings the connection comes from, named when it fails (default: the Mastodon host's). */
    settings?: SshSettingNames;
}

export class RemoteHost {
    private constructor(
        private readonly client: Client,
        readonly target: SshTarget,
        private readonly opts: HostOptions,
    ) {}

    /** Connect, refusing any host key but the pinned one. */
    static connect(target: SshTarget, opts: HostOptions = {}): Promise<RemoteHost> {
        const expected = publicKeyBlob(target.hostKey);
        const settings = opts.settings ?? sshSettingNames();
        return new Promise((resolve, reject) => {
            const client = new Client();
            let keyMismatch = false;
            client
                .on("ready", () => resolve(new RemoteHost(client, target, opts)))
                .on("error", (err) => reject(sshConnectError(err, target, settings, keyMismatch)));
            try {
                client.connect({
                    host: target.host,
                    port: target.port,
                    username: target.user,
                    privateKey: target.privateKey,
                    readyTimeout: 20_000,
                    hostVerifier: (key: Buffer) => {
                        keyMismatch = !key.equals(expected);
                        return !keyMismatch;
                    },
                });
            } catch (err) {
                // A private key it cannot parse is thrown here, before any connection.
                reject(sshConnectError(err as Error, target, settings, false));
            }
        });
    }

    /** Run `fn` with a connected host, always closing the connection. */
    static async with<T>(target: SshTarget, fn: (host: RemoteHost) => Promise<T>, opts: HostOptions = {}): Promise<T> {
        const host = await RemoteHost.connect(target, opts);
        try {
            return await fn(host);
        } finally {
            host.close();
        }
    }

    close(): void {
        this.client.end();
    }

    /** Called once the connection has ended, whoever ended it. */
    onClose(fn: () => void): void {
        this.client.once("close", fn);
    }

    /** The host doing `role`: this one, or another of the same operation (HostSet), connected once. */
    on(role: HostRole): Promise<RemoteHost> {
        return this.opts?.reach ? this.opts.reach(role) : Promise.resolve(this);
    }

    /** Run a shell script as root (through `sudo -n` unless the login user is root). */
    async run(script: string, opts: ExecOptions): Promise<ExecResult> {
        await this.opts.beforeCommand?.();
        const command = this.target.user === "root" ? `bash -c ${shq(script)}` : `sudo -n bash -c ${shq(script)}`;
        return new Promise((resolve, reject) => {
            this.client.exec(command, (err, channel) => {
                if (err) return reject(new Error(`${opts.label}: ${err.message}`));
                let stdout = "";
                let stderr = "";
                let pending = "";
                channel.on("data", (d: Buffer) => {
                    stdout += d.toString();
                    if (!opts.onLine) return;
                    const lines = (pending + d.toString()).split("\n");
                    pending = lines.pop() ?? "";
                    for (const line of lines) opts.onLine(line);
                });
                channel.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
                channel.on("close", (code: number | null) => {
                    const result = { code: code ?? -1, stdout, stderr };
                    if (result.code === 0 || opts.okCodes?.includes(result.code)) return resolve(result);
                    // One line: engines and CI logs show a provider error's first line prominently.
                    const detail = (stderr.trim() || stdout.trim()).split("\n").slice(-5).join(" / ");
                    reject(new Error(`${opts.label} failed on ${this.target.host} (exit ${result.code}): ${detail}`));
                });
                channel.end(opts.stdin ?? "");
            });
        });
    }

    /** Replace a file atomically (temp file + rename) with the given content, owner and mode. */
    async writeFile(path: string, content: string, opts: { owner: string; mode: string; label: string }): Promise<void> {
        const tmp = `${path}.closure-tmp`;
        await this.run(
            `set -e; umask 077; mkdir -p "$(dirname ${shq(path)})"; cat > ${shq(tmp)}; ` +
                `chown ${shq(opts.owner)} ${shq(tmp)}; chmod ${shq(opts.mode)} ${shq(tmp)}; mv -f ${shq(tmp)} ${shq(path)}`,
            { stdin: content, label: opts.label },
        );
    }

    /** Read a file, or undefined when it does not exist. */
    async readFile(path: string, label: string): Promise<string | undefined> {
        return (await this.readFiles([path], label))[0];
    }

    /** Read several files in one command (one round trip), each undefined when it does not exist. With
     *  `wrap`, the reading runs inside what it makes of the script (a container, another user). */
    async readFiles(paths: string[], label: string, wrap?: (script: string) => string): Promise<(string | undefined)[]> {
        const script = paths.map(readFileScript).join("\n");
        const lines = (await this.run(wrap ? wrap(script) : script, { label })).stdout.split("\n");
        return paths.map((_, i) => fileOf(lines.slice(2 * i)));
    }

    /** A PostgreSQL client tunnelled through this SSH connection: no database port is exposed. Rejected with
     *  the tunnel's or PostgreSQL's own error (lib/host/reads.ts connectDatabase says what it means), or after
     *  DATABASE_ANSWER_MS without an answer. */
    async postgres(db: { host: string; port: number; name: string; user: string; password: string }): Promise<PgClient> {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not answer within ${DATABASE_ANSWER_MS / 1000} s`)), DATABASE_ANSWER_MS);
        });
        try {
            return await Promise.race([this.tunnelledClient(db), late]);
        } finally {
            clearTimeout(timer);
        }
    }

    /** Mastodon's times are `timestamp without time zone` that Rails writes in UTC; node-pg would read them in
     *  the runner's own time zone, shifting every gate's days by its offset on a runner that is not on UTC. */
    private static readonly TYPES = {
        getTypeParser: ((oid: number, format?: "text" | "binary") =>
            oid === pgTypes.builtins.TIMESTAMP && format !== "binary" ? utcTimestamp : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser,
    };

    private async tunnelledClient(db: { host: string; port: number; name: string; user: string; password: string }): Promise<PgClient> {
        const channel = await new Promise<Duplex>((resolve, reject) =>
            this.client.forwardOut("127.0.0.1", 0, db.host, db.port, (err, ch) => (err ? reject(err) : resolve(ch))),
        );
        // pg drives a net.Socket; the SSH channel is already connected, so the socket calls are no-ops.
        const socketLike = Object.assign(channel, {
            setNoDelay: () => socketLike,
            setKeepAlive: () => socketLike,
            connect: () => {
                process.nextTick(() => channel.emit("connect"));
                return socketLike;
            },
        });
        const client = new PgClient({
            stream: () => socketLike as never,
            database: db.name,
            user: db.user,
            password: db.password,
            types: RemoteHost.TYPES,
        });
        await client.connect();
        return client;
    }
}

/** Prints a file as two lines, for fileOf: "1" and its content in base64, or "0" and nothing when it does not exist. */
export function readFileScript(path: string): string {
    return `if [ -e ${shq(path)} ]; then echo 1; base64 -w0 < ${shq(path)}; echo; else printf '0\\n\\n'; fi`;
}

/** The file readFileScript printed in the first two of `lines`, or undefined when it did not exist. */
export function fileOf(lines: string[]): string | undefined {
    return lines[0] === "1" ? Buffer.from(lines[1], "base64").toString("utf8") : undefined;
}

/** A `timestamp without time zone` as PostgreSQL prints it ("2026-06-01 10:00:00.123456"), read as UTC;
 *  anything else (infinity) as node-pg reads it. */
export function utcTimestamp(text: string): Date {
    const iso = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/.exec(text);
    return iso ? new Date(`${iso[1]}T${iso[2]}Z`) : (pgTypes.getTypeParser(pgTypes.builtins.TIMESTAMP, "text")(text) as Date);
}

/**
 * The hosts of one operation (a probe, a step's apply, read or undo), by role: each machine connected on
 * first use and only once, so roles on one machine share its connection, and a single-host server gets one
 * connection as before.
 */
export class HostSet {
    private readonly connections = new Map<string, Promise<RemoteHost>>();

    constructor(
        private readonly targets: HostTargets,
        private readonly opts: Omit<HostOptions, "reach" | "settings"> = {},
    ) {}

    on(role: HostRole): Promise<RemoteHost> {
        const target = this.targets[role] ?? this.targets.app;
        const key = `${target.user}@${target.host}:${target.port}`;
        let host = this.connections.get(key);
        if (!host) {
            host = RemoteHost.connect(target, { ...this.opts, reach: (r) => this.on(r), settings: sshSettingsOf(this.targets, role) });
            this.connections.set(key, host);
        }
        return host;
    }

    close(): Promise<void> {
        return Promise.all(
            [...this.connections.values()].map((h) =>
                h.then(
                    (c) => c.close(),
                    () => undefined,
                ),
            ),
        ).then(() => undefined);
    }

    /** Run `fn` with the host of `role` (others reached through it), always closing every connection. */
    static async with<T>(
        targets: HostTargets,
        role: HostRole,
        fn: (host: RemoteHost) => Promise<T>,
        opts: Omit<HostOptions, "reach" | "settings"> = {},
    ): Promise<T> {
        const hosts = new HostSet(targets, opts);
        try {
            return await fn(await hosts.on(role));
        } finally {
            await hosts.close();
        }
    }
}
