// Mastodon 4.7: SelfDestructScheduler sets requested_deletion_at instead of suspending (PR #23617), so the
// accounts left are counted as the scheduler selects them. SELF_DESTRUCT counts only when it verifies as
// Rails' MessageVerifier does: a wrong value found on the host is reported, never taken for self-destruct
// mode, and replaced by the one Rails generates.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { envValue, generateSelfDestructValue, isSelfDestructMode } from "../lib/mastodon/self-destruct";
import { Closure, converge, pulumi, refusedPreview, startClosure, stopClosure, waitFor } from "./support/e2e";

let c: Closure;
before(async () => {
    c = await startClosure({ accounts: 8, mastodonVersion: "4.7.0" });
});
after(() => stopClosure(c));

const ENV = "/home/mastodon/live/.env.production";
const backend = (path: string) =>
    c.sandbox.exec(`curl -s -o /dev/null -w '%{http_code}' -H 'Host: social.example' http://127.0.0.1:3000${path}`).then((r) => r.stdout);
const tootctlSelfDestruct = () => c.sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null").then((r) => r.stdout);

test("Mastodon 4.7: a wrong SELF_DESTRUCT replaced, accounts marked requested_deletion_at, dormant once the scheduler has none left", async () => {
    await converge(c, { stage: "announced" });
    await converge(c, { stage: "closed" });

    // A value signed with another SECRET_KEY_BASE: Mastodon silently stays out of self-destruct mode.
    const wrong = generateSelfDestructValue("another-secret-key-base", "social.example");
    await c.sandbox.exec(`echo 'SELF_DESTRUCT=${wrong}' >> ${ENV} && systemctl restart mastodon-web mastodon-sidekiq mastodon-streaming`);
    assert.equal(await backend("/api/v1/instance"), "200", "with a wrong value the app is not in self-destruct mode");
    const closed = await pulumi(c, "preview", "--expect-no-changes");
    assert.equal(closed.code, 0, `preview at closed:\n${closed.output.slice(-2000)}`);
    assert.match(
        closed.output,
        /SELF_DESTRUCT in \.env\.production does not verify .*Mastodon is not in self-destruct mode\. It is replaced when self-destructing is entered/,
    );

    await waitFor("bob's pending archive", 60, async () => (await c.sandbox.sql("SELECT id FROM backups WHERE NOT processed")).length === 0);
    await converge(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    const envFile = (await c.sandbox.exec(`cat ${ENV}`)).stdout;
    assert.equal(
        (envFile.match(/^SELF_DESTRUCT=/gm) ?? []).length,
        1,
        `SELF_DESTRUCT lines:\n${envFile
            .split("\n")
            .filter((l) => l.includes("SELF_DESTRUCT"))
            .join("\n")}`,
    );
    const value = envValue(envFile, "SELF_DESTRUCT")!;
    assert.notEqual(value, wrong, "the wrong value was kept");
    assert.ok(
        isSelfDestructMode({ SELF_DESTRUCT: value, SECRET_KEY_BASE: envValue(envFile, "SECRET_KEY_BASE"), LOCAL_DOMAIN: "social.example" }),
        "the written value does not verify",
    );
    assert.equal(await backend("/api/v1/instance"), "410", "the app itself is in self-destruct mode");

    // The value damaged by hand later: refresh shows Mastodon out of self-destruct mode, up --refresh repairs it.
    await c.sandbox.exec(`sed -i 's/^SELF_DESTRUCT=.*/SELF_DESTRUCT=${wrong}/' ${ENV} && systemctl restart mastodon-web mastodon-sidekiq mastodon-streaming`);
    assert.equal(await backend("/api/v1/instance"), "200", "the damaged value turned self-destruct mode off");
    const drift = await pulumi(c, "preview", "--refresh");
    assert.equal(drift.code, 0, drift.output.slice(-2000));
    assert.match(drift.output, /SELF_DESTRUCT in \.env\.production does not verify .*pulumi up --refresh replaces it/);
    assert.match(drift.output, /~ 1 to update/, `preview --refresh should update the self-destruct step:\n${drift.output.slice(-2000)}`);
    const repaired = await pulumi(c, "up", "--refresh");
    assert.equal(repaired.code, 0, repaired.output.slice(-2000));
    assert.equal(envValue((await c.sandbox.exec(`cat ${ENV}`)).stdout, "SELF_DESTRUCT"), value, "up --refresh put the verified value back");
    assert.equal(await backend("/api/v1/instance"), "410", "the app is in self-destruct mode again");
    const settled = await pulumi(c, "preview", "--expect-no-changes");
    assert.equal(settled.code, 0, settled.output.slice(-2000));

    // 4.7's scheduler marks the accounts deleted and leaves them unsuspended.
    await waitFor("every local account marked requested_deletion_at", 60, async () => {
        const [r] = await c.sandbox.sql<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE domain IS NULL AND requested_deletion_at IS NULL");
        return r.n === 0;
    });
    const [marks] = await c.sandbox.sql<{ suspended: number; requests: number }>(
        "SELECT (SELECT count(*)::int FROM accounts WHERE domain IS NULL AND suspended_at IS NOT NULL) AS suspended, (SELECT count(*)::int FROM account_deletion_requests) AS requests",
    );
    assert.deepEqual(marks, { suspended: 0, requests: 0 }, "4.7 sets requested_deletion_at instead of suspending, and destroys deletion requests");

    // An account suspended by a moderator before, never marked: tootctl no longer counts it
    // (without_suspended), but the scheduler still sends it a Delete (without_requested_deletion).
    await waitFor("every deletion notice sent", 60, async () => /Every deletion notice has been sent/.test(await tootctlSelfDestruct()));
    await c.sandbox.exec("systemctl stop mastodon-sidekiq");
    await c.sandbox.sql(
        "UPDATE accounts SET suspended_at = now(), suspension_origin = 0, requested_deletion_at = NULL WHERE username = 'frank' AND domain IS NULL",
    );
    assert.match(await tootctlSelfDestruct(), /Every deletion notice has been sent/, "tootctl leaves frank out");
    const refused = await refusedPreview(c, { stage: "dormant" });
    assert.match(refused, /deletionNoticesSent: 1 account\(s\) pending deletion; Every deletion notice has been sent!/);

    await c.sandbox.exec("systemctl start mastodon-sidekiq");
    await waitFor("frank's Delete sent", 60, async () => {
        const [r] = await c.sandbox.sql<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE domain IS NULL AND requested_deletion_at IS NULL");
        return r.n === 0 && /Every deletion notice has been sent/.test(await tootctlSelfDestruct());
    });
    const dormant = await converge(c, { stage: "dormant" });
    assert.match(JSON.stringify(dormant.gates), /0 account\(s\) pending deletion; Every deletion notice has been sent!/);
    assert.ok(dormant.databaseDump.tocEntries > 10, `pg_restore --list entries: ${dormant.databaseDump.tocEntries}`);
    assert.equal((await c.sandbox.exec("systemctl is-active mastodon-sidekiq postgresql; true")).stdout, "inactive\ninactive\n");
});
