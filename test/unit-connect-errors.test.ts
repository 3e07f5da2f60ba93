// Unit tests of lib/host/connect-errors.ts: a connection that fails (SSH, or the database through it) names
// the settings to check and what to do; the password is never given to it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { databaseConnectError, DatabaseTarget, sshConnectError, sshSettingNames } from "../lib/host/connect-errors";

const target = { host: "203.0.113.10", port: 2222, user: "admin" };
const err = (message: string, extra: { level?: string; code?: string } = {}) => Object.assign(new Error(message), extra);

describe("SSH", () => {
    const app = sshSettingNames();

    test("another host key: the pinned setting, why it can happen, and how to check before changing it", () => {
        const e = sshConnectError(err("Handshake failed: signature verification failed"), target, app, true);
        assert.match(e.message, /^203\.0\.113\.10:2222 presented a host key other than sshHostKey; refusing to connect\. Either host is not the server/);
        assert.match(
            e.message,
            /ssh-keyscan -t ed25519 -p 2222 203\.0\.113\.10, and only when they match set sshHostKey to that "ssh-ed25519 AAAA\.\.\." line$/,
        );
        const proxy = sshConnectError(err("x"), target, sshSettingNames("proxy"), true);
        assert.match(proxy.message, /other than proxySshHostKey; .*Either proxySshHost is not .* set proxySshHostKey to/);
    });

    test("refused, unresolved, unreachable, timed out: the address settings", () => {
        assert.equal(
            sshConnectError(err("connect ECONNREFUSED 203.0.113.10:2222", { level: "client-socket", code: "ECONNREFUSED" }), target, app, false).message,
            "SSH to admin@203.0.113.10:2222 failed: the connection was refused (nothing listens there): check host and sshPort, and that sshd runs on the server",
        );
        assert.match(sshConnectError(err("getaddrinfo ENOTFOUND", { code: "ENOTFOUND" }), target, app, false).message, /does not resolve: check host$/);
        assert.match(
            sshConnectError(err("connect EHOSTUNREACH", { code: "EHOSTUNREACH" }), target, sshSettingNames("database"), false).message,
            /check databaseSshHost and databaseSshPort \(default: sshPort\), and that a firewall lets this machine in$/,
        );
        assert.match(
            sshConnectError(err("Timed out while waiting for handshake", { level: "client-timeout" }), target, app, false).message,
            /no SSH handshake within the time allowed: check host and sshPort/,
        );
    });

    test("the key refused: the user and where its public half goes", () => {
        assert.equal(
            sshConnectError(err("All configured authentication methods failed", { level: "client-authentication" }), target, app, false).message,
            "SSH to admin@203.0.113.10:2222 failed: the server refused the key for user admin: check sshUser, and that the public half of sshPrivateKey is in ~admin/.ssh/authorized_keys on 203.0.113.10",
        );
    });

    test("a private key it cannot use: sshPrivateKey and how to set one", () => {
        const e = sshConnectError(err("Cannot parse privateKey: Encrypted private OpenSSH key detected, but no passphrase given"), target, app, false);
        assert.match(
            e.message,
            /^sshPrivateKey is not a private key the closure can use \(Encrypted private OpenSSH key detected, but no passphrase given\): set it to an unencrypted/,
        );
    });

    test("anything else still names every setting of the connection", () => {
        assert.equal(
            sshConnectError(err("Connection lost before handshake"), target, app, false).message,
            "SSH to admin@203.0.113.10:2222 failed: Connection lost before handshake: check host, sshPort, sshUser and sshPrivateKey",
        );
    });
});

describe("the database", () => {
    const systemd: DatabaseTarget = {
        host: "127.0.0.1",
        port: 5433,
        name: "mastodon_production",
        user: "mastodon",
        deployment: "systemd",
        via: "203.0.113.10",
    };
    const compose: DatabaseTarget = { ...systemd, host: "172.18.0.2", port: 5432, name: "postgres", user: "postgres", deployment: "compose" };
    // The target carries no password (DatabaseTarget has none): a message cannot hold it.
    const all = (t: DatabaseTarget, e: Error) => databaseConnectError(e, t).message;

    test("refused through the tunnel: the address settings and Mastodon's names for them", () => {
        assert.equal(
            all(systemd, err("(SSH) Channel open failure: Connection refused")),
            "PostgreSQL at 127.0.0.1:5433 refuses connections through SSH from 203.0.113.10: check databaseHost and databasePort (Mastodon's DB_HOST and DB_PORT in .env.production, as 203.0.113.10 reaches the database), and that PostgreSQL runs there",
        );
        assert.match(
            all(compose, err("(SSH) Channel open failure: Connection refused")),
            /^the db container \(172\.18\.0\.2:5432\) refuses connections .*check that the db service runs/,
        );
        assert.match(
            all(systemd, err("(SSH) Channel open failure: No route to host")),
            /cannot be reached \(No route to host\) through SSH from 203\.0\.113\.10: check databaseHost/,
        );
        assert.match(all(systemd, err("did not answer within 20 s")), /did not answer within 20 s through SSH .*no firewall drops the connection$/);
    });

    test("the password: databasePassword, how to set it, and the user it was for", () => {
        assert.equal(
            all(systemd, err(`password authentication failed for user "mastodon"`, { code: "28P01" })),
            `PostgreSQL at 127.0.0.1:5433 refused the password of user "mastodon" (password authentication failed): set databasePassword to Mastodon's DB_PASS (in .env.production; pulumi config set --secret mastodon-closure:databasePassword), and check databaseUser (DB_USER)`,
        );
    });

    test("an unknown database, a user not let in, a server starting: each names what to check or do", () => {
        assert.match(
            all(systemd, err(`database "nope" does not exist`, { code: "3D000" })),
            /has no database "mastodon_production": check databaseName \(Mastodon's DB_NAME/,
        );
        const hba = all(systemd, err(`no pg_hba.conf entry for host "10.0.0.2", user "mastodon", database "mastodon_production"`, { code: "28000" }));
        assert.match(
            hba,
            /does not let user "mastodon" into database "mastodon_production" .*check databaseUser and databaseName .*pg_hba\.conf on the database server lets 203\.0\.113\.10 in$/,
        );
        assert.doesNotMatch(all(compose, err(`role "x" does not exist`, { code: "28000" })), /pg_hba/);
        assert.match(all(systemd, err("the database system is starting up", { code: "57P03" })), /run again in a moment$/);
        assert.match(
            all(compose, err("Connection terminated unexpectedly")),
            /^the db container .* did not let the closure in \(Connection terminated unexpectedly\): check databaseName, databaseUser and databasePassword \(Mastodon's DB_NAME, DB_USER and DB_PASS/,
        );
    });
});
