// A Mastodon older than 4.3: self-destruct is the legacy `tootctl self-destruct`, which suspends every
// local account itself; the dormant gate reads the database instead of running it again. Its dump is
// encrypted to an age recipient and only readable with the identity kept off the host.
import assert from "node:assert/strict";
import { execFileSync, execSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Closure, converge, postSignIn, sessionOf, startClosure, stopClosure, expectStatus } from "./support/e2e";

let c: Closure;
const keys = mkdtempSync(join(tmpdir(), "age-"));
before(async () => {
    c = await startClosure({ accounts: 6, mastodonVersion: "4.2.10" });
});
after(async () => {
    await stopClosure(c);
    rmSync(keys, { recursive: true, force: true });
});

test("Mastodon 4.2: legacy self-destruct, then dormant once no local account is left", async () => {
    await converge(c, { stage: "announced" });
    await converge(c, { stage: "closed" });
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
    const sd = await converge(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    assert.equal(typeof sd.selfDestructEnabledAt, "string");
    const [left] = await c.sandbox.sql<{ n: string }>("SELECT count(*) AS n FROM accounts WHERE domain IS NULL AND suspended_at IS NULL");
    assert.equal(Number(left.n), 0, "the legacy command suspends every local account in one run");
    const env = (await c.sandbox.exec("grep -c '^SELF_DESTRUCT=' /home/mastodon/live/.env.production; true")).stdout.trim();
    assert.equal(env, "0", "no SELF_DESTRUCT before 4.3");
    const boots = Number((await c.sandbox.exec("wc -l < /var/lib/mastodon-sim/boots")).stdout.trim());
    execFileSync("age-keygen", ["-o", join(keys, "identity")], { stdio: "ignore" });
    const recipient = execFileSync("age-keygen", ["-y", join(keys, "identity")], { encoding: "utf8" }).trim();
    const dormant = await converge(c, { stage: "dormant", dumpAgeRecipient: recipient });
    assert.match(JSON.stringify(dormant.gates), /0 account\(s\) pending deletion \(legacy tootctl self-destruct/);
    // The probe read the database; it never ran the legacy command again (only `tootctl version` booted).
    const bootLog = (await c.sandbox.exec("tail -n +" + (boots + 1) + " /var/lib/mastodon-sim/boots")).stdout;
    assert.doesNotMatch(bootLog, /self-destruct/);
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
});
