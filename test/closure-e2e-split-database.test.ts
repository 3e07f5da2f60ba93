// Split hosts with PostgreSQL on a machine of its own (README: Split hosts), with the real engine against three
// sandboxes: A is only the nginx in front (its upstream is B's web), B runs Mastodon (web, streaming, Sidekiq,
// Redis) with DB_HOST at C's address and no PostgreSQL of its own, C is only PostgreSQL (its pg_hba lets B in).
// The stack's `host` is B, `proxySsh*` name A, `databaseSsh*` name C and `databaseHost` is C's address; one
// key reaches all three. The database is read, written and dumped from B (C's PostgreSQL log says where every
// connection came from); at dormant the dump is made and verified on B, B's services stop, and PostgreSQL stops
// on C last, only once the dump checks out on B; back from dormant PostgreSQL starts on C again.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { NO_WAITS, openSandboxStack } from "../bin/sandbox-stack";
import { Sandbox, startSandbox } from "../sandbox/client";
import { Closure, converge, expectStatus, onHost, pulumi, refusedPreview, waitFor } from "./support/e2e";

let proxy: Sandbox | undefined;
let app: Sandbox | undefined;
let database: Sandbox | undefined;
let c: Closure;
/** B's Mastodon as users reach it: A's address (http), C's database (sql). */
let front: Sandbox;

const SERVICES = "/var/lib/mastodon-closure/services.json";
const JOURNAL = "/var/lib/mastodon-closure/journal.json";
const DUMP_DIR = "/var/backups/mastodon-closure";
const MASTODON_UNITS = ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server"];

const sh = onHost;
/** `systemctl is-active` and `is-enabled` of each unit on a host, as "unit active enabled" lines. */
const unitStates = async (host: Sandbox, units: string[]) =>
    (await sh(host, units.map((u) => `echo "${u} $(systemctl is-active ${u}) $(systemctl is-enabled ${u})"`).join("; "))).trim().split("\n");
const pattern = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** When a process started, in clock ticks since boot (/proc/PID/stat, field 22). */
const startedAt = (pid: string): number =>
    Number(
        readFileSync(`/proc/${pid}/stat`, "utf8")
            .replace(/^.*\) /s, "")
            .split(" ")[19],
    );

/** Where C's PostgreSQL saw TCP connections come from (log_connections), and the pids of pg_dump's. */
function connectionsToC(): { from: string[]; pgDumpFrom: string[] } {
    const log = readFileSync(`${database!.info.root}/logs/postgresql.log`, "utf8");
    const hostOf = new Map<string, string>();
    for (const m of log.matchAll(/\[(\d+)\] LOG:  connection received: host=(\S+)/g)) hostOf.set(m[1], m[2]);
    const pgDumpPids = [...log.matchAll(/\[(\d+)\] LOG:  connection authorized: .*application_name=pg_dump/g)].map((m) => m[1]);
    return {
        from: [...new Set([...hostOf.values()].filter((h) => h !== "[local]"))].sort(),
        pgDumpFrom: [...new Set(pgDumpPids.map((pid) => hostOf.get(pid) ?? `(pid ${pid}: no connection line)`))],
    };
}

before(async () => {
    // Sandboxes reach each other through this machine (sandbox/README.md: Split hosts).
    const forwarding = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim();
    assert.equal(forwarding, "1", "this machine does not forward between the sandboxes' links (net.ipv4.ip_forward=0): sysctl -w net.ipv4.ip_forward=1");
    database = await startSandbox({ databaseServer: true });
    app = await startSandbox({ sidekiqTickMs: 300, accounts: 3, listenOnNetwork: true, databaseOn: database.info.name });
    proxy = await startSandbox({ sidekiqTickMs: 300, accounts: 1, proxyFor: app.info.address });
    // The closure's one key reaches A and C too: its public half in their authorized_keys.
    for (const other of [proxy, database]) await sh(other, `cat >> /home/admin/.ssh/authorized_keys < ${app.info.sshPrivateKeyPath}.pub`);
    const s = await openSandboxStack(app.info, {
        ...NO_WAITS,
        proxySshHost: proxy.info.address,
        proxySshUser: proxy.info.sshUser,
        proxySshHostKey: proxy.info.hostKey,
        databaseSshHost: database.info.address,
        databaseSshUser: database.info.sshUser,
        databaseSshHostKey: database.info.hostKey,
        databaseHost: database.info.address,
    });
    c = { sandbox: app, s };
    front = new Sandbox({ ...app.info, address: proxy.info.address });
});
after(async () => {
    await c?.s.remove();
    await Promise.all([proxy?.stop(), app?.stop(), database?.stop()]);
});

test("the sandboxes: PostgreSQL only on C, B's Mastodon on C's database, C letting only B in", async () => {
    assert.deepEqual(await unitStates(database!, ["postgresql", ...MASTODON_UNITS, "nginx"]), [
        "postgresql active enabled",
        ...MASTODON_UNITS.map((u) => `${u} inactive disabled`),
        "nginx inactive disabled",
    ]);
    assert.deepEqual(await unitStates(app!, ["postgresql", ...MASTODON_UNITS]), [
        "postgresql inactive disabled",
        ...MASTODON_UNITS.map((u) => `${u} active enabled`),
    ]);
    assert.match(await sh(app!, "cat /home/mastodon/live/.env.production"), new RegExp(`^DB_HOST=${pattern(database!.info.address)}$`, "m"));
    const [{ n }] = await database!.sql<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE domain IS NULL");
    assert.equal(n, 3, "B's seed filled C's database");
    assert.deepEqual(connectionsToC().from, [app!.info.address], "C saw TCP connections only from B");
    await expectStatus(front, "/users/alice", 200, { why: "A passes the actor to B's web, which reads C's database" });
});

test("a database host presenting another key than databaseSshHostKey is refused at preview, naming that setting", async () => {
    const out = await refusedPreview(c, { databaseSshHostKey: app!.info.hostKey });
    assert.match(out, new RegExp(`${pattern(database!.info.address)}:22 presented a host key other than databaseSshHostKey; refusing to connect`));
    assert.equal((await app!.exec(`test -e ${JOURNAL}`)).code, 1, "nothing was written on B");
    await c.s.set({ databaseSshHostKey: database!.info.hostKey });
});

test("announced and closed: the database read and written from B, in C's cluster; the hosts output says who does what", async () => {
    await converge(c, { stage: "announced" });
    const [{ mode }] = await database!.sql<{ mode: string }>("SELECT value AS mode FROM settings WHERE var = 'registrations_mode'");
    assert.equal(mode.trim(), "--- none", "registrations closed in C's database");
    const [{ n }] = await database!.sql<{ n: number }>("SELECT count(*)::int AS n FROM announcements WHERE published");
    assert.equal(n, 1, "the announcement is in C's database");

    const closed = await converge(c, { stage: "closed" });
    assert.match(
        closed.hosts.database,
        new RegExp(`^admin@${pattern(database!.info.address)}:22: PostgreSQL, reached by the Mastodon host at ${pattern(database!.info.address)}:5432$`),
        JSON.stringify(closed.hosts),
    );
    assert.match(
        closed.hosts.app,
        new RegExp(`^admin@${pattern(app!.info.address)}:22: Mastodon \\(web, streaming, Sidekiq, Redis\\)`),
        JSON.stringify(closed.hosts),
    );
    assert.equal(closed.database.registrationsMode, "none", JSON.stringify(closed.database));
    assert.equal(closed.database.announcementEmailRecipients, 3, JSON.stringify(closed.database));
    await expectStatus(front, "/users/alice", 410, { why: "A serves the closure's vhost" });
    assert.deepEqual(connectionsToC().from, [app!.info.address], "C saw TCP connections only from B, the closure's included");
    assert.match(await sh(app!, `cat ${JOURNAL}`), /"stage": "closed"/);
    assert.equal((await database!.exec(`test -e ${JOURNAL}`)).code, 1, "no journal on the database host");
});

test("self-destructing: SELF_DESTRUCT on B, every deletion notice sent", async () => {
    await converge(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    assert.match(await sh(app!, "cat /home/mastodon/live/.env.production"), /^SELF_DESTRUCT=.+/m);
    await waitFor("every deletion notice sent", 120, async () =>
        (await app!.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes(
            "Every deletion notice has been sent",
        ),
    );
});

test("dormant: the dump made and verified on B; PostgreSQL stops on C after B's services, and not while the dump on B does not check out", async () => {
    // Hold C's stop at its first command (how postgresql is found), once B's stop is done: the dump on B is
    // changed there, and C's stop must find out before it stops anything.
    await database!.armCrashPoint("systemctl is-active");
    await c.s.set({ stage: "dormant" });
    let finished = false;
    const run = pulumi(c, "up").finally(() => (finished = true));
    await waitFor("C's stop held at its first command", 300, async () => (await database!.crashPoint()).held || finished);
    if (!(await database!.crashPoint()).held) assert.fail(`the up ended without reaching C's stop:\n${(await run).output.slice(-3000)}`);
    assert.deepEqual(
        await unitStates(app!, MASTODON_UNITS),
        MASTODON_UNITS.map((u) => `${u} inactive disabled`),
        "B's services stopped before C's stop began",
    );
    assert.deepEqual(await unitStates(database!, ["postgresql"]), ["postgresql active enabled"]);
    const dumps = (await sh(app!, `ls ${DUMP_DIR}/*.dump`)).trim().split("\n");
    assert.equal(dumps.length, 1, `one dump on B: ${dumps.join(", ")}`);
    await sh(app!, `printf x >> ${dumps[0]}`);
    await database!.disarmCrashPoint();
    const refused = await run;
    assert.notEqual(refused.code, 0, "the up went on with a dump that does not match its sha256");
    assert.match(
        refused.output,
        new RegExp(
            `services not stopped on ${pattern(database!.info.address)}, nothing was changed there: the dump ${pattern(dumps[0])} \\(sha256 [0-9a-f]{64}\\) ` +
                `is not intact on the Mastodon host ${pattern(app!.info.address)}: sha256 [0-9a-f]{64}`,
        ),
        refused.output.slice(-3000),
    );
    assert.deepEqual(await unitStates(database!, ["postgresql"]), ["postgresql active enabled"], "PostgreSQL kept running on C");
    assert.equal((await database!.exec(`test -e ${SERVICES}`)).code, 1, "no services record on C: nothing stopped there");

    await sh(app!, `truncate -s -1 ${dumps[0]}`);
    const dormant = await converge(c, { stage: "dormant" });
    const dump = dormant.databaseDump;
    assert.equal(dump.path, dumps[0], JSON.stringify(dump));
    assert.ok(dump.tocEntries > 0, JSON.stringify(dump));
    assert.equal((await sh(app!, `sha256sum ${dump.path} | cut -d' ' -f1`)).trim(), dump.sha256, "the dump on B matches its sha256");
    assert.equal(Number((await sh(app!, `pg_restore --list ${dump.path} | grep -cv '^;'`)).trim()), dump.tocEntries, "pg_restore --list on B");
    assert.deepEqual(connectionsToC().pgDumpFrom, [app!.info.address], "pg_dump reached C from B");
    assert.equal((await database!.exec(`test -e ${DUMP_DIR}`)).code, 1, "no dump on C");

    assert.deepEqual(await unitStates(database!, ["postgresql"]), ["postgresql inactive disabled"], "PostgreSQL stopped on C");
    assert.deepEqual(JSON.parse(await sh(database!, `cat ${SERVICES}`)).states, [{ unit: "postgresql", wasActive: true, wasEnabled: true }]);
    assert.deepEqual(
        await unitStates(app!, MASTODON_UNITS),
        MASTODON_UNITS.map((u) => `${u} inactive disabled`),
    );
    assert.deepEqual(
        JSON.parse(await sh(app!, `cat ${SERVICES}`)).states.map((s: { unit: string }) => s.unit),
        MASTODON_UNITS,
        "B's record has no postgresql",
    );
    assert.deepEqual(dormant.stoppedServices, [...MASTODON_UNITS, "postgresql"]);
    for (const p of ["/users/alice", "/auth/sign_in", "/"]) await expectStatus(front, p, 410);
});

test("back from dormant: PostgreSQL starts on C again, B's Mastodon reads it", async () => {
    // converge's second preview reads the database again through B (the journal says self-destructing now):
    // it fails when PostgreSQL does not answer there.
    await converge(c, { stage: "self-destructing" });
    assert.deepEqual(await unitStates(database!, ["postgresql"]), ["postgresql active enabled"], "PostgreSQL started again on C");
    assert.deepEqual(
        await unitStates(app!, MASTODON_UNITS),
        MASTODON_UNITS.map((u) => `${u} active enabled`),
    );
    // PostgreSQL first: its server process started before B's web (the sandboxes share the machine's pids).
    const postmaster = readFileSync(`${database!.info.root}/pgdata/postmaster.pid`, "utf8").split("\n")[0].trim();
    const web = (await sh(app!, "cat /run/mastodon-web.pid")).trim();
    assert.ok(
        startedAt(postmaster) < startedAt(web),
        `postgres (pid ${postmaster}, tick ${startedAt(postmaster)}) started after mastodon-web (pid ${web}, tick ${startedAt(web)})`,
    );
    const out = await sh(app!, "cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null");
    assert.match(out, /Every deletion notice has been sent/, "B's tootctl reads C's database");
    assert.deepEqual(connectionsToC().from, [app!.info.address], "C saw TCP connections only from B");
});
