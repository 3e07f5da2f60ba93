// The dump's directories and the dump's place in the move to dormant (issue 20, items 6 and 7), with the
// real engine against one sandbox walked to self-destructing:
//  - a dump that fails for lack of space (a full tmpfs at dumpDir) fails the move to dormant before the vhost
//    stops serving sign-in and downloads: users can still take their data, nothing stopped, nothing left behind;
//  - dumpDir set to a directory that was there (/home/mastodon): its owner and mode are never changed (nginx
//    still reads /packs/ through it), the dump goes in a subdirectory the closure makes and owns, and moving
//    back removes nothing the closure did not make (the dump is kept).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Closure, converge, onHost, postSignIn, pulumi, sessionOf, startClosure, status, stopClosure, waitFor } from "./support/e2e";

let c: Closure;
const today = new Date().toISOString().slice(0, 10);
const UNITS = ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql", "nginx"];
const FULL = "/var/backups/full-disk";
const RECORD = "/var/lib/mastodon-closure/created-dirs.json";

before(async () => {
    c = await startClosure({ accounts: 4, settings: { requestArchives: "true" } });
});
after(() => stopClosure(c));

const sh = (command: string) => onHost(c.sandbox, command);
const unitStates = async () => (await sh(UNITS.map((u) => `echo ${u} $(systemctl is-active ${u}) $(systemctl is-enabled ${u})`).join("; "))).trim();
const ownerMode = async (path: string) => (await sh(`stat -c '%U:%G %a' ${path}`)).trim();

/** alice's archive: its id and the file the download redirects to. */
async function aliceArchive(): Promise<{ id: string; file: string }> {
    const [b] = await c.sandbox.sql<{ id: string; dump_file_name: string }>(
        "SELECT b.id, b.dump_file_name FROM backups b JOIN users u ON u.id = b.user_id JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice' AND b.processed ORDER BY b.id DESC LIMIT 1",
    );
    const padded = String(b.id)
        .padStart(9, "0")
        .replace(/(\d{3})(?=\d)/g, "$1/");
    return { id: String(b.id), file: `/system/backups/dumps/${padded}/original/${b.dump_file_name}` };
}

/** What users who come to take their data get: the sign-in page, signing in, the archive's download. */
async function whatUsersGet(): Promise<Record<string, number>> {
    const { id, file } = await aliceArchive();
    const signedIn = await postSignIn(c.sandbox, "alice");
    const download = await c.sandbox.http(`/backups/${id}/download`, { cookie: sessionOf(signedIn) });
    const fetched = download.status === 302 ? await status(c.sandbox, new URL(download.headers.location).pathname) : 0;
    return {
        "GET /auth/sign_in": await status(c.sandbox, "/auth/sign_in"),
        "POST /auth/sign_in": signedIn.status,
        "GET /backups/:id/download (signed in)": download.status,
        "the archive it redirects to": fetched,
        [`GET ${file}`]: await status(c.sandbox, file),
        "GET /packs/app.js": await status(c.sandbox, "/packs/app.js"),
    };
}

test("walked to self-destructing, every deletion notice sent", async () => {
    await converge(c, { stage: "announced", closingDate: today });
    await converge(c, { stage: "closed" });
    await waitFor("every archive made", 60, async () => (await c.sandbox.sql("SELECT id FROM backups WHERE NOT processed")).length === 0);
    await converge(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    await waitFor("every deletion notice sent", 120, async () =>
        (await c.sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes(
            "Every deletion notice has been sent",
        ),
    );
});

test("(b) a dump failing for lack of space fails the move to dormant with users still able to sign in and download, nothing stopped", async () => {
    await sh(
        `mkdir -p ${FULL} && chown mastodon:mastodon ${FULL} && chmod 755 ${FULL} && mount -t tmpfs -o size=8k,mode=755,uid=$(id -u mastodon),gid=$(id -g mastodon) tmpfs ${FULL}`,
    );
    try {
        const atSelfDestructing = await whatUsersGet();
        for (const [what, code] of Object.entries(atSelfDestructing)) assert.notEqual(code, 410, `${what} at self-destructing`);
        const running = await unitStates();
        assert.equal(running, UNITS.map((u) => `${u} active enabled`).join("\n"));

        await c.s.set({ stage: "dormant", dumpDir: FULL });
        const up = await pulumi(c, "up");
        assert.notEqual(up.code, 0, `the move to dormant succeeded with a full disk:\n${up.output.slice(-2000)}`);
        assert.match(up.output, /No space left on device/);

        assert.deepEqual(await whatUsersGet(), atSelfDestructing, "users get what they got at self-destructing");
        assert.equal(await status(c.sandbox, "/users/alice"), 410, "the fediverse still gets 410");
        assert.equal(await unitStates(), running, "nothing stopped");
        assert.match(await sh("cat /var/lib/mastodon-closure/journal.json"), /"stage": "self-destructing"/);
        assert.equal((await sh(`ls -A ${FULL}`)).trim(), "", "no file and no directory left behind");
        assert.equal(await ownerMode(FULL), "mastodon:mastodon 755", "the directory that was there is left as found");
        assert.doesNotMatch(await sh(`cat ${RECORD} 2>/dev/null; true`), /full-disk/, "the directory it removed is not recorded as its own");
    } finally {
        await sh(`umount ${FULL}; rmdir ${FULL}`);
    }
});

test("(a) dumpDir an existing directory (/home/mastodon): left as found, the dump in a subdirectory of the closure's own; moving back keeps it", async () => {
    const home = await ownerMode("/home/mastodon");
    assert.equal(home, "mastodon:mastodon 751", "the install guide's /home/mastodon");
    const listing = (await sh("ls -A /home/mastodon")).trim();

    const up = await converge(c, { stage: "dormant", dumpDir: "/home/mastodon" });
    assert.equal(await ownerMode("/home/mastodon"), home, "owner and mode of /home/mastodon unchanged");
    const dump = up.databaseDump;
    assert.match(dump.path, /^\/home\/mastodon\/mastodon-closure\/[^/]+\.dump$/);
    assert.equal(await ownerMode("/home/mastodon/mastodon-closure"), "root:root 700");
    for (const f of [dump.path, `${dump.path}.sha256`, `${dump.path}.manifest.json`]) assert.equal(await ownerMode(f), "root:root 600", f);
    assert.equal((await sh(`sha256sum ${dump.path} | cut -d' ' -f1`)).trim(), dump.sha256);
    assert.ok(
        up.dumpsOnHost.some((d: { path: string }) => d.path === dump.path),
        `the outputs list the dump: ${JSON.stringify(up.dumpsOnHost)}`,
    );
    assert.deepEqual(JSON.parse(await sh(`cat ${RECORD}`)), { dirs: ["/home/mastodon/mastodon-closure"] }, "the closure's record of what it made");

    const back = await converge(c, { stage: "self-destructing" });
    assert.match(JSON.stringify(back.keptOneWay), /database dump/);
    assert.equal(await ownerMode("/home/mastodon"), home, "still as found after moving back");
    assert.equal((await sh(`sha256sum ${dump.path} | cut -d' ' -f1`)).trim(), dump.sha256, "the dump is kept");
    assert.equal((await sh("ls -A /home/mastodon")).trim(), [...listing.split("\n"), "mastodon-closure"].sort().join("\n"), "nothing else there changed");
    // nginx reads /home/mastodon/live/public again: the static files and the sign-in page's assets.
    assert.equal(await status(c.sandbox, "/packs/app.js"), 200);
    assert.equal(await status(c.sandbox, "/auth/sign_in"), 200);
});
