// What a failed connection means for the operator: an SSH connection the host did not take, or a database
// that did not let the closure in, turned into an error naming the setting(s) to check and what to do. Never
// a secret (no key, no password: the libraries' messages carry none) and nothing of the host's files. Pure.
import type { DeploymentKind } from "../mastodon/deployment";

/** The settings a host's SSH connection comes from: the Mastodon host's, or a split role's (proxy, database). */
export interface SshSettingNames {
    host: string;
    port: string;
    user: string;
    hostKey: string;
}

/** The Mastodon host's SSH settings, or those of a role on a machine of its own (its port and user default to
 *  the Mastodon host's, README: Split hosts). */
export function sshSettingNames(role?: "proxy" | "database"): SshSettingNames {
    if (!role) return { host: "host", port: "sshPort", user: "sshUser", hostKey: "sshHostKey" };
    return {
        host: `${role}SshHost`,
        port: `${role}SshPort (default: sshPort)`,
        user: `${role}SshUser (default: sshUser)`,
        hostKey: `${role}SshHostKey`,
    };
}

/** An SSH library error: `level` and `code` say what failed (ssh2: client-socket, client-timeout, ...). */
type SshError = Error & { level?: string; code?: string };

/** Why SSH to `target` failed, with what to check. `keyMismatch`: the host presented another key than pinned. */
export function sshConnectError(err: SshError, target: { host: string; port: number; user: string }, names: SshSettingNames, keyMismatch: boolean): Error {
    const to = `SSH to ${target.user}@${target.host}:${target.port} failed`;
    const portFlag = target.port === 22 ? "" : ` -p ${target.port}`;
    if (keyMismatch) {
        return new Error(
            `${target.host}:${target.port} presented a host key other than ${names.hostKey}; refusing to connect. Either ${names.host} is not the server ` +
                `you mean, or its key changed (a reinstall), or something in between answers for it: compare the key the server shows on its own ` +
                `console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) with ssh-keyscan -t ed25519${portFlag} ${target.host}, and only when they ` +
                `match set ${names.hostKey.split(" ")[0]} to that "ssh-ed25519 AAAA..." line`,
        );
    }
    if (/parse privateKey|private key|passphrase/i.test(err.message)) {
        return new Error(
            `sshPrivateKey is not a private key the closure can use (${err.message.replace(/^Cannot parse privateKey: /, "")}): set it to an unencrypted OpenSSH key (ssh-keygen -t ed25519 -N ""), pulumi config set --secret mastodon-closure:sshPrivateKey < KEYFILE`,
        );
    }
    if (err.level === "client-authentication") {
        return new Error(
            `${to}: the server refused the key for user ${target.user}: check ${names.user}, and that the public half of sshPrivateKey is in ~${target.user}/.ssh/authorized_keys on ${target.host}`,
        );
    }
    switch (err.code) {
        case "ECONNREFUSED":
            return new Error(
                `${to}: the connection was refused (nothing listens there): check ${names.host} and ${names.port}, and that sshd runs on the server`,
            );
        case "ENOTFOUND":
        case "EAI_AGAIN":
            return new Error(`${to}: the name ${target.host} does not resolve: check ${names.host}`);
        case "EHOSTUNREACH":
        case "ENETUNREACH":
        case "ETIMEDOUT":
            return new Error(
                `${to}: no route to the host, or no answer (${err.code}): check ${names.host} and ${names.port}, and that a firewall lets this machine in`,
            );
    }
    if (err.level === "client-timeout")
        return new Error(
            `${to}: no SSH handshake within the time allowed: check ${names.host} and ${names.port} (an SSH server answers there?), and that a firewall lets this machine in`,
        );
    return new Error(`${to}: ${err.message}: check ${names.host}, ${names.port}, ${names.user} and sshPrivateKey`);
}

/** A PostgreSQL client error: `code` is the SQLSTATE the server sent. */
type DatabaseError = Error & { code?: string };

/** Where the closure tried to reach the database, and as whom (never the password). */
export interface DatabaseTarget {
    host: string;
    port: number;
    name: string;
    user: string;
    deployment: DeploymentKind;
    /** The SSH host the connection went through (the Mastodon host). */
    via: string;
}

/** The error of a database connection that failed: what PostgreSQL (or the SSH tunnel) said, the settings to
 *  check, with Mastodon's own names for them in .env.production, and what to do. */
export function databaseConnectError(err: DatabaseError, db: DatabaseTarget): Error {
    const compose = db.deployment === "compose";
    const at = compose ? `the db container (${db.host}:${db.port})` : `PostgreSQL at ${db.host}:${db.port}`;
    const address = compose
        ? "check that the db service runs (docker compose ps in liveDir)"
        : `check databaseHost and databasePort (Mastodon's DB_HOST and DB_PORT in .env.production, as ${db.via} reaches the database), and that PostgreSQL runs there`;
    const said = err.message.replace(/^\(SSH\) Channel open failure: /, "");
    if (/Channel open failure/.test(err.message) || err.code === "ECONNREFUSED") {
        const refused = /refused/i.test(said);
        return new Error(`${at} ${refused ? "refuses connections" : `cannot be reached (${said})`} through SSH from ${db.via}: ${address}`);
    }
    if (/did not answer within/.test(err.message))
        return new Error(`${at} ${err.message} through SSH from ${db.via}: ${address}, and that no firewall drops the connection`);
    switch (err.code) {
        case "28P01":
            return new Error(
                `${at} refused the password of user "${db.user}" (password authentication failed): set databasePassword to Mastodon's DB_PASS ` +
                    `(in .env.production; pulumi config set --secret mastodon-closure:databasePassword), and check databaseUser (DB_USER)`,
            );
        case "28000":
            return new Error(
                `${at} does not let user "${db.user}" into database "${db.name}" (${err.message}): check databaseUser and databaseName (Mastodon's DB_USER and ` +
                    `DB_NAME in .env.production)${compose ? "" : `, and that pg_hba.conf on the database server lets ${db.via} in`}`,
            );
        case "3D000":
            return new Error(`${at} has no database "${db.name}": check databaseName (Mastodon's DB_NAME in .env.production)`);
        case "57P03":
            return new Error(`${at} is starting up or shutting down (${err.message}): run again in a moment`);
        case "53300":
            return new Error(`${at} has no connection left (${err.message}): run again when fewer are in use`);
    }
    return new Error(
        `${at} did not let the closure in (${err.code ? `${err.code}: ` : ""}${err.message}): ${compose ? "check" : "check databaseHost, databasePort,"} databaseName, ` +
            `databaseUser and databasePassword (Mastodon's ${compose ? "" : "DB_HOST, DB_PORT, "}DB_NAME, DB_USER and DB_PASS in .env.production)`,
    );
}
