// Docker Compose as upstream ships it (issue 13), with the real engine against a compose sandbox: a real Docker
// engine on the host runs upstream's docker-compose.yml (db, redis, web, streaming, sidekiq) from
// /home/mastodon/live, nginx on the host in front. The closure reaches Mastodon only through `docker compose`
// (one-off `run` containers for tootctl and rails runner, `exec` in db for the dump, `stop`/`start` and the
// restart policy for the services), and the database through the db container's address.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Closure, converge, expectStatus, onHost, postSignIn, pulumi, sessionOf, startClosure, stopClosure, waitFor } from "./support/e2e";

let c: Closure;
const DIR = "/home/mastodon/live";
const SERVICES = ["db", "redis", "web", "streaming", "sidekiq"];
const sh = (command: string) => onHost(c.sandbox, command);
/** Each service's container as Docker shows it: "service state restart-policy id". */
async function containers(): Promise<Record<string, { state: string; restart: string; id: string }>> {
    const out = await sh(
        `cd ${DIR} && for s in ${SERVICES.join(" ")}; do id=$(docker compose ps -aq $s); echo "$s $(docker inspect -f '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}} {{.Id}}' $id)"; done`,
    );
    return Object.fromEntries(
        out
            .trim()
            .split("\n")
            .map((l) => l.split(" "))
            .map(([s, state, restart, id]) => [s, { state, restart, id }]),
    );
}
const summary = (cs: Awaited<ReturnType<typeof containers>>) => SERVICES.map((s) => `${s} ${cs[s].state} ${cs[s].restart}`).join(", ");
/** Mastodon's own one-off command, as an admin runs it in a compose deployment. */
const tootctl = (args: string) => c.sandbox.exec(`cd ${DIR} && docker compose run --rm --no-deps -T web bin/tootctl ${args} </dev/null`);

before(async () => {
    c = await startClosure({ deployment: "compose", accounts: 4, settings: { deployment: "compose" } });
});
after(() => stopClosure(c));

test("the sandbox runs upstream's compose file: five running containers, web and streaming on 127.0.0.1 for nginx", async () => {
    const cs = await containers();
    assert.equal(summary(cs), SERVICES.map((s) => `${s} running always`).join(", "));
    await expectStatus(c.sandbox, "/users/alice", 200, { why: "nginx on the host passes the actor to the web container" });
    assert.equal(
        (await c.sandbox.exec("systemctl is-active postgresql redis-server")).stdout,
        "inactive\ninactive\n",
        "PostgreSQL and Redis run only as containers",
    );
});

test("operating: the version from the web service's image, the database through the db container, nothing changed", async () => {
    const before = await containers();
    const bootsBefore = (await sh("wc -l < /var/lib/mastodon-sim/boots")).trim();
    const up = await converge(c, { stage: "operating" });
    assert.equal(up.mastodonVersion, "4.3.2");
    assert.match(up.deployment, /^Docker Compose in \/home\/mastodon\/live/);
    assert.equal(up.database.registrationsMode, "open");
    assert.deepEqual(await containers(), before, "no container recreated, stopped or restarted");
    assert.equal((await sh("wc -l < /var/lib/mastodon-sim/boots")).trim(), bootsBefore, "no Rails boot in a no-op run");
});

test("announced, then closed: rows through the containers' Rails, 410 from nginx, sign-in still reaches the web container", async () => {
    await converge(c, { stage: "announced" });
    const [announcement] = await c.sandbox.sql<{ text: string }>("SELECT text FROM announcements WHERE published ORDER BY id LIMIT 1");
    assert.match(announcement.text, /successor\.example/);
    const [mode] = await c.sandbox.sql<{ value: string }>("SELECT value FROM settings WHERE var = 'registrations_mode'");
    assert.match(mode.value, /none/);

    await converge(c, { stage: "closed", requestArchives: "true" });
    await expectStatus(c.sandbox, "/users/alice", 410);
    const signedIn = await postSignIn(c.sandbox, "alice");
    assert.equal(signedIn.status, 302, `sign-in answered ${signedIn.status}: ${signedIn.body.slice(0, 200)}`);
    await expectStatus(c.sandbox, "/settings/export", 200, { cookie: sessionOf(signedIn), why: "the export page, from the web container" });
    const [requested] = await c.sandbox.sql<{ n: string }>("SELECT count(*) AS n FROM backups");
    assert.ok(Number(requested.n) >= 4, `archives requested through rails runner in a one-off container: ${requested.n}`);
    await waitFor(
        "every archive made by the sidekiq container",
        90,
        async () => (await c.sandbox.sql("SELECT id FROM backups WHERE NOT processed")).length === 0,
    );
});

test("self-destructing: SELF_DESTRUCT in .env.production, web, streaming and sidekiq recreated so that they read it", async () => {
    const before = await containers();
    const up = await converge(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    assert.equal(typeof up.selfDestructEnabledAt, "string");
    assert.match(await sh(`grep '^SELF_DESTRUCT=' ${DIR}/.env.production`), /^SELF_DESTRUCT=.+--.+/);
    const after = await containers();
    for (const s of ["web", "streaming", "sidekiq"]) assert.notEqual(after[s].id, before[s].id, `${s} recreated (a restart keeps the old environment)`);
    for (const s of ["db", "redis"]) assert.equal(after[s].id, before[s].id, `${s} left alone`);
    const direct = await sh("curl -s -o /dev/null -w '%{http_code}' -H 'Host: social.example' http://127.0.0.1:3000/api/v1/instance");
    assert.equal(direct, "410", "the web container itself is in self-destruct mode");
    await waitFor("every deletion notice sent", 150, async () => (await tootctl("self-destruct")).stdout.includes("Every deletion notice has been sent"));
});

test("dormant: the dump made in the db container and verified, every service stopped with no restart policy, still so after a reboot", async () => {
    const up = await converge(c, { stage: "dormant" });
    const dump = up.databaseDump;
    assert.ok(dump.tocEntries > 10, `pg_restore --list entries: ${dump.tocEntries}`);
    assert.equal((await sh(`sha256sum ${dump.path} | cut -d' ' -f1`)).trim(), dump.sha256, "the dump is on the host");
    const stopped = SERVICES.map((s) => `${s} exited no`).join(", ");
    assert.equal(summary(await containers()), stopped);
    // The safe order: Mastodon's processes, then Redis, then the database, and the database only once the
    // dump was written (the file's mtime against the container's end).
    const ended = await sh(
        `cd ${DIR} && stat -c %Y ${dump.path} && for s in web streaming sidekiq redis db; do docker inspect -f '{{.State.FinishedAt}}' $(docker compose ps -aq $s); done`,
    );
    const [dumpWritten, ...finished] = ended.trim().split("\n");
    const times = finished.map((t) => Date.parse(t));
    const order = ["web", "streaming", "sidekiq", "redis", "db"].map((s, i) => `${s} ${finished[i]}`).join(", ");
    for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] <= times[i], `stopped in this order: ${order}`);
    assert.ok(Number(dumpWritten) * 1000 <= times[4], `the dump (mtime ${dumpWritten}) written before db stopped: ${order}`);
    assert.equal((await sh("systemctl is-active nginx docker")).trim(), "active\nactive");
    for (const p of ["/users/alice", "/auth/sign_in", "/api/v1/instance", "/"]) await expectStatus(c.sandbox, p, 410);
    // A reboot restarts the Docker engine, which brings back every container whose policy says so: none now.
    await c.sandbox.reboot();
    assert.equal(summary(await containers()), stopped);
    await expectStatus(c.sandbox, "/users/alice", 410);
    const again = await pulumi(c, "preview", "--expect-no-changes");
    assert.equal(again.code, 0, `after the reboot the preview found changes:\n${again.output.slice(-2000)}`);
});

test("back from dormant: the services run again with upstream's restart policy, the dump is kept", async () => {
    const up = await converge(c, { stage: "self-destructing" });
    assert.equal(summary(await containers()), SERVICES.map((s) => `${s} running always`).join(", "));
    assert.match(JSON.stringify(up.keptOneWay), /database dump/);
    assert.equal((await sh("ls /var/backups/mastodon-closure/*.dump | wc -l")).trim(), "1", "the dump is retained");
    await waitFor("the web container answering", 30, async () => (await c.sandbox.exec("curl -s http://127.0.0.1:3000/health")).stdout === "OK");
});
