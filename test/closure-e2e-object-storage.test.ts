// Media and archives on object storage (S3_ENABLED=true), with the real engine against a sandbox whose bucket
// is a real S3 server that checks every signature: while closed, a user signs in through the closed vhost and
// takes the archive from the bucket through the URL Mastodon signs for 10 seconds (a tampered or expired one
// is refused by the server, an unsigned one too); dormant keeps the bucket and every object in it, with the
// date until which it is kept in the outputs and its deletion left by hand.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { listObjects, presignedUrl, s3Request } from "../sandbox/sim/s3";
import { Closure, converge, expectStatus, postSignIn, pulumi, sessionOf, startClosure, stopClosure, waitFor } from "./support/e2e";

let c: Closure;
before(async () => {
    c = await startClosure({ accounts: 3, objectStorage: true });
});
after(() => stopClosure(c));

const bucket = () => c.sandbox.info.objectStorage!;
const inDays = (n: number) => new Date(Date.now() + n * 86400_000).toISOString().slice(0, 10);
const tootctlSelfDestruct = () => c.sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null").then((r) => r.stdout);

test("closed: a user signs in through the closed vhost and downloads the archive from the bucket, through the URL Mastodon signs", async () => {
    const b = bucket();
    await c.s.set({ stage: "announced" });
    const preview = await pulumi(c, "preview");
    assert.equal(preview.code, 0, preview.output.slice(-2000));
    assert.ok(
        preview.output.includes(
            `media and archives on object storage: bucket ${b.bucket} at ${b.endpoint}, kept as it is: the closure never empties or deletes it`,
        ),
        preview.output.slice(-2000),
    );
    await converge(c, { stage: "announced" });
    const closed = await converge(c, { stage: "closed" });
    assert.deepEqual(
        { bucket: closed.objectStorage.bucket, endpoint: closed.objectStorage.endpoint, region: closed.objectStorage.region },
        { bucket: b.bucket, endpoint: b.endpoint, region: b.region },
        JSON.stringify(closed.objectStorage),
    );
    await waitFor("bob's pending archive", 60, async () => (await c.sandbox.sql("SELECT id FROM backups WHERE NOT processed")).length === 0);

    const [archive] = await c.sandbox.sql<{ id: string; dump_file_name: string; dump_file_size: string }>(
        "SELECT b.id, b.dump_file_name, b.dump_file_size FROM backups b JOIN users u ON u.id = b.user_id JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice'",
    );
    const key = `backups/dumps/${String(archive.id)
        .padStart(9, "0")
        .replace(/(\d{3})(?=\d)/g, "$1/")}/original/${archive.dump_file_name}`;
    const download = `/backups/${archive.id}/download`;
    // The e-mailed link: sign in first (authenticate_user! keeps where the user was going), then back to it.
    const toSignIn = await c.sandbox.http(download);
    assert.equal(toSignIn.status, 302, `the download before sign-in answered ${toSignIn.status}`);
    assert.match(toSignIn.headers.location, /\/auth\/sign_in$/);
    const signedIn = await postSignIn(c.sandbox, "alice", sessionOf(toSignIn));
    assert.equal(signedIn.headers.location, `https://social.example${download}`, `sign-in answered ${signedIn.status}`);
    const toBucket = await c.sandbox.http(download, { cookie: sessionOf(signedIn) });
    assert.equal(toBucket.status, 302, `the download answered ${toBucket.status}`);
    const url = new URL(toBucket.headers.location);
    assert.equal(`${url.origin}${url.pathname}`, `${b.endpoint}/${b.bucket}/${key}`, "a path-style URL of the archive's object");
    assert.equal(url.searchParams.get("X-Amz-Expires"), "10", "BackupsController#download: expiring_url(10)");

    const file = await fetch(url);
    assert.equal(file.status, 200, `the presigned URL answered ${file.status}: ${await file.clone().text()}`);
    const bytes = Buffer.from(await file.arrayBuffer());
    const object = await s3Request(b, "GET", key);
    assert.equal(object.status, 200, `the object answered ${object.status}`);
    assert.ok(bytes.equals(object.body), "the download is the object, byte for byte");
    assert.equal(bytes.length, Number(archive.dump_file_size), "as large as Mastodon recorded it");
    assert.equal(bytes.subarray(0, 4).toString("latin1"), "PK\x03\x04", "a zip archive");
    await expectStatus(c.sandbox, `/system/${key}`, 404, { why: "the archive is in the bucket, not on the host" });

    // The server honours only what is signed, and only while it is valid.
    const refused = async (what: string, href: string, reason: RegExp) => {
        const r = await fetch(href);
        const body = await r.text();
        assert.equal(r.status, 403, `${what} answered ${r.status}: ${body}`);
        assert.match(body, reason, what);
    };
    const tampered = url.href.replace(/X-Amz-Signature=([0-9a-f])/, (_, first: string) => `X-Amz-Signature=${first === "0" ? "1" : "0"}`);
    await refused("a tampered signature", tampered, /SignatureDoesNotMatch/);
    await refused("a URL signed 11 seconds ago", presignedUrl(b, key, 10, new Date(Date.now() - 11_000)), /Request has expired/);
    await refused("the object without a signature (private)", `${b.endpoint}/${b.bucket}/${key}`, /AccessDenied/);
});

test("dormant: the bucket and every object in it kept; the outputs say until when, and deleting it is left by hand", async () => {
    const b = bucket();
    const objects = await listObjects(b);
    assert.deepEqual(
        objects.map((o) => o.key.split("/").slice(0, 2).join("/")),
        ["backups/dumps", "backups/dumps"],
        JSON.stringify(objects),
    );
    await converge(c, { stage: "self-destructing", confirmSelfDestruct: "social.example" });
    await waitFor("every deletion notice sent", 60, async () => /Every deletion notice has been sent/.test(await tootctlSelfDestruct()));
    const dormant = await converge(c, { stage: "dormant" });
    const until = inDays(365);
    assert.equal(dormant.objectStorage.keptUntil, until, JSON.stringify(dormant.objectStorage));
    assert.equal(
        dormant.objectStorage.kept,
        `kept as it is until ${until} (bucketRetentionDays 365 after the host went dormant): the closure never empties or deletes it`,
    );
    assert.ok(
        dormant.manualSteps.some((m: string) => m.startsWith(`keep the bucket ${b.bucket} at ${b.endpoint} until ${until}, then delete it by hand`)),
        JSON.stringify(dormant.manualSteps),
    );
    assert.equal((await c.sandbox.exec("systemctl is-active mastodon-web mastodon-sidekiq postgresql; true")).stdout, "inactive\ninactive\ninactive\n");
    assert.deepEqual(await listObjects(b), objects, "every object is still in the bucket");
});
