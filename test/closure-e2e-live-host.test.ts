// The live host is the truth: what an adversarial admin did by hand on a sandbox host, each once broken
// (issue "Safe on the live server"), proved with the real engine: drift seen by preview --refresh and
// repaired by up --refresh, one-way steps checking their preconditions on the host when they act, failed
// steps never counted as done, undo that cannot undo refusing loudly, and a notice period for users.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ORIGINAL_VHOST } from "../lib/host/records";
import { Closure, converge, hostSnapshot, onHost, pulumi, refusedPreview, startClosure, status, stopClosure, waitFor, expectStatus } from "./support/e2e";

const SITE = "/etc/nginx/sites-available/mastodon";
const KEPT = ORIGINAL_VHOST;
const inDays = (n: number) => new Date(Date.now() + n * 86400_000).toISOString().slice(0, 10);
let c: Closure;
let originalVhost: string;

before(async () => {
    c = await startClosure({ accounts: 4, settings: { minimumNoticeDays: "7" } });
    originalVhost = (await c.sandbox.exec(`cat ${SITE}`)).stdout;
});
after(() => stopClosure(c));

const sh = (command: string) => onHost(c.sandbox, command);
const registrations = async () => (await c.sandbox.sql<{ value: string }>("SELECT value FROM settings WHERE var = 'registrations_mode'"))[0]?.value;
const unitStates = async (units: string[]) =>
    (await sh(units.map((u) => `echo ${u} $(systemctl is-active ${u}) $(systemctl is-enabled ${u})`).join("; "))).trim();

test("a closing date in the past or closer than minimumNoticeDays is refused when announcing; later is allowed, earlier checked", async () => {
    const pristine = await hostSnapshot(c.sandbox);
    const past = await refusedPreview(c, { stage: "announced", closingDate: "2020-01-01" });
    assert.match(past, /closingDate 2020-01-01 is in the past: announcing the closure needs it at least 7 day\(s\) ahead \(minimumNoticeDays\)/);
    assert.match(past, new RegExp(`set a later closingDate \\(a day in UTC: today is ${inDays(0)} in UTC by the host's clock\\)`), "the date is a UTC day");
    const soon = await refusedPreview(c, { closingDate: inDays(3) });
    assert.match(soon, new RegExp(`closingDate ${inDays(3)} is 3 day\\(s\\) away: announcing the closure needs it at least 7 day`));
    assert.equal(await hostSnapshot(c.sandbox), pristine, "refused: the host is untouched");

    await c.s.set({ closingDate: inDays(30) });
    const warned = await pulumi(c, "preview");
    assert.equal(warned.code, 0, warned.output);
    assert.match(warned.output, /gives \d+ day\(s\) of notice; joinmastodon\.org's Server Covenant asks listed servers for 90/);
    const announced = await converge(c, { closingDate: inDays(30) });
    // The outputs after the up say what the host has after it: registrations closed by this run.
    assert.equal(announced.database.registrationsMode, "none", `registrations after announcing: ${JSON.stringify(announced.database)}`);
    assert.match(String(await registrations()), /none/);
    const earlier = await refusedPreview(c, { closingDate: inDays(2) });
    assert.match(earlier, new RegExp(`moving the closing date earlier than the announced ${inDays(30)} needs it at least 7 day`));
    await converge(c, { closingDate: inDays(60) });
    // The rest of this file walks on without waiting.
    await converge(c, { minimumNoticeDays: "0", closingDate: inDays(0) });
});

test("announced: nginx stopped by hand is drift: preview --refresh shows it, up --refresh starts it again (after nginx -t)", async () => {
    await sh("systemctl stop nginx");
    try {
        const seen = await pulumi(c, "preview", "--refresh", "--expect-no-changes");
        assert.notEqual(seen.code, 0, `preview --refresh did not see nginx stopped:\n${seen.output.slice(-2000)}`);
        assert.match(seen.output, /NginxSite[^\n]*\(update\)/);
        assert.match(seen.output, /nginx\s*: "active" => "inactive"/, "the diff says nginx is not running");
        // nginx -t judges the configuration before nginx starts: one it rejects is never what starts.
        await sh("echo 'this is not nginx;' > /etc/nginx/conf.d/zz-broken.conf");
        const refused = await pulumi(c, "up", "--refresh");
        assert.notEqual(refused.code, 0, refused.output.slice(-2000));
        assert.match(refused.output, /nginx is stopped and nginx -t rejects its configuration, so it was not started/);
        assert.equal((await c.sandbox.exec("systemctl is-active nginx")).stdout.trim(), "inactive");
    } finally {
        await sh("rm -f /etc/nginx/conf.d/zz-broken.conf");
    }
    const repaired = await pulumi(c, "up", "--refresh");
    assert.equal(repaired.code, 0, repaired.output.slice(-2000));
    assert.equal((await sh("systemctl is-active nginx")).trim(), "active");
    await expectStatus(c.sandbox, "/users/alice", 200, { why: "the server's own vhost, served again" });
    const again = await pulumi(c, "preview", "--refresh", "--expect-no-changes");
    assert.equal(again.code, 0, again.output.slice(-2000));
});

test("the host's clock ahead of this machine's: preview warns, and the closing date's gate goes by the host's clock", async () => {
    // A host whose clock is a day and an hour ahead (its `date`, as root's PATH finds it first).
    const fakeDate = "/usr/local/sbin/date";
    await c.s.set({ stage: "closed", closingDate: inDays(1) });
    const byRunner = await pulumi(c, "preview");
    assert.notEqual(byRunner.code, 0, "with the same clocks the closing date is a day away");
    assert.match(
        byRunner.output,
        new RegExp(`closingDateReached: 1 day\\(s\\) left until the closing date ${inDays(1)}: the gate opens at ${inDays(1)} 00:00 UTC by the host's clock`),
    );
    assert.doesNotMatch(byRunner.output, /the host's clock is/);
    await c.sandbox.exec(`cat > ${fakeDate} && chmod 755 ${fakeDate}`, '#!/bin/sh\nexec /usr/bin/date -d "@$(( $(/usr/bin/date -u +%s) + 90000 ))" "$@"\n');
    try {
        const byHost = await pulumi(c, "preview");
        assert.equal(byHost.code, 0, byHost.output.slice(-2000));
        assert.match(
            byHost.output,
            /warning: the host's clock is 1 day\(s\) 1 h ahead of this machine's \(date -u on the host, read over SSH\): the closure goes by the host's clock/,
        );
        assert.match(
            byHost.output,
            new RegExp(`gate closingDateReached: holds \\(closing date ${inDays(1)} reached: the gate opened at ${inDays(1)} 00:00 UTC by the host's clock\\)`),
        );
    } finally {
        await sh(`rm -f ${fakeDate}`);
        await c.s.set({ stage: "announced", closingDate: inDays(0) });
    }
});

test("closed: a hand edit of the vhost is drift: preview --refresh shows it, up --refresh puts the 410 vhost back", async () => {
    await converge(c, { stage: "closed" });
    await expectStatus(c.sandbox, "/users/alice", 410);
    await sh(`sed -i 's/return 410/return 200/' ${SITE} && nginx -t 2>/dev/null && systemctl reload nginx`);
    await waitFor("nginx serving the hand edit", 10, async () => (await status(c.sandbox, "/users/alice")) === 200);
    const seen = await pulumi(c, "preview", "--refresh", "--expect-no-changes");
    assert.notEqual(seen.code, 0, `preview --refresh did not see the drift:\n${seen.output.slice(-2000)}`);
    assert.match(seen.output, /NginxSite[^\n]*\(update\)/);
    assert.match(seen.output, /return 200/, "the diff shows the edited line");
    const repaired = await pulumi(c, "up", "--refresh");
    assert.equal(repaired.code, 0, repaired.output.slice(-2000));
    await expectStatus(c.sandbox, "/users/alice", 410, { why: "up --refresh put the 410 vhost back" });
    const again = await pulumi(c, "preview", "--refresh", "--expect-no-changes");
    assert.equal(again.code, 0, again.output.slice(-2000));
});

test("closed: registrations reopened by hand are seen and closed again", async () => {
    await sh("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl settings registrations open");
    assert.match(String(await registrations()), /open/);
    const seen = await pulumi(c, "preview", "--refresh", "--expect-no-changes");
    assert.notEqual(seen.code, 0, seen.output.slice(-2000));
    assert.match(seen.output, /Registrations[^\n]*\(update\)/);
    const repaired = await pulumi(c, "up", "--refresh");
    assert.equal(repaired.code, 0, repaired.output.slice(-2000));
    assert.match(String(await registrations()), /none/);
});

test("a 410 vhost is never kept as the original: with the kept copy gone, the way back and a repair both refuse", async () => {
    await sh(`rm ${KEPT}`);
    await c.s.set({ stage: "announced" });
    const back = await pulumi(c, "up");
    assert.notEqual(back.code, 0, "moving back without the kept original must fail");
    assert.match(
        back.output,
        /the server's own vhost is not kept at \/var\/lib\/mastodon-closure\/original-vhost, so the closure cannot put it back: the 410 vhost stays/,
    );
    await expectStatus(c.sandbox, "/users/alice", 410, { why: "the 410 vhost stays in place" });
    // A hand edit makes the next up rewrite the 410 vhost: it must not take the 410 vhost as the original.
    await c.s.set({ stage: "closed" });
    await sh(`echo '# edited' >> ${SITE}`);
    const repair = await pulumi(c, "up", "--refresh");
    assert.notEqual(repair.code, 0, repair.output.slice(-2000));
    assert.match(repair.output, /already holds a closure vhost but the server's own vhost is not kept/);
    assert.equal((await c.sandbox.exec(`test -e ${KEPT}`)).code, 1, "no kept original made from the 410 vhost");
    // What the message says to do: put the server's own vhost back, run up again.
    await c.sandbox.exec(`cat > ${SITE}`, originalVhost);
    const fixed = await pulumi(c, "up", "--refresh");
    assert.equal(fixed.code, 0, fixed.output.slice(-2000));
    assert.equal(await sh(`cat ${KEPT}`), originalVhost, "the kept original is the server's own vhost, byte for byte");
    await expectStatus(c.sandbox, "/users/alice", 410);
});

test("self-destruct refuses while nginx, asked on the host, serves the server's own vhost", async () => {
    await sh(`cp ${KEPT} ${SITE} && nginx -t 2>/dev/null && systemctl reload nginx`);
    await waitFor("nginx serving the server's own vhost", 10, async () => (await status(c.sandbox, "/users/alice")) === 200);
    await c.s.set({ stage: "self-destructing", confirmSelfDestruct: "social.example" });
    const up = await pulumi(c, "up");
    assert.notEqual(up.code, 0, "self-destruct went ahead while the server answered 200");
    // The server's own vhost passes the actor to Mastodon, which knows no such user: anything but 410.
    assert.match(up.output, /self-destruct refused, nothing was changed: nginx on the host answers (?!410)\d{3} to GET \/users\/mastodon-closure-check/);
    assert.equal((await c.sandbox.exec("grep -c '^SELF_DESTRUCT=' /home/mastodon/live/.env.production")).stdout.trim(), "0");
    // up --refresh sees the vhost changed, puts the 410 vhost back, then self-destruct runs.
    const repaired = await pulumi(c, "up", "--refresh");
    assert.equal(repaired.code, 0, repaired.output.slice(-2000));
    await expectStatus(c.sandbox, "/users/alice", 410);
    assert.match(await sh("cat /home/mastodon/live/.env.production"), /^SELF_DESTRUCT=.+/m);
    // The next stage's gate, in the outputs after that up: self-destruct is on, as the host has it now.
    const { nextGates } = await c.s.outputs();
    assert.equal(nextGates[0].gate, "deletionNoticesSent");
    assert.match(nextGates[0].figure, /self-destruct is enabled \(SELF_DESTRUCT verifies\); its progress is read by the next run/, nextGates[0].figure);
    await waitFor("every deletion notice sent", 120, async () =>
        (await c.sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes(
            "Every deletion notice has been sent",
        ),
    );
});

const ALL = ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql"];

test("nginx stopped with a configuration nginx -t rejects: the move to dormant fails, twice, and stops nothing; once it passes, the move starts nginx", async () => {
    await sh("systemctl stop nginx && echo 'this is not nginx;' > /etc/nginx/conf.d/zz-broken.conf");
    try {
        await c.s.set({ stage: "dormant" });
        for (const attempt of [1, 2]) {
            const up = await pulumi(c, "up");
            assert.notEqual(up.code, 0, `attempt ${attempt} succeeded with nginx -t failing:\n${up.output.slice(-1500)}`);
            assert.match(up.output, /nginx -t rejected the closure vhost; the previous vhost is back in place and nginx was not reloaded/);
            assert.equal(await unitStates(ALL), ALL.map((u) => `${u} active enabled`).join("\n"), `attempt ${attempt} stopped a service`);
            assert.match(await sh("cat /var/lib/mastodon-closure/journal.json"), /"stage": "self-destructing"/);
            assert.equal((await c.sandbox.exec("systemctl is-active nginx")).stdout.trim(), "inactive", "nginx was not started on a rejected configuration");
        }
    } finally {
        await sh("rm -f /etc/nginx/conf.d/zz-broken.conf");
    }
    const up = await converge(c, {});
    assert.equal(up.stage, "dormant");
    assert.equal((await sh("systemctl is-active nginx")).trim(), "active", "the move started nginx: dormant answers 410 through it");
    await expectStatus(c.sandbox, "/users/alice", 410);
    assert.equal(await unitStates(ALL), ALL.map((u) => `${u} inactive disabled`).join("\n"));
    assert.ok(
        up.dumpsOnHost.some((d: { path: string }) => d.path === up.databaseDump.path),
        JSON.stringify(up.dumpsOnHost),
    );
    // The outputs after that up: the database the run stopped, the next stage counted from the journal it wrote.
    assert.equal(up.database, "stopped by the closure (dormant)");
    assert.deepEqual(
        up.nextGates.map((g: { gate: string; ok: boolean; figure: string }) => `${g.gate} ${g.ok}`),
        ["goneDaysPassed true", "edgeReady true"],
        JSON.stringify(up.nextGates),
    );
    assert.match(up.nextGates[0].figure, /^dormant since \d{4}-\d\d-\d\dT[\d:.]+Z; 0-day 410 period passed$/);
    // A later run reads the gate of dormant with the database stopped: it held, self-destruct is on.
    const later = await pulumi(c, "preview");
    assert.equal(later.code, 0, later.output.slice(-2000));
    assert.match(
        later.output,
        /gate deletionNoticesSent: holds \(held when dormant was entered \([^)]+\); self-destruct is enabled \(SELF_DESTRUCT verifies\)/,
    );
    assert.doesNotMatch(later.output, /self-destruct is not enabled/);
});

test("dormant: services started by hand and nginx stopped are drift; up --refresh stops them again and starts nginx", async () => {
    await sh("systemctl start postgresql redis-server mastodon-web && systemctl stop nginx");
    const seen = await pulumi(c, "preview", "--refresh", "--expect-no-changes");
    assert.notEqual(seen.code, 0, seen.output.slice(-2000));
    assert.match(seen.output, /StoppedServices[^\n]*\(update\)/);
    assert.match(seen.output, /NginxSite[^\n]*\(update\)/);
    assert.match(seen.output, /nginx\s*: "active" => "inactive"/);
    const repaired = await pulumi(c, "up", "--refresh");
    assert.equal(repaired.code, 0, repaired.output.slice(-2000));
    assert.equal(await unitStates(ALL), ALL.map((u) => `${u} inactive disabled`).join("\n"));
    assert.equal((await sh("systemctl is-active nginx")).trim(), "active");
    await expectStatus(c.sandbox, "/users/alice", 410);
});

test("dormant: a dump gone from the host is reported, never made again from the changed database", async () => {
    const { databaseDump } = await c.s.outputs();
    await sh(`mv ${databaseDump.path} /root/held-dump`);
    const up = await pulumi(c, "up", "--refresh");
    assert.notEqual(up.code, 0, up.output.slice(-2000));
    assert.match(up.output, /the database dump .* is gone on the host\. It is not made again from a database that self-destruct has been changing since/);
    assert.equal((await sh(`ls /var/backups/mastodon-closure | grep -c '\\.dump$' || true`)).trim(), "0", "no new dump was made");
    await sh(`mv /root/held-dump ${databaseDump.path}`);
    const back = await pulumi(c, "up", "--refresh");
    assert.equal(back.code, 0, back.output.slice(-2000));
});
