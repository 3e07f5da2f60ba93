// What must never happen on a live server, proved against a sandbox host with the real engine:
// bad input and skipped stages change nothing; another host key is refused; a broken nginx config never
// reaches a reload; an interrupted up converges when run again.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Closure, converge, hostSnapshot, pulumi, refusedPreview, startClosure, stopClosure, waitFor, expectStatus } from "./support/e2e";

let c: Closure;
let pristine: string;

before(async () => {
    c = await startClosure({ accounts: 4 });
    pristine = await hostSnapshot(c.sandbox);
});
after(() => stopClosure(c));

test("an unknown stage is refused, naming the allowed ones, before anything connects or changes", async () => {
    const out = await refusedPreview(c, { stage: "closing" });
    assert.match(out, /stage must be one of operating, announced, closed, self-destructing, dormant, parked; got "closing"/);
    assert.equal(await hostSnapshot(c.sandbox), pristine);
});

test("skipping a stage is refused", async () => {
    const out = await refusedPreview(c, { stage: "closed" });
    assert.match(out, /stage "closed" skips "announced": the host is at "operating"; set stage to "announced" first/);
    assert.equal(await hostSnapshot(c.sandbox), pristine);
});

test("a missing secret, or one stored in plain text, is refused with the command to set it", async () => {
    await c.s.set({ databasePassword: undefined });
    const missing = await refusedPreview(c, { stage: "announced" });
    assert.match(missing, /databasePassword is required; set it with: pulumi config set --secret databasePassword/);
    await c.s.setSecret("databasePassword", c.sandbox.info.dbPassword, { plainText: true });
    const plain = await refusedPreview(c, {});
    assert.match(plain, /databasePassword is stored in plain text/);
    await c.s.setSecret("databasePassword", c.sandbox.info.dbPassword);
    assert.equal(await hostSnapshot(c.sandbox), pristine);
});

test("a host presenting another key than sshHostKey is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "otherkey-"));
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
        const other = readFileSync(join(dir, "k.pub"), "utf8").split(" ").slice(0, 2).join(" ");
        const out = await refusedPreview(c, { stage: "announced", sshHostKey: other });
        assert.match(out, /presented a host key other than sshHostKey; refusing to connect/);
        // What to do: check the key on the server's console before trusting another one.
        assert.match(
            out,
            /compare the key the server shows on its own console \(ssh-keygen -lf \/etc\/ssh\/ssh_host_ed25519_key\.pub\) with ssh-keyscan -t ed25519 [\d.]+, and only when they match set sshHostKey/,
        );
    } finally {
        rmSync(dir, { recursive: true, force: true });
        await c.s.set({ sshHostKey: c.sandbox.info.hostKey });
    }
    assert.equal(await hostSnapshot(c.sandbox), pristine);
});

test("a wrong database or SSH setting is refused naming the setting to check and what to do, never the password", async () => {
    const wrong = `wrong-${randomBytes(6).toString("hex")}`;
    await c.s.setSecret("databasePassword", wrong);
    try {
        const out = await refusedPreview(c, { stage: "announced" });
        assert.match(
            out,
            /PostgreSQL at 127\.0\.0\.1:5432 refused the password of user "mastodon" \(password authentication failed\): set databasePassword to Mastodon's DB_PASS \(in \.env\.production; pulumi config set --secret mastodon-closure:databasePassword\)/,
        );
        assert.ok(!out.includes(wrong), "the password given is not in the output");
    } finally {
        await c.s.setSecret("databasePassword", c.sandbox.info.dbPassword);
    }
    const cases: [Record<string, string>, RegExp][] = [
        [
            { databasePort: "5433" },
            /PostgreSQL at 127\.0\.0\.1:5433 refuses connections through SSH from [\d.]+: check databaseHost and databasePort \(Mastodon's DB_HOST and DB_PORT in \.env\.production/,
        ],
        [
            { databaseName: "mastodon_typo" },
            /PostgreSQL at 127\.0\.0\.1:5432 has no database "mastodon_typo": check databaseName \(Mastodon's DB_NAME in \.env\.production\)/,
        ],
        [
            { sshUser: "mastodon" },
            /SSH to mastodon@[\d.]+:22 failed: the server refused the key for user mastodon: check sshUser, and that the public half of sshPrivateKey is in ~mastodon\/\.ssh\/authorized_keys/,
        ],
    ];
    for (const [settings, said] of cases) {
        try {
            assert.match(await refusedPreview(c, settings), said);
        } finally {
            await c.s.set({ databasePort: undefined, databaseName: undefined, sshUser: c.sandbox.info.sshUser });
        }
    }
    assert.equal(await hostSnapshot(c.sandbox), pristine);
});

test("a broken nginx configuration never reaches a reload: the vhost is put back and up fails", async () => {
    await converge(c, { stage: "announced" });
    const site = async () => (await c.sandbox.exec("sha256sum /etc/nginx/sites-available/mastodon")).stdout;
    // Workers of this sandbox's nginx only: the machine runs other sandboxes' nginx beside it. Not the cache
    // loader (Mastodon's vhost has proxy_cache_path): it exits by itself a minute after nginx starts.
    const workers = async () => (await c.sandbox.exec("ps -o pid=,args= --ppid \"$(cat /run/nginx.pid)\" | awk '/worker process/ {print $1}' | sort")).stdout;
    const [siteBefore, workersBefore] = [await site(), await workers()];
    assert.match(workersBefore, /^\d+\n/, `nginx's workers before the up: "${workersBefore}"`);
    await c.sandbox.exec("echo 'this is not nginx;' > /etc/nginx/conf.d/zz-broken.conf");
    try {
        await c.s.set({ stage: "closed" });
        const up = await pulumi(c, "up");
        assert.notEqual(up.code, 0);
        assert.match(up.output, /nginx -t rejected the closure vhost; the previous vhost is back in place and nginx was not reloaded/);
        assert.equal(await site(), siteBefore, "the original vhost is back");
        assert.equal(await workers(), workersBefore, "no reload happened");
        await expectStatus(c.sandbox, "/users/alice", 200);
    } finally {
        await c.sandbox.exec("rm -f /etc/nginx/conf.d/zz-broken.conf");
    }
    await converge(c, { stage: "closed" });
    await expectStatus(c.sandbox, "/users/alice", 410);
});

test("an up killed half-way converges when run again", async () => {
    await c.s.set({ stage: "announced" });
    // Interrupt the move back (vhost restore, then the journal) as a lost SSH session or ^C would.
    const killed = await upKilledAfter(c, 1500);
    assert.notEqual(killed.code, 0, "the first up was interrupted");
    let again = await pulumi(c, "up");
    if (again.code !== 0 && /locked/.test(again.output)) {
        // What the operator is told to do after an update that was killed: the file backend keeps its lock.
        assert.match(again.output, /the stack is currently locked.*pulumi cancel/s);
        const cancel = await c.s.pulumi(["cancel", "--yes"]);
        assert.equal(cancel.code, 0, cancel.output);
        again = await pulumi(c, "up");
    }
    assert.equal(again.code, 0, again.output.slice(-2000));
    await converge(c, {});
    await expectStatus(c.sandbox, "/users/alice", 200);
    await waitFor("journal at announced", 5, async () =>
        (await c.sandbox.exec("cat /var/lib/mastodon-closure/journal.json")).stdout.includes('"stage": "announced"'),
    );
});

/** `pulumi up`, killed with its whole process group (CLI, language host and plugins) after `ms`. */
async function upKilledAfter(c: Closure, ms: number) {
    let timer: NodeJS.Timeout | undefined;
    try {
        return await c.s.pulumi(["up", "--yes", "--non-interactive"], {
            onSpawn: (pid) => (timer = setTimeout(() => process.kill(-pid, "SIGKILL"), ms)),
        });
    } finally {
        clearTimeout(timer);
    }
}

test("rotating the SSH key re-applies nothing on the host", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rotated-"));
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
        await c.sandbox.exec("cat >> /home/admin/.ssh/authorized_keys", readFileSync(join(dir, "k.pub"), "utf8"));
        const announcements = async () => JSON.stringify(await c.sandbox.sql("SELECT id, text, published FROM announcements ORDER BY id"));
        const [before, snapshot] = [await announcements(), await hostSnapshot(c.sandbox)];
        await c.s.setSecret("sshPrivateKey", readFileSync(join(dir, "k"), "utf8"));
        const up = await pulumi(c, "up");
        assert.equal(up.code, 0, up.output.slice(-2000));
        assert.equal(await announcements(), before, "no announcement withdrawn or published again");
        assert.equal(await hostSnapshot(c.sandbox), snapshot);
        await converge(c, {});
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test("with statusToken the announcement is also a public status; back to operating undoes the whole notice", async () => {
    const token = randomBytes(24).toString("hex");
    await c.sandbox.sql(
        `INSERT INTO oauth_access_tokens (token, scopes, resource_owner_id, created_at)
         SELECT $1, 'read write', u.id, now() FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice'`,
        [token],
    );
    await c.s.setSecret("statusToken", token);
    await converge(c, { stage: "announced" });
    const statuses = async () =>
        c.sandbox.sql<{ text: string }>(
            "SELECT s.text FROM statuses s JOIN accounts a ON a.id = s.account_id WHERE a.username = 'alice' AND s.text LIKE '%will close on%'",
        );
    const [posted] = await statuses();
    assert.match(posted.text, /^social\.example will close on .* export your data now/s);
    await converge(c, { stage: "operating" });
    assert.equal((await statuses()).length, 0, "the status is deleted");
    assert.equal((await c.sandbox.sql("SELECT id FROM announcements")).length, 0, "the announcement is withdrawn");
    const [mode] = await c.sandbox.sql<{ value: string }>("SELECT value FROM settings WHERE var = 'registrations_mode'");
    assert.match(mode.value, /open/, "registrations open again, as they were");
    assert.match((await c.sandbox.exec("cat /var/lib/mastodon-closure/journal.json")).stdout, /"stage": "operating"/);
    const exported = (await c.s.pulumi(["stack", "export"])).output;
    assert.ok(!exported.includes(token) && !c.s.log.join("").includes(token), "the token stays secret");
});
