// Split hosts (README: Split hosts), with the real engine against two sandboxes: A is only the nginx in
// front (its vhost's upstream is B's web, on B's address), B runs Mastodon and PostgreSQL. The stack's
// `host` is B and `proxySsh*` name A; one key reaches both, as an admin sets it up. Closed: A answers 410
// and sign-in still reaches B's web through A; the vhost and its kept original are A's, the journal B's.
// Self-destruct asks A's nginx, and refuses while A serves the server's own vhost. Dormant: the dump made and
// verified on B, B's services stopped, A's nginx answering 410 on every path. Both record the closure as their
// owner from its first change, which changes only B.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { NO_WAITS, openSandboxStack } from "../bin/sandbox-stack";
import { Sandbox, startSandbox } from "../sandbox/client";
import { KEPT_VHOST_SUM, ORIGINAL_VHOST, OWNER_RECORD } from "../lib/host/records";
import { Closure, converge, expectStatus, onHost, postSignIn, pulumi, refusedPreview, sessionOf, waitFor } from "./support/e2e";

let proxy: Sandbox | undefined;
let app: Sandbox | undefined;
let c: Closure;
/** B's Mastodon as users reach it: A's address (http), B's database (sql). */
let front: Sandbox;

const SITE = "/etc/nginx/sites-available/mastodon";
const KEPT_SUM = KEPT_VHOST_SUM;
const JOURNAL = "/var/lib/mastodon-closure/journal.json";
const sh = onHost;

before(async () => {
    app = await startSandbox({ sidekiqTickMs: 300, accounts: 3, listenOnNetwork: true });
    proxy = await startSandbox({ sidekiqTickMs: 300, accounts: 1, proxyFor: app.info.address });
    // The closure's one key reaches A too: its public half in A's authorized_keys.
    await sh(proxy, `cat >> /home/admin/.ssh/authorized_keys < ${app.info.sshPrivateKeyPath}.pub`);
    const s = await openSandboxStack(app.info, {
        ...NO_WAITS,
        proxySshHost: proxy.info.address,
        proxySshUser: proxy.info.sshUser,
        proxySshHostKey: proxy.info.hostKey,
    });
    c = { sandbox: app, s };
    front = new Sandbox({ ...app.info, address: proxy.info.address });
});
after(async () => {
    await c?.s.remove();
    await Promise.all([proxy?.stop(), app?.stop()]);
});

const pattern = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test("a proxy presenting another key than proxySshHostKey is refused at preview, naming that setting", async () => {
    const out = await refusedPreview(c, { proxySshHostKey: app!.info.hostKey });
    assert.match(out, new RegExp(`${pattern(proxy!.info.address)}:22 presented a host key other than proxySshHostKey; refusing to connect`));
    await c.s.set({ proxySshHostKey: proxy!.info.hostKey });
});

test("closed: A's nginx answers 410 and passes sign-in to B's web; the vhost and its kept original on A, the journal on B", async () => {
    const appVhost = await sh(app!, `cat ${SITE}`);
    const proxyVhost = await sh(proxy!, `cat ${SITE}`);
    assert.match(proxyVhost, new RegExp(`server ${pattern(app!.info.address)}:3000 `), "A's upstream is B's web");
    await expectStatus(front, "/users/alice", 200, { why: "A passes the actor to B's web before the closure" });

    await converge(c, { stage: "announced" });
    // The closure's first change locks both hosts and records its owner on both (README: One closure per host).
    const owner = await sh(app!, `cat ${OWNER_RECORD}`);
    assert.match(owner, new RegExp(`"stack": "${pattern(c.s.name)}"`));
    assert.equal(await sh(proxy!, `cat ${OWNER_RECORD}`), owner, "the same owner record on A as on B");
    const closed = await converge(c, { stage: "closed" });
    assert.match(closed.hosts.proxy, new RegExp(`^admin@${pattern(proxy!.info.address)}:22: nginx in front`), JSON.stringify(closed.hosts));

    await expectStatus(front, "/users/alice", 410, { why: "A serves the closure's vhost" });
    const signedIn = await postSignIn(front, "alice");
    assert.equal(signedIn.status, 302, `sign-in through A answered ${signedIn.status}: ${signedIn.body.slice(0, 200)}`);
    assert.equal(signedIn.headers["x-sandbox"], "mastodon-web", "B's web answered");
    await expectStatus(front, "/settings/export", 200, { cookie: sessionOf(signedIn), why: "the export page, from B's web" });

    assert.equal(await sh(proxy!, `cat ${ORIGINAL_VHOST}`), proxyVhost, "A keeps its own vhost, byte for byte");
    const [sum, keptSum] = (await sh(proxy!, `sha256sum ${ORIGINAL_VHOST} | cut -d' ' -f1; cat ${KEPT_SUM}`)).trim().split("\n");
    assert.equal(keptSum, sum, "its sha256 recorded on A");
    assert.equal(await sh(app!, `cat ${SITE}`), appVhost, "B's nginx is not the closure's business");
    assert.match(await sh(app!, `cat ${JOURNAL}`), /"stage": "closed"/);
    assert.equal((await proxy!.exec(`test -e ${JOURNAL}`)).code, 1, "no journal on the proxy host");
});

test("self-destruct refuses while A, asked on A, serves the server's own vhost; with the 410 vhost back it runs", async () => {
    await sh(proxy!, `cp ${ORIGINAL_VHOST} ${SITE} && nginx -t 2>/dev/null && systemctl reload nginx`);
    await waitFor("A serving the server's own vhost", 10, async () => (await front.http("/users/alice")).status === 200);
    await c.s.set({ stage: "self-destructing", confirmSelfDestruct: "social.example" });
    const up = await pulumi(c, "up");
    assert.notEqual(up.code, 0, "self-destruct went ahead while A answered 200");
    assert.match(
        up.output,
        new RegExp(
            `self-destruct refused, nothing was changed: nginx on the host in front \\(${pattern(proxy!.info.address)}\\) answers (?!410)\\d{3} to GET /users/mastodon-closure-check`,
        ),
    );
    assert.equal((await app!.exec("grep -c '^SELF_DESTRUCT=' /home/mastodon/live/.env.production")).stdout.trim(), "0");

    const repaired = await pulumi(c, "up", "--refresh");
    assert.equal(repaired.code, 0, repaired.output.slice(-2000));
    await expectStatus(front, "/users/alice", 410);
    assert.match(await sh(app!, "cat /home/mastodon/live/.env.production"), /^SELF_DESTRUCT=.+/m);
    await waitFor("every deletion notice sent", 120, async () =>
        (await app!.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes(
            "Every deletion notice has been sent",
        ),
    );
});

test("dormant: the dump made and verified on B, B's services stopped, A's nginx answering 410 on every path", async () => {
    const dormant = await converge(c, { stage: "dormant" });
    const dump = dormant.databaseDump;
    assert.ok(dump.tocEntries > 0, JSON.stringify(dump));
    assert.equal((await sh(app!, `sha256sum ${dump.path} | cut -d' ' -f1`)).trim(), dump.sha256, "the dump is on B");
    assert.equal(
        (await app!.exec("systemctl is-active mastodon-web mastodon-streaming mastodon-sidekiq redis-server postgresql; true")).stdout,
        "inactive\n".repeat(5),
    );
    assert.equal((await proxy!.exec("systemctl is-active nginx")).stdout.trim(), "active", "A's nginx keeps answering");
    for (const p of ["/users/alice", "/auth/sign_in", "/.well-known/webfinger?resource=acct:alice@social.example", "/api/v1/instance", "/"]) {
        await expectStatus(front, p, 410);
    }
    await expectStatus(front, "/inbox", 410, { method: "POST" });
});
