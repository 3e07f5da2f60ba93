// The closure walked through all six stages with the real engine against a sandbox host: for every
// transition converge (up), idempotence (preview --expect-no-changes) and verify the host itself.
// Gates that do not hold must refuse at preview and leave the host untouched; moving back must undo.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runPulumi } from "../bin/sandbox-stack";
import { countsOfLedger } from "../lib/rules/ledger";
import {
    Closure,
    converge,
    hostSnapshot,
    postSignIn,
    pulumi,
    refusedPreview,
    sessionOf,
    signIn,
    startClosure,
    stopClosure,
    waitFor,
    expectStatus,
} from "./support/e2e";

let c: Closure;
let originalVhost: string;
/** alice's access token with write:statuses: the stack's statusToken, so that every secret the closure takes is
 *  in this run (the announcement is also posted as a public status). */
const statusToken = randomBytes(24).toString("hex");
/** alice's archive, as the database named it while it ran (at dormant the database is stopped). */
let aliceArchive: string;
const inDays = (n: number) => new Date(Date.now() + n * 86400_000).toISOString().slice(0, 10);
const today = inDays(0);

before(async () => {
    c = await startClosure({ accounts: 12, settings: { requestArchives: "true" } });
    originalVhost = (await c.sandbox.exec("cat /etc/nginx/sites-available/mastodon")).stdout;
    await c.sandbox.sql(
        `INSERT INTO oauth_access_tokens (token, scopes, resource_owner_id, created_at)
         SELECT $1, 'read write', u.id, now() FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice'`,
        [statusToken],
    );
    await c.s.setSecret("statusToken", statusToken);
});
after(() => stopClosure(c));

const APP_PATHS = ["/users/alice", "/.well-known/webfinger?resource=acct:alice@social.example", "/api/v1/instance"];

async function archivePath(): Promise<string> {
    const [b] = await c.sandbox.sql<{ id: string; dump_file_name: string }>(
        "SELECT b.id, b.dump_file_name FROM backups b JOIN users u ON u.id = b.user_id JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice' AND b.processed ORDER BY b.id DESC LIMIT 1",
    );
    const id = String(b.id)
        .padStart(9, "0")
        .replace(/(\d{3})(?=\d)/g, "$1/");
    return `/system/backups/dumps/${id}/original/${b.dump_file_name}`;
}

test("operating: checks and reports the host, changes nothing on it", async () => {
    const before = await hostSnapshot(c.sandbox);
    const up = await converge(c, { stage: "operating" });
    assert.equal(up.mastodonVersion, "4.3.2");
    assert.equal(up.hostWasAt, "operating");
    assert.equal(
        up.deployment,
        "systemd units, Mastodon checked out in /home/mastodon/live and run as mastodon",
        "the default deployment, as the preview shows it",
    );
    assert.equal(up.database.registrationsMode, "open");
    assert.equal(await hostSnapshot(c.sandbox), before);
    for (const p of APP_PATHS) await expectStatus(c.sandbox, p, 200);
});

test("announced: announcement with date and successor, reminders scheduled, registrations closed", async () => {
    const up = await converge(c, { stage: "announced", closingDate: inDays(40) });
    assert.deepEqual(
        [up.leavingLedger.path, up.leavingLedger.users],
        ["/var/lib/mastodon-closure/ledger.tsv", 12],
        "the ledger of who has left is kept from the announcement on",
    );
    const rows = await c.sandbox.sql<{ text: string; published: boolean; scheduled_at: Date | null }>(
        "SELECT text, published, scheduled_at FROM announcements ORDER BY scheduled_at NULLS FIRST",
    );
    assert.equal(rows.length, 4, "one announcement and reminders 30, 7 and 1 days before");
    assert.equal(rows[0].published, true);
    assert.match(rows[0].text, new RegExp(`will close on ${inDays(40)}.*successor\\.example.*export your data`, "s"));
    for (const r of rows.slice(1)) assert.equal(r.published, false, "reminders wait for their date");
    const [mode] = await c.sandbox.sql<{ value: string }>("SELECT value FROM settings WHERE var = 'registrations_mode'");
    assert.match(mode.value, /none/);
    for (const p of APP_PATHS) await expectStatus(c.sandbox, p, 200, { why: `${p} still served while announced` });
});

test("closed is refused before the closing date, at preview and at up, and the host is left untouched", async () => {
    const before = await hostSnapshot(c.sandbox);
    const out = await refusedPreview(c, { stage: "closed" });
    assert.match(out, /closingDateReached: 40 day\(s\) left until the closing date/);
    const up = await pulumi(c, "up");
    assert.notEqual(up.code, 0);
    assert.match(up.output, /cannot be entered yet; nothing was changed/);
    assert.doesNotMatch(up.output, /deleting|deleted/, "a refused up deletes nothing");
    assert.equal(await hostSnapshot(c.sandbox), before);
});

/** What a plain preview (no --diff) says under each host step in its Diagnostics, by step name. */
function stepMessages(output: string): Record<string, string[]> {
    const diagnostics = output.slice(output.indexOf("\nDiagnostics:\n")).split(/\n(?:Outputs|Resources):\n/)[0];
    const messages: Record<string, string[]> = {};
    for (const block of diagnostics.split("\n\n")) {
        const m = /^\s*pulumi-nodejs:dynamic\/closure:\w+ \((\S+)\):\n([^]*)$/.exec(block.replace(/^\nDiagnostics:\n/, ""));
        if (m)
            messages[m[1]] = m[2]
                .split("\n")
                .map((l) => l.trim())
                .filter((l) => l !== "");
    }
    return messages;
}

test("a plain preview says in words what each changing step will do on the host, one line each; none when nothing changes", async () => {
    const plainPreview = async () => {
        const r = await c.s.pulumi(["preview", "--non-interactive"]);
        assert.equal(r.code, 0, r.output.slice(-2000));
        return r.output;
    };
    await c.s.set({ stage: "announced" });
    const unchanged = await plainPreview();
    assert.deepEqual(stepMessages(unchanged), {}, unchanged.slice(-2000));

    await c.s.set({ stage: "closed", closingDate: today, downloadGraceDays: "3" });
    const closing = await plainPreview();
    assert.deepEqual(
        stepMessages(closing),
        {
            "closure-front-vhost": [
                "nginx answers 410 Gone except media, sign-in and archive downloads; the server's own vhost kept as /var/lib/mastodon-closure/original-vhost",
            ],
            "closure-notice-announcement": ["a server announcement, published now (a row in announcements; withdrawn on the way back)"],
            "closure-notice-status": ["the announcement also posted as a public status of the statusToken's account (deleted on the way back)"],
            "closure-archives-request": [
                "request an archive for every user without one requested in the last 3 day(s), in one Rails boot (rails/request_archives.rb)",
            ],
            // Written again after the archive requests, which it shows; alice's and bob's archives were made before
            // nginx's log began, so whether they took them is unknown.
            "closure-ledger-ledger": [
                "the ledger of who has left written to /var/lib/mastodon-closure/ledger.tsv (mode 600; usernames stay on the host): 12 user(s) who can sign in: 0 moved, 0 downloaded an archive, 10 did nothing yet",
            ],
            "closure-journal": [`the host's journal (/var/lib/mastodon-closure/journal.json) records stage "closed" once every step above holds`],
        },
        closing.slice(-3000),
    );
    assert.doesNotMatch(closing, /proxy_pass|return 410/, "the vhost itself is only in a preview with --diff");
});

test("closed: 410 except media, sign-in, archive download and ACME; archives requested", async () => {
    // Three days of grace: the page promises downloads until then, and self-destruct waits for it.
    const up = await converge(c, { stage: "closed", closingDate: today, downloadGraceDays: "3" });
    assert.ok(up.archivesRequested > 0, "archives requested for users without a recent one");
    const reminders = await c.sandbox.sql("SELECT id FROM announcements WHERE NOT published");
    assert.equal(reminders.length, 0, "reminders for the old date withdrawn: today's closing has none left");
    for (const p of APP_PATHS) await expectStatus(c.sandbox, p, 410);
    await expectStatus(c.sandbox, "/inbox", 410, { method: "POST" });
    await expectStatus(c.sandbox, "/users/alice/inbox", 410, { method: "POST" });
    await expectStatus(c.sandbox, "/.well-known/acme-challenge/sandbox-test-token", 200, { https: false });
    await expectStatus(c.sandbox, "/auth/sign_in", 200);
    const archive = await archivePath();
    aliceArchive = archive;
    await expectStatus(c.sandbox, archive, 200);
    // The link users got by email: signed in, /backups/:id/download redirects to the file.
    const cookie = await signIn(c.sandbox, "alice");
    const id = /dumps\/(\d{3})\/(\d{3})\/(\d{3})/.exec(archive)!.slice(1).join("").replace(/^0+/, "");
    const dl = await c.sandbox.http(`/backups/${id}/download`, { cookie });
    assert.equal(dl.status, 302);
    assert.ok(dl.headers.location.endsWith(archive), dl.headers.location);
    assert.equal((await c.sandbox.http("/settings/export", { cookie })).status, 200);
});

test("closed: the page says users can still sign in and take their data until a day, in both languages, with the links", async () => {
    for (const p of ["/", "/about", "/@alice"]) {
        const r = await c.sandbox.http(p, { headers: { Accept: "text/html" } });
        assert.equal(r.status, 410, `${p} answered ${r.status}`);
        assert.match(r.body, new RegExp(`You can still sign in and download the archive of your account until ${inDays(3)}`), r.body.slice(0, 400));
        assert.match(r.body, new RegExp(`${inDays(3)} までは、ログインしてアカウントのアーカイブをダウンロードできます`), r.body);
        assert.ok(r.body.includes('<a href="/auth/sign_in">Sign in</a>') && r.body.includes('<a href="/settings/export">Download your archive</a>'), r.body);
        assert.doesNotMatch(r.body, /gone for good/);
    }
});

test("closed: signing in lands on the export page; the e-mailed link comes back to the archive after signing in", async () => {
    const home = await postSignIn(c.sandbox, "bob");
    assert.equal(home.status, 302, `sign-in answered ${home.status}`);
    assert.equal(
        home.headers.location,
        "https://social.example/settings/export",
        "Mastodon sends users home (the 410 page); nginx sends them to the export page",
    );
    const exportPage = await c.sandbox.http("/settings/export", { cookie: sessionOf(home) });
    assert.equal(exportPage.status, 200, `the export page answered ${exportPage.status}`);
    assert.match(exportPage.body, /href="\/backups\/\d+\/download"/, "the archive is listed");

    // The link in the archive e-mail, opened signed out: sign in, then straight to the archive.
    const id = /dumps\/(\d{3})\/(\d{3})\/(\d{3})/.exec(aliceArchive)!.slice(1).join("").replace(/^0+/, "");
    const link = await c.sandbox.http(`/backups/${id}/download`);
    assert.equal(link.status, 302);
    assert.equal(link.headers.location, "https://social.example/auth/sign_in");
    const back = await postSignIn(c.sandbox, "alice", sessionOf(link));
    assert.equal(back.headers.location, `https://social.example/backups/${id}/download`, "Devise's stored location is kept");
    const file = await c.sandbox.http(new URL((await c.sandbox.http(`/backups/${id}/download`, { cookie: sessionOf(back) })).headers.location).pathname);
    assert.equal(file.status, 200, `the archive answered ${file.status}`);
    assert.ok(file.body.startsWith("PK"), "a zip archive");
    // The server's own hardening of /system/ (user uploads on the sign-in origin) and HSTS.
    assert.equal(file.headers["x-content-type-options"], "nosniff");
    assert.equal(file.headers["content-security-policy"], "default-src 'none'; form-action 'none'");
    assert.equal(file.headers["strict-transport-security"], "max-age=63072000; includeSubDomains");
});

test("closed: single sign-on and every route Mastodon keeps reach the app; what it drops answers 410", async () => {
    // OmniAuth's request phase (middleware) and its callback: on SSO-only servers the only way in.
    const sso = await c.sandbox.http("/auth/auth/openid_connect", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "authenticity_token=t",
    });
    assert.equal(sso.status, 302, `the OmniAuth request phase answered ${sso.status}`);
    assert.match(sso.headers.location, /^https:\/\/sso\.example\/authorize/);
    const [carol] = await c.sandbox.sql<{ email: string }>("SELECT u.email FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = 'carol'");
    const callback = await c.sandbox.http(`/auth/auth/openid_connect/callback?email=${encodeURIComponent(carol.email)}`);
    assert.equal(callback.status, 302, `the callback answered ${callback.status}`);
    assert.equal(callback.headers.location, "https://social.example/settings/export");
    const cookie = sessionOf(callback);

    const securityKey = await c.sandbox.http("/auth/sessions/security_key_options", { headers: { Accept: "application/json" } });
    assert.equal(securityKey.status, 401, `security-key options answered ${securityKey.status} (410 would stop security-key users signing in)`);
    for (const p of [
        "/auth/edit",
        "/settings/login_activities",
        "/settings/two_factor_authentication_methods",
        "/settings/security_keys",
        "/settings/exports/follows.csv",
        "/settings/exports/bookmarks.csv",
    ]) {
        await expectStatus(c.sandbox, p, 200, { cookie, why: "Mastodon keeps it for signed-in users" });
    }
    for (const p of ["/auth/password/new", "/auth/confirmation/new"]) await expectStatus(c.sandbox, p, 200, { why: "signed out" });
    await expectStatus(c.sandbox, "/auth/edit", 302, { why: "signed out: to sign in" });
    // Dropped, as Mastodon itself drops them in self-destruct mode: 410 even signed in.
    for (const p of ["/settings/profile", "/settings/otp_authentication", "/auth/sign_up", "/home"]) await expectStatus(c.sandbox, p, 410, { cookie });
    await expectStatus(c.sandbox, "/auth/sign_in", 410, { method: "PUT" });
});

test("the ledger of who has left: counts in the outputs, the list on the host only (mode 600), no username in the state or the engine's output", async () => {
    await waitFor("every archive made", 60, async () => (await c.sandbox.sql("SELECT id FROM backups WHERE NOT processed")).length === 0);
    const up = await converge(c, { stage: "closed" });
    const ledger = "/var/lib/mastodon-closure/ledger.tsv";
    assert.equal((await c.sandbox.exec(`stat -c '%a %U' ${ledger}`)).stdout.trim(), "600 root");
    const text = (await c.sandbox.exec(`cat ${ledger}`)).stdout;
    const row = (name: string) => text.split("\n").find((l) => l.startsWith(`${name}\t`)) ?? `${name}: no line in the ledger`;
    // alice took her archive through nginx (the e-mailed link, then the file); bob signed in with his password,
    // carol with single sign-on; dave did nothing since his archive was made.
    assert.match(row("alice"), /^alice\tdownloaded\t-\t-\t\S+\tyes\tyes$/);
    assert.match(row("bob"), /^bob\tsigned-in\t-\t-\t\S+\t(no|unknown)\tyes$/);
    assert.match(row("carol"), /^carol\tsigned-in\t/);
    assert.match(row("dave"), /^dave\tnothing\t-\t-\t\S+\tno\tno$/);
    const names = (
        await c.sandbox.sql<{ username: string }>("SELECT a.username FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.domain IS NULL")
    ).map((r) => r.username);
    assert.equal(text.trimEnd().split("\n").length, 3 + names.length, "a line for each user who can sign in");
    const { path, ...counts } = up.leavingLedger;
    assert.equal(path, ledger);
    assert.deepEqual(counts, countsOfLedger(text)!, "the outputs count what the list on the host says");
    assert.deepEqual([counts.users, counts.moved, counts.downloaded, counts.signedInSinceAnnouncement], [names.length, 0, 1, 3], JSON.stringify(counts));
    // A username would be a JSON string there, or a line of the list; an e-mail address anywhere.
    const exported = (await c.s.pulumi(["stack", "export"])).output;
    const engine = c.s.log.join("");
    for (const [what, text] of [
        ["pulumi stack export", exported],
        ["the engine's output", engine],
    ]) {
        for (const name of names) assert.ok(!text.includes(`"${name}"`) && !text.includes(`${name}\t`), `${name} in ${what}`);
        assert.doesNotMatch(text, /@mail\.example|username\tstatus/, `the list or an e-mail address in ${what}`);
    }
});

test("a no-op up at closed: nothing changes, one SSH session, no Rails boot", async () => {
    const boots = async () => Number((await c.sandbox.exec("wc -l < /var/lib/mastodon-sim/boots")).stdout.trim());
    const [sessions, booted] = [c.sandbox.sshSessions(), await boots()];
    const up = await c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
    assert.equal(up.code, 0, up.output);
    assert.match(up.output, /\d+ unchanged/);
    assert.doesNotMatch(up.output, /\d+ (created|updated|deleted|replaced)/, up.output);
    assert.equal(c.sandbox.sshSessions() - sessions, 1, "SSH sessions opened by a no-op up");
    assert.equal((await boots()) - booted, 0, "Rails boots in a no-op up");
});

test("back from closed to announced restores the original vhost byte for byte, then closed again", async () => {
    await converge(c, { stage: "announced" });
    assert.equal((await c.sandbox.exec("cat /etc/nginx/sites-available/mastodon")).stdout, originalVhost);
    assert.equal((await c.sandbox.exec("ls /etc/nginx/sites-available | grep -c closure; true")).stdout.trim(), "0", "no closure file left behind");
    await expectStatus(c.sandbox, "/users/alice", 200);
    await converge(c, { stage: "closed" });
    await expectStatus(c.sandbox, "/users/alice", 410);
});

test("self-destructing is refused while an archive is pending or without the confirmation", async () => {
    const promised = await refusedPreview(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    assert.match(
        promised,
        new RegExp(`downloadGracePassed: the 410 page tells users they can download their archive until ${inDays(3)}`),
        promised.slice(-2000),
    );
    await c.s.set({ stage: "closed", downloadGraceDays: "0" });
    // carol moves away today through her /settings/migration form, once her successor's actor names her old
    // one: her Move must reach her followers' servers before a Delete can overtake it there. Sidekiq is held,
    // so her Move is still to be fanned out.
    await c.sandbox.exec("systemctl stop mastodon-sidekiq");
    await assert.rejects(c.sandbox.moveAccount("carol", "carol@successor.example", []), /Acct is not an alias of this account/);
    await c.sandbox.moveAccount("carol", "carol@successor.example", ["https://social.example/users/carol"]);
    await assert.rejects(c.sandbox.moveAccount("carol", "carol2@successor.example", ["https://social.example/users/carol"]), /You are on cooldown/);
    const stillToFanOut = "Move deliveries in Sidekiq: 0 queued, 0 to retry, 1 account\\(s\\) still to fan out";
    const moving = await refusedPreview(c, { stage: "self-destructing", confirmSelfDestruct: "social.example", moveGraceDays: "7" });
    assert.match(
        moving,
        new RegExp(
            `moveGracePassed: 1 local account\\(s\\) moved away, the last at ${today}T[\\d:.]+Z; 7 day\\(s\\) of the 7-day move grace left, .*; ${stillToFanOut}`,
        ),
        moving.slice(-2000),
    );
    await c.s.set({ stage: "closed", moveGraceDays: "0" });
    const fanOut = await refusedPreview(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    assert.match(fanOut, new RegExp(`moveGracePassed: .*; 0-day move grace passed; ${stillToFanOut}`), fanOut.slice(-2000));
    await c.s.set({ stage: "closed" });
    // Not alice's: a new archive of hers would delete the one the dormant check looks for.
    await c.sandbox.sql("INSERT INTO backups (user_id, processed, created_at, updated_at) SELECT id, false, now(), now() FROM users ORDER BY id DESC LIMIT 1");
    const before = await hostSnapshot(c.sandbox);
    const pending = await refusedPreview(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    assert.match(pending, /noPendingArchives: 1 archive\(s\) pending/);
    const wrong = await refusedPreview(c, { confirmSelfDestruct: "social.example.org" });
    assert.match(wrong, /confirmSelfDestruct must equal the server's domain "social.example"/);
    assert.equal(await hostSnapshot(c.sandbox), before);
    await c.sandbox.exec("systemctl start mastodon-sidekiq");
    await waitFor("the pending archive", 60, async () => (await c.sandbox.sql("SELECT id FROM backups WHERE NOT processed")).length === 0);
    // Sidekiq fans carol's Move out to the shared inbox of each of her followers' four servers, and delivers
    // them (the flaky server's on a retry): self-destructing is entered by the next test.
    await waitFor("carol's Move delivered", 60, async () => {
        const state = JSON.parse((await c.sandbox.exec("cat /var/lib/mastodon-sim/sidekiq.json")).stdout);
        return state.queue.length === 0 && state.retry.length === 0;
    });
    assert.match((await c.sandbox.exec("cat /var/lib/mastodon-sim/sidekiq.log")).stdout, /ActivityPub::MoveDistributionWorker migration=\d+ deliveries=4\n/);
    // That archive was alice's (the first user): Mastodon deleted her older one when it was made.
    aliceArchive = await archivePath();
});

test("self-destructing: SELF_DESTRUCT set from Rails, Mastodon restarted, accounts suspended in batches", async () => {
    const up = await converge(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    assert.equal(typeof up.selfDestructEnabledAt, "string");
    const env = (await c.sandbox.exec("grep '^SELF_DESTRUCT=' /home/mastodon/live/.env.production")).stdout.trim();
    assert.match(env, /^SELF_DESTRUCT=.+--.+/);
    // The app itself now answers 410 (not only nginx): straight to the backend inside the host.
    const direct = await c.sandbox.exec("curl -s -o /dev/null -w '%{http_code}' -H 'Host: social.example' http://127.0.0.1:3000/api/v1/instance");
    assert.equal(direct.stdout, "410");
    await waitFor("every local account suspended", 90, async () => {
        const [r] = await c.sandbox.sql<{ n: string }>("SELECT count(*) AS n FROM accounts WHERE domain IS NULL AND suspended_at IS NULL");
        return Number(r.n) === 0;
    });
});

test("dormant is refused until every deletion notice is sent", async () => {
    // Sidekiq held back and one more local account: its deletion notice cannot have been sent.
    await c.sandbox.exec("systemctl stop mastodon-sidekiq");
    await c.sandbox.sql("INSERT INTO accounts (username, domain, created_at, updated_at) VALUES ('latecomer', NULL, now(), now())");
    const before = await hostSnapshot(c.sandbox);
    const refused = await refusedPreview(c, { stage: "dormant" });
    assert.match(refused, /deletionNoticesSent: 1 account\(s\) pending deletion; 1 accounts are still pending deletion\./);
    assert.equal(await hostSnapshot(c.sandbox), before);
    await c.sandbox.exec("systemctl start mastodon-sidekiq");
    await waitFor("every deletion notice sent", 120, async () =>
        (await c.sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes(
            "Every deletion notice has been sent",
        ),
    );
});

test("dormant: verified dump kept, everything but nginx stopped and disabled, 410 on every path", async () => {
    const up = await converge(c, { stage: "dormant" });
    const dump = up.databaseDump;
    assert.ok(dump.tocEntries > 10, `pg_restore --list entries: ${dump.tocEntries}`);
    const check = await c.sandbox.exec(`sha256sum ${dump.path} | cut -d' ' -f1; pg_restore --list ${dump.path} | grep -c 'TABLE DATA'`);
    const [sum, tables] = check.stdout.trim().split("\n");
    assert.equal(sum, dump.sha256);
    assert.ok(Number(tables) >= 7, `tables in the dump: ${tables}`);
    const manifest = JSON.parse((await c.sandbox.exec(`cat ${dump.path}.manifest.json`)).stdout);
    assert.equal(manifest.sha256, dump.sha256);
    assert.ok(new Date(manifest.retainUntil) > new Date(Date.now() + 360 * 86400_000));

    const states = async () =>
        (
            await c.sandbox.exec(
                "for u in mastodon-web mastodon-streaming mastodon-sidekiq redis-server postgresql nginx; do echo $u $(systemctl is-active $u) $(systemctl is-enabled $u); done",
            )
        ).stdout;
    const expected = [
        "mastodon-web inactive disabled",
        "mastodon-streaming inactive disabled",
        "mastodon-sidekiq inactive disabled",
        "redis-server inactive disabled",
        "postgresql inactive disabled",
        "nginx active enabled",
        "",
    ].join("\n");
    assert.equal(await states(), expected);
    assert.equal((await c.sandbox.exec(`test -f /home/mastodon/live/public${aliceArchive}`)).code, 0, "the archive file is still on the host");
    for (const p of [...APP_PATHS, "/auth/sign_in", aliceArchive, "/"]) await expectStatus(c.sandbox, p, 410);
    await expectStatus(c.sandbox, "/.well-known/acme-challenge/sandbox-test-token", 200, { https: false });
    // A reboot keeps it that way: the services are disabled, not only stopped.
    await c.sandbox.reboot();
    assert.equal(await states(), expected);
    await expectStatus(c.sandbox, "/users/alice", 410);
});

test("back from dormant: services start again, the dump and self-destruct stay", async () => {
    const up = await converge(c, { stage: "self-destructing" });
    const running = (await c.sandbox.exec("for u in mastodon-web mastodon-sidekiq redis-server postgresql; do systemctl is-active $u; done")).stdout;
    assert.equal(running, "active\nactive\nactive\nactive\n");
    assert.match(JSON.stringify(up.keptOneWay), /database dump/);
    assert.equal((await c.sandbox.exec("ls /var/backups/mastodon-closure/*.dump | wc -l")).stdout.trim(), "1", "the dump is retained");
    assert.match((await c.sandbox.exec("cat /home/mastodon/live/.env.production")).stdout, /^SELF_DESTRUCT=/m);
    // Forward again: a fresh dump of the data as it is now.
    await converge(c, { stage: "dormant" });
    assert.equal((await c.sandbox.exec("ls /var/backups/mastodon-closure/*.dump | wc -l")).stdout.trim(), "2");
});

test("parked: still 410 everywhere, the outputs say what is left to do by hand", async () => {
    const up = await converge(c, { stage: "parked" });
    assert.ok(up.manualSteps.some((s: string) => /DNS/.test(s)));
    assert.equal(up.next, "nothing: this is the last stage");
    await expectStatus(c.sandbox, "/users/alice", 410);
});

/** Every secret the stack holds or the host made, by what it is (messages name it, never print it). */
async function everySecret(): Promise<Record<string, string>> {
    const secrets: Record<string, string> = {};
    // Each line of the OpenSSH key's base64 body.
    readFileSync(c.sandbox.info.sshPrivateKeyPath, "utf8")
        .split("\n")
        .forEach((line, i) => !line.startsWith("-----") && line.length >= 16 && (secrets[`line ${i + 1} of the SSH private key`] = line));
    secrets["the database password"] = c.sandbox.info.dbPassword;
    secrets["the SELF_DESTRUCT value"] = (await c.sandbox.exec("grep '^SELF_DESTRUCT=' /home/mastodon/live/.env.production | cut -d= -f2-")).stdout.trim();
    secrets["the status token"] = statusToken;
    assert.ok(Object.keys(secrets).length >= 5 && Object.values(secrets).every((v) => v.length >= 16), "every secret read");
    return secrets;
}

/** Fails naming each secret found in `text` and where, never the secret itself. */
function assertNoSecret(secrets: Record<string, string>, text: string, where: string): void {
    const found = Object.entries(secrets).filter(([, value]) => text.includes(value));
    assert.deepEqual(
        found.map(([what]) => what),
        [],
        `in ${where}`,
    );
}

test("no secret in plain text in the state or the engine's output", async () => {
    // What an operator's `pulumi stack export` shows (the Automation API's exportStack decrypts on purpose).
    const exported = (await c.s.pulumi(["stack", "export"])).output;
    const secrets = await everySecret();
    assertNoSecret(secrets, exported, "pulumi stack export");
    assertNoSecret(secrets, c.s.log.join(""), "the engine's output of every command of this file");
    assert.match(exported, /"ciphertext"/);
});

test("no secret in preview --refresh and up run with --debug and with -v=9, nor in the engine's log files", async () => {
    const secrets = await everySecret();
    // The engine writes its -v log to TMPDIR unless --logtostderr: a directory of this run's own.
    const tmp = mkdtempSync(join(tmpdir(), "closure-verbose-"));
    try {
        for (const args of [
            ["preview", "--refresh", "--debug"],
            ["up", "--yes", "--debug"],
            ["preview", "--refresh", "-v=9"],
            ["up", "--yes", "--refresh", "-v=9", "--logtostderr"],
        ]) {
            const run = await runPulumi([...args, "--stack", c.s.name, "--non-interactive"], { ...c.s.env, TMPDIR: tmp });
            assert.equal(run.code, 0, `pulumi ${args.join(" ")} failed:\n${run.output.slice(-2000)}`);
            assertNoSecret(secrets, run.output, `the output of pulumi ${args.join(" ")}`);
            if (args.includes("--logtostderr")) assert.match(run.output, /Marshaling property for RPC/, "the -v=9 log went to the output");
        }
        const logs = readdirSync(tmp).filter((f) => f.startsWith("pulumi"));
        assert.ok(
            logs.some((f) => /\.log\.INFO\./.test(f)),
            `the -v=9 preview left no pulumi.*.INFO.* log in TMPDIR: ${readdirSync(tmp).join(", ")}`,
        );
        const logText = logs.map((f) => readFileSync(join(tmp, f), "utf8"));
        assert.match(logText.join(""), /Marshaling property for RPC/, "the -v=9 log went to the files");
        logs.forEach((f, i) => assertNoSecret(secrets, logText[i], `the log file ${f} in TMPDIR`));
    } finally {
        rmSync(tmp, { recursive: true, force: true });
    }
});
