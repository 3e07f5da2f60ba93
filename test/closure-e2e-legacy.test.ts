// A Mastodon older than 4.3: self-destruct is the legacy `tootctl self-destruct`, which queues the Delete
// deliveries and calls Account#suspend! on every local account (each gets a deletion request, due 30 days
// later, from when Mastodon's normal schedule purges the account's local data). The dormant gate counts
// suspended accounts and Sidekiq's Delete deliveries, never the deletion requests, and preview warns when
// the purge is near or has begun. Its dump is encrypted to an age recipient, readable only off the host.
import assert from "node:assert/strict";
import { execFileSync, execSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
    Closure,
    converge,
    expectStatus,
    hostSnapshot,
    postSignIn,
    pulumi,
    refusedPreview,
    sessionOf,
    startClosure,
    stopClosure,
    waitFor,
} from "./support/e2e";

let c: Closure;
const keys = mkdtempSync(join(tmpdir(), "age-"));
before(async () => {
    c = await startClosure({ accounts: 6, mastodonVersion: "4.2.10" });
});
after(async () => {
    await stopClosure(c);
    rmSync(keys, { recursive: true, force: true });
});

const inDays = (n: number) => new Date(Date.now() + n * 86400_000).toISOString().slice(0, 10);

test("Mastodon 4.2: legacy self-destruct, dormant once every Delete is out of Sidekiq, before the 30-day purge", async () => {
    await converge(c, { stage: "announced" });
    await converge(c, { stage: "closed" });
    await waitFor("bob's pending archive", 60, async () => (await c.sandbox.sql("SELECT id FROM backups WHERE NOT processed")).length === 0);
    // The closed vhost rendered from 4.2's own (a regex location per directory, @proxy): users still sign in and
    // land on the export page, their archive is served with 4.2's /system/ headers, the rest answers 410.
    const home = await postSignIn(c.sandbox, "alice");
    assert.equal(home.headers.location, "https://social.example/settings/export", `sign-in answered ${home.status} to ${home.headers.location}`);
    const exportPage = await c.sandbox.http("/settings/export", { cookie: sessionOf(home) });
    assert.equal(exportPage.status, 200, `the export page answered ${exportPage.status}`);
    const archive = /href="(\/backups\/\d+\/download)"/.exec(exportPage.body)?.[1];
    assert.ok(archive, exportPage.body);
    const file = await c.sandbox.http(new URL((await c.sandbox.http(archive, { cookie: sessionOf(home) })).headers.location).pathname);
    assert.equal(file.status, 200, `the archive answered ${file.status}`);
    assert.equal(file.headers["x-content-type-options"], "nosniff");
    await expectStatus(c.sandbox, "/settings/profile", 410, { cookie: sessionOf(home), why: "dropped, as Mastodon drops it in self-destruct mode" });
    await expectStatus(c.sandbox, "/settings/exports/custom_filters.json", 404, { cookie: sessionOf(home), why: "kept, but 4.2 has no such export" });
    // Sidekiq held back: the command only queues the Deletes, so they wait in Sidekiq.
    await c.sandbox.exec("systemctl stop mastodon-sidekiq");
    const sd = await converge(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    assert.equal(typeof sd.selfDestructEnabledAt, "string");
    const env = (await c.sandbox.exec("grep -c '^SELF_DESTRUCT=' /home/mastodon/live/.env.production; true")).stdout.trim();
    assert.equal(env, "0", "no SELF_DESTRUCT before 4.3");
    const accounts = await c.sandbox.sql<{ username: string; suspended: boolean; requests: number; age: number }>(
        `SELECT a.username, a.suspended_at IS NOT NULL AS suspended, count(r.id)::int AS requests,
                coalesce(extract(epoch FROM now() - min(r.created_at)), -1)::int AS age
           FROM accounts a LEFT JOIN account_deletion_requests r ON r.account_id = a.id
          WHERE a.domain IS NULL GROUP BY a.id ORDER BY a.id`,
    );
    assert.equal(accounts.length, 6, `local accounts: ${JSON.stringify(accounts)}`);
    for (const a of accounts) {
        assert.ok(
            a.suspended && a.requests === 1 && a.age >= 0 && a.age < 900,
            `Account#suspend! files one fresh deletion request per account; got ${JSON.stringify(a)}`,
        );
    }
    const runs = (await c.sandbox.exec("grep -c 'tootctl self-destruct' /var/lib/mastodon-sim/boots; true")).stdout.trim();
    assert.equal(runs, "1", `the legacy command ran ${runs} time(s)`);

    // Every account suspended, but the Deletes are still queued: refused, nothing changed. Upstream's second
    // loop finds the accounts the first one just suspended, so each is queued twice: 6 x 2 x 4 inboxes.
    const held = await hostSnapshot(c.sandbox);
    const refused = await refusedPreview(c, { stage: "dormant" });
    assert.match(
        refused,
        new RegExp(
            `deletionNoticesSent: 0 local account\\(s\\) not suspended \\(legacy tootctl self-destruct\\); Delete deliveries in Sidekiq: 48 queued, 0 to retry; ` +
                `Mastodon purges the suspended accounts' local data from ${inDays(30)}`,
        ),
    );
    assert.equal(await hostSnapshot(c.sandbox), held);

    // Five days before the purge, preview warns (and still refuses: the Deletes are queued).
    await c.sandbox.sql("UPDATE account_deletion_requests SET created_at = created_at - interval '25 days'");
    const near = await pulumi(c, "preview");
    assert.notEqual(near.code, 0, `the preview should still be refused:\n${near.output.slice(-2000)}`);
    assert.match(near.output, /Mastodon begins purging the suspended accounts' local data on .*enter dormant before then/);

    await c.sandbox.exec("systemctl start mastodon-sidekiq");
    await waitFor("Sidekiq's Delete deliveries drained", 60, async () => {
        const s = JSON.parse((await c.sandbox.exec("cat /var/lib/mastodon-sim/sidekiq.json")).stdout);
        return s.queue.length === 0 && s.retry.length === 0;
    });
    // carol's request falls due: Mastodon's SuspendedUserCleanupScheduler purges her local data.
    await c.sandbox.sql(
        "UPDATE account_deletion_requests SET created_at = now() - interval '31 days' WHERE account_id = (SELECT id FROM accounts WHERE username = 'carol' AND domain IS NULL)",
    );
    await waitFor(
        "carol purged",
        30,
        async () => (await c.sandbox.sql("SELECT u.id FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = 'carol'")).length === 0,
    );
    // ... as if the command had run 31 days ago: the closure dates the purge from its journal as well, since a
    // purged account's request is gone.
    const journal = JSON.parse((await c.sandbox.exec("cat /var/lib/mastodon-closure/journal.json")).stdout);
    journal.reachedAt["self-destructing"] = new Date(Date.now() - 31 * 86400_000).toISOString();
    await c.sandbox.exec("cat > /var/lib/mastodon-closure/journal.json", JSON.stringify(journal, null, 2) + "\n");
    const begun = await pulumi(c, "preview");
    assert.equal(begun.code, 0, `preview of dormant failed:\n${begun.output.slice(-2000)}`);
    assert.match(begun.output, /Mastodon has been purging the suspended accounts' local data since .*Enter dormant now/);

    const boots = Number((await c.sandbox.exec("wc -l < /var/lib/mastodon-sim/boots")).stdout.trim());
    execFileSync("age-keygen", ["-o", join(keys, "identity")], { stdio: "ignore" });
    const recipient = execFileSync("age-keygen", ["-y", join(keys, "identity")], { encoding: "utf8" }).trim();
    const dormant = await converge(c, { stage: "dormant", dumpAgeRecipient: recipient });
    assert.match(
        JSON.stringify(dormant.gates),
        /0 local account\(s\) not suspended \(legacy tootctl self-destruct\); Delete deliveries in Sidekiq: 0 queued, 0 to retry/,
    );
    // The probe asked Sidekiq (a rails runner script); it never ran the legacy command again.
    const bootLog = (await c.sandbox.exec("tail -n +" + (boots + 1) + " /var/lib/mastodon-sim/boots")).stdout;
    assert.doesNotMatch(bootLog, /self-destruct/);
    assert.match(bootLog, /sidekiq_deliveries\.rb/);
    await expectStatus(c.sandbox, "/users/alice", 410);

    // The dump is encrypted on the host: no plain copy left, and only the identity opens it.
    const dump = dormant.databaseDump;
    assert.equal(dump.encrypted, true);
    assert.match(dump.path, /\.dump\.age$/);
    assert.equal((await c.sandbox.exec("ls /var/backups/mastodon-closure/ | grep -c '\\.dump$'; true")).stdout.trim(), "0");
    const onMachine = join(c.sandbox.info.root, "var-backups", "mastodon-closure", dump.path.split("/").pop());
    assert.equal(execSync(`sha256sum ${onMachine} | cut -d' ' -f1`, { encoding: "utf8" }).trim(), dump.sha256);
    const tables = execSync(`age -d -i ${join(keys, "identity")} ${onMachine} | pg_restore --list | grep -c 'TABLE DATA'`, { encoding: "utf8" });
    assert.ok(Number(tables) >= 7, `tables in the decrypted dump: ${tables}`);
    // The dump holds the local data the purge had not reached: alice's posts, not carol's.
    const statuses = execSync(`age -d -i ${join(keys, "identity")} ${onMachine} | pg_restore --data-only -t statuses -f -`, { encoding: "utf8" });
    assert.equal((statuses.match(/Hello from alice/g) ?? []).length, 3, `alice's statuses in the dump:\n${statuses.slice(0, 1500)}`);
    assert.equal((statuses.match(/Hello from carol/g) ?? []).length, 0, "carol was purged before the dump");
});
