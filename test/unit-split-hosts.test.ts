// Unit tests of split hosts (README: Split hosts): the proxySsh*/databaseSsh* settings and their refusals,
// which host each step acts on, and the plan's stops per host. Pure: nothing connects.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { HostFacts } from "../lib/rules/facts";
import { hostTargets } from "../lib/host/access";
import { roleOfStep, STEPS, StepKind } from "../lib/host/steps";
import { planClosure } from "../lib/rules/plan";
import { describeHosts, parseSettings, SECRET_KEYS, Settings, SettingsError } from "../lib/rules/settings";
import { sshSettingsOf } from "../lib/host/ssh";
import { testFacts } from "./support/facts";

const APP_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMmJ1cGvQ0f0g3Kf9gq0u3l1Y2rP6oZr2m6Ykq7yQX5d";
const PROXY_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIProxyProxyProxyProxyProxyProxyProxyProxyPr";
const DB_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDatabaseDatabaseDatabaseDatabaseDatabaseData";

function values(extra: Record<string, string | undefined>, stage = "operating"): Record<string, string | undefined> {
    return {
        stage,
        host: "203.0.113.10",
        sshPort: "2222",
        sshUser: "admin",
        domain: "social.example",
        sshHostKey: APP_KEY,
        sshPrivateKey: "k",
        databasePassword: "p",
        ...(stage === "operating" ? {} : { closingDate: "2026-06-01" }),
        ...(["self-destructing", "dormant", "parked"].includes(stage) ? { confirmSelfDestruct: "social.example" } : {}),
        ...extra,
    };
}

const parse = (v: Record<string, string | undefined>): Settings =>
    parseSettings({ get: (k) => v[k], isSecret: (k) => (SECRET_KEYS as readonly string[]).includes(k) });

function problems(v: Record<string, string | undefined>): string[] {
    try {
        parse(v);
    } catch (err) {
        assert.ok(err instanceof SettingsError, String(err));
        return err.message
            .split("\n")
            .slice(1)
            .map((l) => l.replace(/^\s*- /, ""));
    }
    assert.fail(`accepted ${JSON.stringify(v)}`);
}

const PROXY = { proxySshHost: "203.0.113.20", proxySshHostKey: PROXY_KEY };
const DATABASE = { databaseSshHost: "203.0.113.30", databaseSshHostKey: DB_KEY, databaseHost: "10.0.0.30" };

describe("split hosts: settings", () => {
    test("by default one host does everything: no splitHosts, no hosts output", () => {
        const s = parse(values({}));
        assert.equal(s.splitHosts, undefined);
        assert.equal(describeHosts(s), undefined);
    });

    test("a proxy host: its address and key; port and user default to the Mastodon host's", () => {
        const s = parse(values(PROXY));
        assert.deepEqual(s.splitHosts, { proxy: { host: "203.0.113.20", port: 2222, user: "admin", hostKey: PROXY_KEY } });
        const own = parse(values({ ...PROXY, proxySshPort: "22", proxySshUser: "deploy" }));
        assert.deepEqual(own.splitHosts?.proxy, { host: "203.0.113.20", port: 22, user: "deploy", hostKey: PROXY_KEY });
    });

    test("a database host with the address the Mastodon host reaches PostgreSQL at", () => {
        const s = parse(values(DATABASE));
        assert.deepEqual(s.splitHosts, { database: { host: "203.0.113.30", port: 2222, user: "admin", hostKey: DB_KEY } });
        assert.deepEqual(s.database, { host: "10.0.0.30", port: 5432, name: "mastodon_production", user: "mastodon" });
        const hosts = describeHosts(parse(values({ ...PROXY, ...DATABASE })))!;
        assert.match(
            hosts.app,
            /^admin@203\.0\.113\.10:2222: Mastodon \(web, streaming, Sidekiq, Redis\), the database read and dumped from there, the closure's journal/,
        );
        assert.equal(hosts.proxy, "admin@203.0.113.20:2222: nginx in front, its vhost and the kept original");
        assert.equal(hosts.database, "admin@203.0.113.30:2222: PostgreSQL, reached by the Mastodon host at 10.0.0.30:5432");
    });

    test("proxy and database on one machine of their own, with the same key: accepted", () => {
        const s = parse(values({ ...PROXY, databaseSshHost: "203.0.113.20", databaseSshHostKey: PROXY_KEY, databaseHost: "10.0.0.20" }));
        assert.equal(s.splitHosts?.proxy?.host, s.splitHosts?.database?.host);
    });

    test("bad or contradictory combinations are refused before anything connects, naming the setting and what is allowed", () => {
        const cases: Array<[Record<string, string>, RegExp]> = [
            [{ proxySshPort: "22" }, /^proxySshPort needs proxySshHost: the SSH address of the machine running the nginx in front of Mastodon; or remove them/],
            [
                { databaseSshHostKey: DB_KEY, databaseSshUser: "pg", databaseHost: "10.0.0.30" },
                /^databaseSshUser, databaseSshHostKey need databaseSshHost: the SSH address of the machine running PostgreSQL/,
            ],
            [
                { proxySshHost: "203.0.113.20" },
                /^proxySshHostKey is required with proxySshHost: the host public key line .* \(ssh-keyscan -t ed25519 203\.0\.113\.20\)$/,
            ],
            [{ ...PROXY, proxySshHostKey: "AAAA" }, /^proxySshHostKey must be an OpenSSH public key line like "ssh-ed25519 AAAA\.\.\.", got "AAAA"$/],
            [{ ...PROXY, proxySshHostKey: "ssh-ed25519 AAAAReplaceWithYourProxysHostKey" }, /^proxySshHostKey is still the example's placeholder/],
            [{ ...PROXY, proxySshHost: "proxy.example.org" }, /^proxySshHost is still the example's placeholder "proxy\.example\.org"/],
            [{ ...PROXY, proxySshUser: "Root" }, /^proxySshUser must be a Unix user name, got "Root"$/],
            [{ ...PROXY, proxySshPort: "0" }, /^proxySshPort must be a whole number from 1 to 65535, got "0"$/],
            [
                { ...PROXY, proxySshHost: "203.0.113.10" },
                /^proxySshHost is the Mastodon host itself \("host" 203\.0\.113\.10, port 2222\): one host does every role by default; remove the proxySsh\* settings$/,
            ],
            [
                { ...PROXY, databaseSshHost: "203.0.113.20", databaseSshHostKey: DB_KEY, databaseHost: "10.0.0.20" },
                /^proxySshHost and databaseSshHost are one machine \(203\.0\.113\.20:2222\) but name different host keys or users/,
            ],
            [
                { databaseSshHost: "203.0.113.30", databaseSshHostKey: DB_KEY },
                /^databaseHost must be the address the Mastodon host reaches PostgreSQL at \(DB_HOST in \.env\.production\) when PostgreSQL runs on databaseSshHost, got the default 127\.0\.0\.1/,
            ],
            [{ ...DATABASE, databaseHost: "localhost" }, /^databaseHost must be the address .* got "localhost"/],
        ];
        for (const [extra, re] of cases) {
            const p = problems(values(extra));
            assert.equal(p.length, 1, `${JSON.stringify(extra)}:\n${p.join("\n")}`);
            assert.match(p[0], re, JSON.stringify(extra));
        }
        const compose = problems(values({ ...DATABASE, databaseHost: undefined, deployment: "compose", databasePassword: undefined }));
        assert.ok(
            compose.some((l) =>
                /^databaseSshHost applies to deployment "systemd" only, and deployment is "compose": a compose deployment runs PostgreSQL as its db service beside Mastodon; remove the databaseSsh\* settings$/.test(
                    l,
                ),
            ),
            compose.join("\n"),
        );
    });
});

describe("split hosts: which host each step acts on", () => {
    test("the vhost on the proxy, PostgreSQL's stop on the database host, nginx's stop (parking) on the proxy, the rest on the Mastodon host", () => {
        const kinds = Object.keys(STEPS) as StepKind[];
        const roles = Object.fromEntries(kinds.map((k) => [k, roleOfStep(k, { units: ["x"] })]));
        assert.deepEqual(roles, {
            nginxSite: "proxy",
            closeRegistrations: "app",
            announcement: "app",
            announcementEmail: "app",
            publicStatus: "app",
            requestArchives: "app",
            ledger: "app",
            selfDestruct: "app",
            databaseDump: "app",
            stopServices: "app",
            journal: "app",
            handOver: "app",
        });
        assert.equal(roleOfStep("stopServices", { units: ["postgresql"], hostUnits: true, role: "database" }), "database");
        assert.equal(roleOfStep("stopServices", { units: ["nginx"], hostUnits: true }), "proxy");
    });

    test("every role not split is the Mastodon host's target, and a wrong key names the role's setting", () => {
        const app = { host: "a", port: 22, user: "root", hostKey: APP_KEY, privateKey: "k" };
        const proxy = { ...app, host: "p", hostKey: PROXY_KEY };
        const single = hostTargets({ ssh: app } as never);
        assert.deepEqual(single, { app });
        assert.equal(sshSettingsOf(single, "proxy").hostKey, "sshHostKey");
        const split = hostTargets({ ssh: app, splitHosts: { proxy } } as never);
        assert.deepEqual(split, { app, proxy });
        assert.equal(sshSettingsOf(split, "proxy").hostKey, "proxySshHostKey");
        assert.equal(sshSettingsOf(split, "database").hostKey, "sshHostKey");
    });
});

describe("split hosts: the plan", () => {
    const facts: HostFacts = testFacts("self-destructing");
    const NOW = new Date("2026-07-20T12:00:00Z");

    test("dormant: PostgreSQL stopped on the database host; everything else on the Mastodon host", () => {
        const plan = planClosure(parse(values(DATABASE, "dormant")), facts, NOW);
        assert.deepEqual(plan.stoppedUnits, ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server"]);
        assert.deepEqual(plan.stoppedOnDatabaseHost, ["postgresql"]);
    });

    test("a proxy host alone changes no stop; one host: the plan as before (no stoppedOnDatabaseHost)", () => {
        for (const extra of [PROXY, {}]) {
            const plan = planClosure(parse(values(extra, "dormant")), facts, NOW);
            assert.deepEqual(plan.stoppedUnits, ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql"]);
            assert.equal("stoppedOnDatabaseHost" in plan, false);
        }
    });

    test("below dormant: nothing to stop on the database host", () => {
        const plan = planClosure(parse(values(DATABASE, "self-destructing")), facts, NOW);
        assert.deepEqual(plan.stoppedOnDatabaseHost, []);
    });
});

describe("split hosts: PostgreSQL's stop on the database host", () => {
    /** A host that answers each command with `answer(script)` and records what it was asked. */
    function fakeHost(address: string, answer: (script: string) => string) {
        const asked: string[] = [];
        const host = {
            target: { host: address, port: 22, user: "admin", hostKey: DB_KEY, privateKey: "k" },
            asked,
            others: {} as Record<string, unknown>,
            on: (role: string) => Promise.resolve(host.others[role] ?? host),
            run: async (script: string) => (asked.push(script), { code: 0, stdout: answer(script), stderr: "" }),
            readFile: async () => undefined,
            writeFile: async (path: string) => void asked.push(`write ${path}`),
        };
        return host;
    }
    const access = {
        database: { host: "10.0.0.30", port: 5432, name: "mastodon_production", user: "mastodon", password: "p" },
        deployment: { kind: "systemd", dir: "/home/mastodon/live", mastodonUser: "mastodon" },
    };
    const dump = { path: "/var/backups/mastodon-closure/mastodon_production-20260720T120000Z.dump", sha256: "a".repeat(64), encrypted: false };
    const params = { units: ["postgresql"], dump, hostUnits: true, role: "database" as const };

    test("checks the dump on the Mastodon host; when it does not check out, stops nothing and says which host is which", async () => {
        const database = fakeHost("203.0.113.30", () => "active enabled");
        const app = fakeHost("203.0.113.10", () => `sha256 ${"b".repeat(64)}`);
        database.others.app = app;
        await assert.rejects(STEPS.stopServices.apply(database as never, access as never, params), (err: Error) => {
            assert.equal(
                err.message,
                `services not stopped on 203.0.113.30, nothing was changed there: the dump ${dump.path} (sha256 ${"a".repeat(64)}) is not intact on the Mastodon host 203.0.113.10: sha256 ${"b".repeat(64)}`,
            );
            return true;
        });
        assert.equal(app.asked.length, 1, `one command on the Mastodon host: ${app.asked.join(" | ")}`);
        assert.match(app.asked[0], /sha256sum "\$f"/);
        assert.deepEqual(
            database.asked.filter((s) => /disable|write /.test(s)),
            [],
            `nothing stopped or recorded on the database host: ${database.asked.join(" | ")}`,
        );
    });

    test("with the dump intact on the Mastodon host: recorded, then stopped, on the database host", async () => {
        const database = fakeHost("203.0.113.30", () => "active enabled");
        const app = fakeHost("203.0.113.10", () => "ok");
        database.others.app = app;
        const out = await STEPS.stopServices.apply(database as never, access as never, params);
        assert.deepEqual(out, { states: [{ unit: "postgresql", wasActive: true, wasEnabled: true }] });
        assert.deepEqual(database.asked.slice(-2), ["write /var/lib/mastodon-closure/services.json", "systemctl disable --now 'postgresql'"]);
    });

    test("one host: the message as before", async () => {
        const host = fakeHost("203.0.113.10", (script) => (script.includes("sha256sum") ? "missing" : "active enabled"));
        await assert.rejects(STEPS.stopServices.apply(host as never, access as never, { units: ["postgresql"], dump }), {
            message: `services not stopped, nothing was changed: the dump ${dump.path} (sha256 ${"a".repeat(64)}) is not intact on the host: missing`,
        });
    });
});
