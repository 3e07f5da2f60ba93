// The sandbox behaves as /work/shared/mastodon-facts.md says. One sandbox per describe (the second with objectStorage).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Sandbox, startSandbox } from "../sandbox/client";
import { isSelfDestruct, selfDestructValue } from "../sandbox/sim/common";
import { downloadUrlSeconds } from "../sandbox/sim/backups";
import { listObjects } from "../sandbox/sim/s3";

const ACCOUNTS = 120;
const TICK = 300;
let sb: Sandbox;

const LIVE = "cd /home/mastodon/live && sudo -u mastodon RAILS_ENV=production";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
    }
}

function ssh(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const i = sb.info;
    return new Promise((resolve) => {
        execFile(
            "ssh",
            [
                "-i",
                i.sshPrivateKeyPath,
                "-o",
                `UserKnownHostsFile=${i.root}/client/known_hosts`,
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=10",
                `${i.sshUser}@${i.address}`,
                command,
            ],
            (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
        );
    });
}

async function signIn(email: string): Promise<string> {
    const r = await sb.http("/auth/sign_in", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: `user%5Bemail%5D=${encodeURIComponent(email)}&user%5Bpassword%5D=whatever`,
    });
    assert.equal(r.status, 302);
    const cookie = r.headers["set-cookie"];
    assert.ok(cookie, "session cookie");
    return cookie.split(";")[0];
}

describe("sandbox", { timeout: 150000 }, () => {
    before(async () => {
        sb = await startSandbox({ name: `t${process.pid % 100000}`, accounts: ACCOUNTS, sidekiqTickMs: TICK, railsBootMs: 20 });
    });
    after(async () => {
        if (sb) await sb.stop().catch(() => undefined);
    });

    test("real SSH as admin with passwordless sudo and the sandbox systemctl", async () => {
        const hostKey = fs.readFileSync(path.join(sb.info.root, "client/known_hosts"), "utf8");
        assert.ok(hostKey.includes(sb.info.hostKey));
        const r = await ssh(
            "sudo systemctl is-active nginx postgresql redis-server mastodon-web mastodon-streaming mastodon-sidekiq; echo rc=$?; sudo systemctl is-enabled mastodon-web",
        );
        assert.equal(r.stdout, "active\nactive\nactive\nactive\nactive\nactive\nrc=0\nenabled\n", r.stderr);
        const v = await ssh(`${LIVE} bin/tootctl version`);
        assert.equal(v.stdout.trim(), "4.3.2");
        const env = await sb.exec("stat -c '%U %a' /home/mastodon/live/.env.production");
        assert.equal(env.stdout.trim(), "mastodon 600");
    });

    test("nginx: https app, ActivityPub, WebFinger, ACME over port 80, streaming", async () => {
        const actor = await sb.http("/users/alice", { headers: { Accept: "application/activity+json" } });
        assert.equal(actor.status, 200);
        assert.equal(JSON.parse(actor.body).id, `https://${sb.info.domain}/users/alice`);
        assert.equal((await sb.http("/users/nobody")).status, 404);
        assert.equal((await sb.http(`/.well-known/webfinger?resource=acct:alice@${sb.info.domain}`)).status, 200);
        assert.equal((await sb.http(`/.well-known/webfinger?resource=acct:nobody@${sb.info.domain}`)).status, 404);
        assert.equal(
            (await sb.http("/users/alice/inbox", { method: "POST", body: "{}", headers: { "Content-Type": "application/activity+json" } })).status,
            202,
        );
        assert.equal((await sb.http("/api/v1/instance")).status, 200);
        assert.equal((await sb.http("/api/v1/streaming/health")).status, 200);
        const acme = await sb.http("/.well-known/acme-challenge/sandbox-test-token", { https: false });
        assert.equal(acme.status, 200);
        const redirect = await sb.http("/users/alice", { https: false });
        assert.equal(redirect.status, 301);
        assert.equal(redirect.headers.location, `https://${sb.info.domain}/users/alice`);
        const site = await sb.exec("readlink /etc/nginx/sites-enabled/mastodon && grep -c 'proxy_cache_valid 410 24h' /etc/nginx/sites-available/mastodon");
        assert.equal(site.stdout, "/etc/nginx/sites-available/mastodon\n1\n");
        // 4.3.2's own vhost: a regex location per static directory, @proxy, gzip_static, no proxy_read_timeout yet.
        const own = (await sb.exec("cat /etc/nginx/sites-available/mastodon")).stdout;
        for (const line of ["location ~ ^/system/ {", "location = /sw.js {", "location @proxy {", "gzip_static on;"])
            assert.ok(own.includes(line), `${line} missing`);
        assert.ok(!own.includes("proxy_read_timeout"), "proxy_read_timeout came with 4.5");
    });

    test("archives: paperclip path, processed semantics, signed-in download", async () => {
        const alice = await sb.sql(
            `SELECT b.* FROM backups b JOIN users u ON u.id = b.user_id JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice'`,
        );
        assert.equal(alice.length, 1);
        assert.equal(alice[0].processed, true);
        assert.match(alice[0].dump_file_name, /^archive-\d{14}-[0-9a-f]{32}\.zip$/);
        const id = String(alice[0].id);
        const rel = `public/system/backups/dumps/000/000/${id.padStart(3, "0")}/original/${alice[0].dump_file_name}`;
        const onDisk = await sb.exec(`head -c 2 /home/mastodon/live/${rel}`);
        assert.equal(onDisk.stdout, "PK");
        // the pending backup of bob is processed by Sidekiq
        await waitFor("bob's backup", async () => {
            const r = await sb.sql(
                `SELECT b.processed FROM backups b JOIN users u ON u.id = b.user_id JOIN accounts a ON a.id = u.account_id WHERE a.username = 'bob'`,
            );
            return r.length === 1 && r[0].processed;
        });
        // tootctl accounts backup: new pending row, then processed in one update; older ones deleted
        const r = await sb.exec(`${LIVE} bin/tootctl accounts backup alice`);
        assert.equal(r.stdout.trim(), "OK");
        const fresh = await sb.sql(`SELECT id, processed, dump_file_name FROM backups WHERE user_id = $1 AND id > $2`, [alice[0].user_id, alice[0].id]);
        assert.equal(fresh.length, 1);
        const newest = await waitFor("alice's new backup", async () => {
            const rows = await sb.sql(`SELECT * FROM backups WHERE user_id = $1`, [alice[0].user_id]);
            return rows.length === 1 && rows[0].processed && rows[0].dump_file_name ? rows[0] : undefined;
        });
        assert.notEqual(String(newest.id), id);
        // download: needs a session, then redirects to the /system/ file which nginx serves
        const anon = await sb.http(`/backups/${newest.id}/download`);
        assert.equal(anon.status, 302);
        assert.match(anon.headers.location, /\/auth\/sign_in$/);
        const cookie = await signIn("alice@mail.example");
        const dl = await sb.http(`/backups/${newest.id}/download`, { cookie });
        assert.equal(dl.status, 302);
        const loc = new URL(dl.headers.location);
        assert.match(loc.pathname, /^\/system\/backups\/dumps\/000\/000\/\d{3}\/original\/archive-.*\.zip$/);
        const file = await sb.http(loc.pathname);
        assert.equal(file.status, 200);
        assert.ok(file.body.startsWith("PK"));
        const bobCookie = await signIn("bob@mail.example");
        assert.equal((await sb.http(`/backups/${newest.id}/download`, { cookie: bobCookie })).status, 404);
    });

    test("tootctl: a Rails boot per call, settings and accounts messages", async () => {
        const count = async () => Number((await sb.exec("wc -l < /var/lib/mastodon-sim/boots")).stdout.trim());
        const before = await count();
        const reg = await sb.exec(`${LIVE} bin/tootctl settings registrations close`);
        assert.equal(reg.code, 0);
        assert.equal(reg.stdout.trim(), "OK");
        assert.deepEqual(await sb.sql(`SELECT value FROM settings WHERE var = 'registrations_mode'`), [{ value: "--- none\n" }]);
        const dis = await sb.exec(`${LIVE} bin/tootctl accounts modify carol --disable`);
        assert.equal(dis.stdout.trim(), "OK");
        assert.deepEqual(await sb.sql(`SELECT u.disabled FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = 'carol'`), [
            { disabled: true },
        ]);
        const missing = await sb.exec(`${LIVE} bin/tootctl accounts modify nobody --enable`);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /No user with such username/);
        assert.equal((await count()) - before, 3);
    });

    test("rails runner scripts: announce, withdraw, request_archives, unknown", async () => {
        await sb.exec(
            "mkdir -p /tmp/closure && for f in announce withdraw_announcement request_archives self_destruct_value nope; do echo '# uploaded' > /tmp/closure/$f.rb; done && chmod -R a+r /tmp/closure",
        );
        const runner = (script: string, input: unknown) => sb.exec(`${LIVE} bin/rails runner /tmp/closure/${script}.rb`, JSON.stringify(input));
        const a = await runner("announce", { text: "We are closing", scheduled_at: null });
        assert.equal(a.code, 0, a.stderr);
        const { id } = JSON.parse(a.stdout);
        const rows = await sb.sql(`SELECT text, published, published_at FROM announcements WHERE id = $1`, [id]);
        assert.equal(rows[0].published, true);
        assert.ok(rows[0].published_at);
        const s = await runner("announce", { text: "Later", scheduled_at: new Date(Date.now() + 86400000).toISOString() });
        const sched = await sb.sql(`SELECT published, scheduled_at FROM announcements WHERE id = $1`, [JSON.parse(s.stdout).id]);
        assert.equal(sched[0].published, false);
        assert.ok(sched[0].scheduled_at);
        assert.deepEqual(JSON.parse((await runner("withdraw_announcement", { id })).stdout), { deleted: true });
        assert.deepEqual(JSON.parse((await runner("withdraw_announcement", { id })).stdout), { deleted: false });
        const req = JSON.parse((await runner("request_archives", { recent_days: 7 })).stdout);
        // alice and bob have recent archives
        assert.deepEqual(req, { requested: ACCOUNTS - 2, skipped: 2 });
        const pending = await sb.sql(`SELECT count(*)::int AS n FROM backups WHERE processed = false`);
        assert.ok(pending[0].n > 0);
        const unknown = await runner("nope", {});
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /unknown runner script "nope.rb"/);
    });

    test("self-destruct: token, 410s, batches of 50 per tick, progress messages", async () => {
        const env = (await sb.exec("cat /home/mastodon/live/.env.production")).stdout;
        const secret = /^SECRET_KEY_BASE=(.*)$/m.exec(env)![1];
        const expected = selfDestructValue(secret, sb.info.domain);
        assert.ok(isSelfDestruct({ SELF_DESTRUCT: expected, SECRET_KEY_BASE: secret, LOCAL_DOMAIN: sb.info.domain }));
        assert.ok(!isSelfDestruct({ SELF_DESTRUCT: expected.slice(0, -2) + "00", SECRET_KEY_BASE: secret, LOCAL_DOMAIN: sb.info.domain }));
        assert.ok(!isSelfDestruct({ SELF_DESTRUCT: selfDestructValue(secret, "other.example"), SECRET_KEY_BASE: secret, LOCAL_DOMAIN: sb.info.domain }));

        const wrong = await sb.exec(`${LIVE} bin/tootctl self-destruct`, "other.example\ny\n");
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, /Domains do not match\. Stopping self-destruct initiation\./);
        const no = await sb.exec(`${LIVE} bin/tootctl self-destruct`, `${sb.info.domain}\nn\n`);
        assert.equal(no.code, 1);
        const yes = await sb.exec(`${LIVE} bin/tootctl self-destruct`, `${sb.info.domain}\ny\n`);
        assert.equal(yes.code, 0);
        assert.match(yes.stdout, /Type in the domain of the server to confirm:/);
        assert.match(yes.stdout, /Are you sure you want to proceed\?/);
        const value = /^ {2}SELF_DESTRUCT=(\S+)$/m.exec(yes.stdout)![1];
        assert.equal(value, expected);
        const rv = await sb.exec(`${LIVE} bin/rails runner /tmp/closure/self_destruct_value.rb`, "{}");
        assert.deepEqual(JSON.parse(rv.stdout), { value, enabled: false });

        // let the archives requested above finish so the progress below is only about deletions
        await waitFor("archives", async () => (await sb.sql(`SELECT count(*)::int AS n FROM backups WHERE processed = false`))[0].n === 0);
        // one already-suspended account with a deletion request
        await sb.sql(`UPDATE accounts SET suspended_at = now(), suspension_origin = 0 WHERE username = 'user0050'`);
        await sb.sql(
            `INSERT INTO account_deletion_requests (account_id, created_at, updated_at) SELECT id, now(), now() FROM accounts WHERE username = 'user0050'`,
        );

        await sb.exec(`echo 'SELF_DESTRUCT=${value}' >> /home/mastodon/live/.env.production`);
        const p0 = await sb.exec(`${LIVE} bin/tootctl self-destruct`);
        assert.equal(p0.code, 0);
        assert.equal(p0.stdout, `Self-destruct mode is already enabled for this Mastodon server\n${ACCOUNTS} accounts are still pending deletion.\n`);

        // before the restart the running processes still serve normally
        assert.equal((await sb.http("/users/alice")).status, 200);
        const restart = await sb.exec("systemctl restart mastodon-web mastodon-sidekiq mastodon-streaming");
        assert.equal(restart.code, 0, restart.stderr);

        const gone = await sb.http("/users/alice", { headers: { Accept: "application/activity+json" } });
        assert.equal(gone.status, 410);
        assert.deepEqual(JSON.parse(gone.body), { error: "Gone" });
        assert.equal((await sb.http(`/.well-known/webfinger?resource=acct:bob@${sb.info.domain}`)).status, 410);
        assert.equal((await sb.http("/api/v1/instance")).status, 410);
        assert.equal((await sb.http("/inbox", { method: "POST", body: "{}" })).status, 410);
        assert.equal((await sb.http("/")).status, 410);
        // still reachable: sign-in, account settings, export page, archive downloads
        assert.equal((await sb.http("/auth/sign_in")).status, 200);
        const cookie = await signIn("dave@mail.example");
        assert.equal((await sb.http("/auth/edit", { cookie })).status, 200);
        assert.equal((await sb.http("/settings/export", { cookie })).status, 200);
        // The controllers that skip check_self_destruct! answer; the others answer 410 before authentication.
        for (const p of [
            "/settings/login_activities",
            "/settings/exports/follows.csv",
            "/settings/two_factor_authentication_methods",
            "/settings/security_keys",
        ]) {
            const r = await sb.http(p, { cookie });
            assert.equal(r.status, 200, `${p} answered ${r.status} in self-destruct mode`);
        }
        assert.equal((await sb.http("/auth/sessions/security_key_options")).status, 401, "security-key options still answer (no key in use)");
        const sso = await sb.http("/auth/auth/openid_connect", {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: "x=1",
        });
        assert.equal(sso.status, 302, `OmniAuth's request phase answered ${sso.status}`);
        const profile = await sb.http("/settings/profile", { cookie });
        assert.equal(profile.status, 410, `a settings page that does not skip it answered ${profile.status}`);
        assert.match(
            profile.body,
            /This server is closing down.*href="\/auth\/edit">Account settings/s,
            "upstream's self-destruct page sends signed-in users to /auth/edit",
        );
        assert.match((await sb.http("/settings/profile")).body, /href="\/auth\/sign_in">Log in/, "and the others to sign in");
        assert.equal(
            (
                await sb.http("/auth", {
                    method: "POST",
                    headers: { "Content-Type": "application/x-www-form-urlencoded" },
                    body: "user%5Bemail%5D=new%40mail.example",
                })
            ).status,
            410,
            "registration (create) answers 410",
        );
        assert.equal(
            (await sb.http("/auth", { method: "POST", cookie, headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "_method=put" })).status,
            302,
            "the account settings form (PUT through _method) is kept",
        );
        const daveBackup = await sb.sql(
            `SELECT b.id FROM backups b JOIN users u ON u.id = b.user_id JOIN accounts a ON a.id = u.account_id WHERE a.username = 'dave'`,
        );
        const dl = await sb.http(`/backups/${daveBackup[0].id}/download`, { cookie });
        assert.equal(dl.status, 302);
        assert.equal((await sb.http(new URL(dl.headers.location).pathname)).status, 200);

        const last = await waitFor(
            "every deletion notice sent",
            async () => {
                const r = await sb.exec(`${LIVE} bin/tootctl self-destruct`);
                assert.equal(r.code, 0);
                const line = r.stdout.split("\n")[1];
                assert.match(
                    line,
                    /accounts are still pending deletion\.|Deletion notices are still being processed|some have failed and are scheduled for retry|Every deletion notice has been sent!/,
                );
                return line.startsWith("Every deletion notice has been sent!") ? r.stdout : undefined;
            },
            30000,
        );
        assert.match(last, /You can safely delete all data and decomission your servers!/);
        assert.equal((await sb.sql(`SELECT count(*)::int AS n FROM accounts WHERE domain IS NULL AND suspended_at IS NULL`))[0].n, 0);
        assert.equal((await sb.sql(`SELECT count(*)::int AS n FROM account_deletion_requests`))[0].n, 0);

        const log = (await sb.exec("grep self_destruct=true /var/lib/mastodon-sim/sidekiq.log | grep tick=")).stdout;
        const perTick = [...log.matchAll(/deleted=(\d+) deletion_requests=(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]).filter(([s, d]) => s + d > 0);
        assert.deepEqual(perTick, [
            [50, 1],
            [50, 0],
            [ACCOUNTS - 1 - 100, 0],
        ]);
        assert.ok(
            [...log.matchAll(/retry=(\d+)/g)].some((m) => Number(m[1]) > 0),
            "some deliveries went through the retry set",
        );
    });

    test("service states survive reboot()", async () => {
        assert.equal((await sb.exec("systemctl disable --now mastodon-streaming")).code, 0);
        const st = await sb.exec("systemctl is-active mastodon-streaming; echo $?; systemctl is-enabled mastodon-streaming; echo $?");
        assert.equal(st.stdout, "inactive\n3\ndisabled\n1\n");
        await sb.exec("systemctl stop mastodon-web"); // stopped but still enabled
        await sb.reboot();
        const after = await sb.exec(
            "for u in nginx postgresql redis-server mastodon-web mastodon-sidekiq mastodon-streaming; do echo $u $(systemctl is-active $u) $(systemctl is-enabled $u); done",
        );
        assert.equal(
            after.stdout,
            "nginx active enabled\npostgresql active enabled\nredis-server active enabled\nmastodon-web active enabled\nmastodon-sidekiq active enabled\nmastodon-streaming inactive disabled\n",
        );
        // still in self-destruct mode after the reboot; SSH back up
        assert.equal((await sb.http("/users/alice")).status, 410);
        assert.equal((await ssh("sudo systemctl is-active ssh")).stdout, "active\n");
    });

    /** Gone, or a zombie waiting for the machine's init to reap it (it runs nothing and holds no namespace). */
    function running(pid: string): boolean {
        try {
            return fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "")[0] !== "Z";
        } catch {
            return false;
        }
    }

    test("stop() leaves no process, netns or file behind", async () => {
        const { root, name } = sb.info;
        const init = fs.readFileSync(path.join(root, "init.pid"), "utf8").trim();
        await sb.stop();
        assert.ok(!fs.existsSync(root));
        assert.ok(!running(init), `the sandbox's init process ${init} still runs`);
        const netns = await new Promise<string>((res) => execFile("ip", ["netns", "list"], (_e, out) => res(out)));
        assert.ok(!netns.includes(`mcsbx-${name}`));
        const pids = await new Promise<string>((res) => execFile("ip", ["netns", "pids", `mcsbx-${name}`], (_e, out) => res(out)));
        assert.equal(pids.trim(), "");
        sb = undefined as unknown as Sandbox;
    });
});

describe("sandbox with objectStorage", { timeout: 120000 }, () => {
    let s3sb: Sandbox;
    before(async () => {
        s3sb = await startSandbox({ name: `o${process.pid % 100000}`, accounts: 3, sidekiqTickMs: TICK, railsBootMs: 20, objectStorage: true });
    });
    after(async () => {
        if (s3sb) await s3sb.stop().catch(() => undefined);
    });

    const aliceBackups = () =>
        s3sb.sql(
            `SELECT b.id, b.processed, b.dump_file_name FROM backups b JOIN users u ON u.id = b.user_id JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice' ORDER BY b.id`,
        );
    const keyOf = (b: { id: string; dump_file_name: string }) => `backups/dumps/000/000/${String(b.id).padStart(3, "0")}/original/${b.dump_file_name}`;

    test("archives are private objects, replaced and vacuumed with their rows; the S3 server outlives a reboot", async () => {
        const bucket = s3sb.info.objectStorage!;
        const env = (await s3sb.exec("grep -E '^(S3_|AWS_)' /home/mastodon/live/.env.production")).stdout;
        assert.match(env, new RegExp(`^S3_ENABLED=true\nS3_BUCKET=${bucket.bucket}\nAWS_ACCESS_KEY_ID=${bucket.accessKeyId}\n`, "m"));
        assert.match(env, new RegExp(`^S3_ENDPOINT=${bucket.endpoint}$`, "m"));
        const [first] = await aliceBackups();
        assert.equal(
            (await listObjects(bucket)).some((o) => o.key === keyOf(first)),
            true,
            "the seed's archive is an object",
        );
        assert.equal((await s3sb.exec("find /home/mastodon/live/public/system -type f | wc -l")).stdout.trim(), "0", "nothing on the host's disk");
        assert.equal((await fetch(`${bucket.endpoint}/${bucket.bucket}/${keyOf(first)}`)).status, 403, "private: an unsigned GET is refused");

        // BackupService deletes the user's older archive, its object with it.
        assert.equal((await s3sb.exec(`${LIVE} bin/tootctl accounts backup alice`)).stdout.trim(), "OK");
        const [newest] = await waitFor("alice's new archive", async () => {
            const rows = await aliceBackups();
            return rows.length === 1 && rows[0].processed && String(rows[0].id) !== String(first.id) ? rows : undefined;
        });
        const keys = (await listObjects(bucket)).map((o) => o.key);
        assert.ok(keys.includes(keyOf(newest)) && !keys.includes(keyOf(first)), keys.join("\n"));

        // The S3 server is not one of the host's services: a reboot leaves the bucket as it was.
        await s3sb.reboot();
        assert.deepEqual(
            (await listObjects(bucket)).map((o) => o.key),
            keys,
        );

        // Vacuum::BackupsVacuum destroys an archive past the retention (7 days), its object too.
        await s3sb.sql("UPDATE backups SET created_at = now() - interval '8 days' WHERE id = $1", [newest.id]);
        const job = await s3sb.enqueueScheduledJob("vacuum_scheduler");
        assert.match(job.message, /^1 backup\(s\) older than 7 day\(s\) destroyed/);
        assert.ok(!(await listObjects(bucket)).some((o) => o.key === keyOf(newest)), "the object went with the row");
    });
});

test("an archive's download URL lives as the version's BackupsController signs it: 10 s, an hour from 4.3.7", () => {
    const seen = ["4.2.10", "4.3.2", "4.3.6", "4.3.7", "4.4.0", "4.7.0"].map((v) => `${v}: ${downloadUrlSeconds(v)}`);
    assert.deepEqual(seen, ["4.2.10: 10", "4.3.2: 10", "4.3.6: 10", "4.3.7: 3600", "4.4.0: 3600", "4.7.0: 3600"]);
});
