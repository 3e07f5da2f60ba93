// What must never happen on a live server, proved against a sandbox host with the real engine:
// bad input and skipped stages change nothing; another host key is refused; a broken nginx config never
// reaches a reload; an interrupted up converges when run again; a second stack on the host is refused until it
// is handed over on purpose, and two runs at once never interleave.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { NO_WAITS, openSandboxStack, PROJECT_ROOT, runPulumi, SandboxStack } from "../bin/sandbox-stack";
import { HOST_LOCK, OWNER_RECORD } from "../lib/host/records";
import { CLOSURE_ID_TYPE } from "../lib/provider/closure-id";
import { descendants } from "./support/crash-matrix";
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

/** The host's owner record as root reads it, with its mode and owner ("" when there is none). */
async function ownerRecord(): Promise<{ record?: Record<string, any>; mode: string }> {
    const r = await c.sandbox.exec(`[ -e ${OWNER_RECORD} ] && stat -c '%a %U' ${OWNER_RECORD} && cat ${OWNER_RECORD}; true`);
    const [mode, ...text] = r.stdout.split("\n");
    return mode ? { record: JSON.parse(text.join("\n")), mode } : { mode: "" };
}

/** The closure id a stack's state keeps. */
async function closureIdOf(s: SandboxStack): Promise<string> {
    const state = JSON.parse((await s.pulumi(["stack", "export"])).output);
    const id = state.deployment.resources.find((r: { type: string }) => r.type === CLOSURE_ID_TYPE)?.outputs?.closureId;
    assert.match(id ?? "", /^[0-9a-f-]{36}$/, `no closure id in the state of ${s.name}`);
    return id;
}

test("an up that changes nothing records no owner; the first change records this stack, mode 600, and its run killed right after frees the host", async () => {
    await converge(c, { stage: "operating" });
    assert.deepEqual(await ownerRecord(), { mode: "" }, `an up at operating on a host at operating wrote ${OWNER_RECORD}`);
    // The first change, killed (kill -9 of the engine's whole process tree) right after it wrote the record,
    // while it holds the host's lock: its successor must get the lock and keep the record.
    await c.s.set({ stage: "announced" });
    await c.sandbox.armCrashPoint(`${OWNER_RECORD}.closure-tmp`);
    let pid = 0;
    const killed = c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"], { onSpawn: (p) => (pid = p) });
    try {
        await waitFor("the run writing the owner record", 120, async () => (await c.sandbox.crashPoint()).held, 50);
        for (const p of [pid, ...descendants(pid)]) {
            try {
                process.kill(p, "SIGKILL");
            } catch {
                /* gone */
            }
        }
    } finally {
        await c.sandbox.disarmCrashPoint();
    }
    assert.notEqual((await killed).code, 0, "the first change was killed");
    const { record, mode } = await ownerRecord();
    assert.equal(mode, "600 root", `${OWNER_RECORD}: mode and owner`);
    const backend = `file://${join(PROJECT_ROOT, ".state", "backend")}`;
    assert.deepEqual(
        { ...record, since: undefined },
        { closureId: await closureIdOf(c.s), stack: c.s.name, project: "mastodon-closure", backend, since: undefined },
    );
    const cancel = await c.s.pulumi(["cancel", "--yes", "--non-interactive"]);
    assert.equal(cancel.code, 0, cancel.output);
    await converge(c, {});
    assert.deepEqual((await ownerRecord()).record, record, "the run after the killed one keeps its record");
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

test("one closure per host: another stack is refused at preview naming the owner, changing nothing, until handed the host on purpose", async () => {
    // A copied config on a new stack (a colleague's laptop): at operating, its up would move the host back.
    const second = await openSandboxStack(c.sandbox.info, NO_WAITS, `${c.s.name}-second`);
    try {
        const firstId = await closureIdOf(c.s);
        const before = JSON.stringify([await hostSnapshot(c.sandbox), await ownerRecord()]);
        const { record } = await ownerRecord();
        const preview = await second.pulumi(["preview", "--non-interactive"]);
        assert.notEqual(preview.code, 0, `the second stack's preview was not refused:\n${preview.output.slice(-2000)}`);
        const owner = `${OWNER_RECORD} on ${c.sandbox.info.address} names stack "${c.s.name}" (project mastodon-closure, backend file://${PROJECT_ROOT}/.state/backend), closure ${firstId}, its owner since ${record!.since}`;
        for (const out of [preview.output]) {
            assert.ok(out.includes("another stack closes this host; nothing was changed"), out.slice(-2000));
            assert.ok(out.includes(owner), `the refusal does not name the owner as "${owner}":\n${out.slice(-2000)}`);
            assert.ok(out.includes(`pulumi config set mastodon-closure:adoptHost ${firstId}@${record!.since}`), out.slice(-2000));
        }
        const up = await second.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
        assert.notEqual(up.code, 0, `the second stack's up was not refused:\n${up.output.slice(-2000)}`);
        assert.ok(up.output.includes(owner), up.output.slice(-2000));
        assert.equal(JSON.stringify([await hostSnapshot(c.sandbox), await ownerRecord()]), before, "the refused stack changed the host");

        // Handed over on purpose: the second stack takes the record the refusal named; the first is refused.
        await converge({ sandbox: c.sandbox, s: second }, { adoptHost: `${firstId}@${record!.since}` });
        const secondId = await closureIdOf(second);
        const handed = (await ownerRecord()).record!;
        assert.deepEqual([handed.closureId, handed.stack, handed.adoptedFrom], [secondId, second.name, record], "the record after the hand-over");
        const first = await refusedPreview(c, {});
        assert.ok(
            first.includes(`names stack "${second.name}" (project mastodon-closure, backend file://${PROJECT_ROOT}/.state/backend), closure ${secondId}`),
            first.slice(-2000),
        );

        // Handed back the same way: the second stack's adoptHost names a record that is gone, and takes nothing.
        await converge(c, { adoptHost: `${secondId}@${handed.since}` });
        assert.equal((await ownerRecord()).record!.closureId, firstId);
        const again = await second.pulumi(["preview", "--non-interactive"]);
        assert.notEqual(again.code, 0, `the second stack was not refused after the hand-back:\n${again.output.slice(-2000)}`);
        assert.ok(again.output.includes(`adoptHost is "${firstId}@${record!.since}", which is not this record`), again.output.slice(-2000));
    } finally {
        await second.remove();
    }
});

test("two runs on one host never interleave: the second is refused while the first holds the host, naming it", async () => {
    // The same stack from a restored copy of its backend: the same closure id, so only the lock stands between them.
    const copy = mkdtempSync(join(tmpdir(), "restored-backend-"));
    try {
        const from = join(PROJECT_ROOT, ".state", "backend", ".pulumi");
        mkdirSync(join(copy, ".pulumi", "stacks", "mastodon-closure"), { recursive: true });
        cpSync(join(from, "meta.yaml"), join(copy, ".pulumi", "meta.yaml"));
        cpSync(join(from, "stacks", "mastodon-closure", `${c.s.name}.json`), join(copy, ".pulumi", "stacks", "mastodon-closure", `${c.s.name}.json`));
        await c.s.set({ stage: "closed" });
        // The first run is held right after it took the host's lock (sandbox/host/session), as a long step would hold it.
        await c.sandbox.armCrashPoint(HOST_LOCK);
        const first = c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
        try {
            await waitFor("the first run holding the host's lock", 120, async () => (await c.sandbox.crashPoint()).held, 50);
            const second = await runPulumi(["up", "--yes", "--skip-preview", "--non-interactive", "--stack", c.s.name], {
                ...c.s.env,
                PULUMI_BACKEND_URL: `file://${copy}`,
            });
            assert.notEqual(second.code, 0, `the second run was not refused:\n${second.output.slice(-2000)}`);
            const holder = new RegExp(
                `another run is changing ${c.sandbox.info.address.replace(/\./g, "\\.")} now: stack "${c.s.name}" \\(project mastodon-closure, backend file://${PROJECT_ROOT}/\\.state/backend\\), since \\d{4}-\\S+Z\\. This run changed nothing there`,
            );
            assert.match(second.output, holder);
            assert.doesNotMatch(second.output, /(NginxSite|StageJournal)\s+\S+\s+(updated|created)/, "the second run changed a step");
        } finally {
            await c.sandbox.disarmCrashPoint();
        }
        const done = await first;
        assert.equal(done.code, 0, `the first run failed:\n${done.output.slice(-2000)}`);
        await converge(c, {});
        await expectStatus(c.sandbox, "/users/alice", 410);
        await expectStatus(c.sandbox, "/auth/sign_in", 200);
    } finally {
        rmSync(copy, { recursive: true, force: true });
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
    // Back at operating the host stays this stack's: its journal and what stays one-way are the closure's.
    assert.equal((await ownerRecord()).record?.closureId, await closureIdOf(c.s), `${OWNER_RECORD} after moving back to operating`);
    const exported = (await c.s.pulumi(["stack", "export"])).output;
    assert.ok(!exported.includes(token) && !c.s.log.join("").includes(token), "the token stays secret");
});
