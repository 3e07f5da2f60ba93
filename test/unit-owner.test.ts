// One closure per host, the pure decisions (lib/rules/owner.ts): who owns a host as its record says, the
// refusal at preview (through decide.ts, before the stage order), what the run's first change writes on each
// host under the lock, the adoptHost setting, and the backend as messages show it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decide } from "../lib/rules/decide";
import {
    backendForMessages,
    changesHost,
    checkOwners,
    claimRecords,
    handOverOf,
    HostOwner,
    OwnerClaim,
    OwnerRecord,
    ownerToken,
    parseOwnerRecord,
    StackIdentity,
} from "../lib/rules/owner";
import { testFacts } from "./support/facts";
import { testSettings } from "./support/settings";

const PATH = "/var/lib/mastodon-closure/owner.json";
const NOW = new Date("2026-06-02T10:00:00.000Z");
const BACKEND = "s3://closure-state";
const FIRST: OwnerRecord = {
    closureId: "0b7e4a52-6f1e-4a8c-9d3b-1f2e3d4c5b6a",
    stack: "closing",
    project: "mastodon-closure",
    backend: BACKEND,
    since: "2026-05-01T09:00:00.000Z",
};
const SECOND_ID = "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f";
const first: StackIdentity = { closureId: FIRST.closureId, stack: "closing", project: "mastodon-closure", backend: BACKEND };
const laptop: StackIdentity = { stack: "closing-laptop", project: "mastodon-closure", backend: "file:///home/me/state" };
const claimOf = (s: StackIdentity, extra: Partial<OwnerClaim> = {}): OwnerClaim => ({ ...s, closureId: s.closureId ?? SECOND_ID, record: true, ...extra });
const on = (host: string, record?: OwnerRecord): HostOwner => (record ? { host, record } : { host });

describe("the owner record", () => {
    test("is read only when it is the closure's (every field a non-empty string)", () => {
        assert.deepEqual(parseOwnerRecord(JSON.stringify(FIRST)), FIRST);
        assert.equal(parseOwnerRecord(JSON.stringify({ ...FIRST, stack: "" })), undefined);
        assert.equal(parseOwnerRecord(JSON.stringify({ closureId: FIRST.closureId })), undefined);
        assert.equal(parseOwnerRecord("root:x:0:0:root:/root:/bin/bash"), undefined);
    });

    test("a backend URL is shown without credentials, query or fragment", () => {
        const cases: [string | undefined, string][] = [
            ["s3://closure-state?endpoint=s3.example.net&region=auto&s3ForcePathStyle=true", "s3://closure-state"],
            ["postgres://closure:hunter2@db.example.net:5432/state?sslmode=require", "postgres://db.example.net:5432/state"],
            ["https://token:x@api.pulumi.com/", "https://api.pulumi.com/"],
            ["azblob://state?storage_account=acct#x", "azblob://state"],
            ["file:///root/.pulumi-state", "file:///root/.pulumi-state"],
            [undefined, "(backend unknown)"],
        ];
        for (const [url, shown] of cases) assert.equal(backendForMessages(url), shown, String(url));
    });

    test("a run records its owner only when it changes the host", () => {
        assert.equal(changesHost("operating", testFacts("operating")), false, "operating on an untouched host only checks");
        assert.equal(changesHost("announced", testFacts("operating")), true);
        assert.equal(changesHost("operating", testFacts("announced")), true, "moving back changes the host");
        const stopped = [{ unit: "mastodon-web", wasActive: true, wasEnabled: true }];
        assert.equal(changesHost("operating", testFacts("operating", { stoppedByClosure: stopped })), true, "a move to dormant died half way");
    });
});

describe("at preview", () => {
    test("no record: this stack goes on, and is told it records itself at its first change", () => {
        const r = checkOwners([on("203.0.113.10")], laptop, undefined, PATH);
        assert.equal(r.refusal, undefined);
        assert.deepEqual(r.logs, [{ level: "info", text: `host owner: none recorded; this stack records itself (${PATH}) at its first change to the host` }]);
    });

    test("this stack's record: it goes on, from any checkout of its backend", () => {
        const r = checkOwners([on("203.0.113.10", FIRST)], first, undefined, PATH);
        assert.equal(r.refusal, undefined);
        assert.deepEqual(r.logs, [{ level: "info", text: `host owner: this stack, closure ${FIRST.closureId}, since ${FIRST.since} (${PATH})` }]);
    });

    test("another stack's record refuses, naming the owner, since when, and the setting that hands it over", () => {
        for (const me of [laptop, { ...laptop, closureId: SECOND_ID }]) {
            const { refusal, logs } = checkOwners([on("203.0.113.10", FIRST)], me, undefined, PATH);
            assert.deepEqual(logs, []);
            assert.equal(
                refusal,
                [
                    "another stack closes this host; nothing was changed:",
                    `  ${PATH} on 203.0.113.10 names stack "closing" (project mastodon-closure, backend s3://closure-state), closure ${FIRST.closureId}, its owner since ${FIRST.since};`,
                    `  this is stack "closing-laptop" (project mastodon-closure, backend file:///home/me/state), ${me.closureId ? `closure ${SECOND_ID}` : "a new stack (its closure id is made at its first up)"}. Two stacks on one host undo each other's changes.`,
                    "  Go on with that stack (on its backend: pulumi stack select closing), or hand the host over to this stack on purpose:",
                    `    pulumi config set mastodon-closure:adoptHost ${FIRST.closureId}@${FIRST.since}`,
                    "  after which that stack is refused here (its state still holds the steps it made: pulumi stack rm --force closing forgets them).",
                ].join("\n"),
            );
        }
    });

    test("adoptHost naming the record hands the host over; naming another one refuses, saying so", () => {
        const adopting = checkOwners([on("203.0.113.10", FIRST)], laptop, ownerToken(FIRST), PATH);
        assert.equal(adopting.refusal, undefined);
        assert.equal(adopting.logs[0].level, "warn");
        assert.match(
            adopting.logs[0].text,
            /^adoptHost: this run's first change hands the host over from stack "closing" .*closure 0b7e4a52-.*, to this stack; that stack is refused from then on$/,
        );
        const stale = checkOwners([on("203.0.113.10", FIRST)], laptop, `${FIRST.closureId}@2026-04-01T00:00:00.000Z`, PATH);
        assert.match(stale.refusal ?? "", /adoptHost is "0b7e4a52-[^"]*@2026-04-01T00:00:00.000Z", which is not this record: the host changed hands since/);
    });

    test("adoptHost once the host is this stack's: done, and the setting may go", () => {
        const handed = { ...FIRST, closureId: SECOND_ID, stack: "closing-laptop", since: NOW.toISOString(), adoptedFrom: FIRST };
        const r = checkOwners([on("203.0.113.10", handed)], { ...laptop, closureId: SECOND_ID }, ownerToken(FIRST), PATH);
        assert.equal(r.refusal, undefined);
        assert.match(
            r.logs[0].text,
            /^adoptHost: done, the host was handed over to this stack from stack "closing" .* on 2026-06-02T10:00:00.000Z; the setting can be removed/,
        );
        assert.equal(handOverOf([on("a", handed)], ownerToken(FIRST)), ownerToken(FIRST), "the hand-over step stays while the setting does");
        assert.equal(handOverOf([on("a", FIRST)], ownerToken(FIRST)), ownerToken(FIRST), "the hand-over step is declared to take it");
        assert.equal(handOverOf([on("a", FIRST)], `${FIRST.closureId}@2026-04-01T00:00:00.000Z`), undefined);
        assert.equal(handOverOf([on("a", FIRST)], undefined), undefined);
    });

    test("split hosts: any host of the closure recorded as another stack's refuses, naming that host", () => {
        const r = checkOwners([on("203.0.113.10", FIRST), on("203.0.113.20", { ...FIRST, closureId: SECOND_ID, stack: "other" })], first, undefined, PATH);
        assert.match(r.refusal ?? "", new RegExp(`${PATH} on 203\\.0\\.113\\.20 names stack "other"`));
    });

    test("a file there that is not the closure's record refuses without quoting it", () => {
        const r = checkOwners([{ host: "203.0.113.10", unreadable: true }], first, undefined, PATH);
        assert.equal(
            r.refusal,
            `${PATH} on 203.0.113.10 is not an owner record the closure wrote; nothing was changed: check what it is, and remove it to let this stack record itself at its next change`,
        );
    });

    test("decide refuses another stack's host first, before the stage order, with nothing planned", () => {
        const facts = testFacts("operating", { owners: [on("203.0.113.10", FIRST)] });
        const skipping = decide({ settings: testSettings("closed"), facts, now: NOW, servicesRecord: "s", runBy: { stack: laptop, ownerRecord: PATH } });
        assert.match(skipping.refusal ?? "", /^another stack closes this host; nothing was changed:/);
        assert.equal("plan" in skipping, false);
        const owned = decide({
            settings: testSettings("announced", { closingDate: "2026-09-01" }),
            facts,
            now: NOW,
            servicesRecord: "s",
            runBy: { stack: first, ownerRecord: PATH },
        });
        assert.equal(owned.refusal, undefined);
        assert.match(owned.logs[0].text, /^host owner: this stack/);
    });
});

describe("at the run's first change, under the lock", () => {
    test("no record: every host gets this stack's, with one since; a run that only checks writes none", () => {
        const hosts = [on("app"), on("proxy")];
        const r = claimRecords(hosts, claimOf(laptop), NOW, PATH);
        const record = {
            closureId: SECOND_ID,
            stack: "closing-laptop",
            project: "mastodon-closure",
            backend: "file:///home/me/state",
            since: NOW.toISOString(),
        };
        assert.deepEqual(r, { record, writeOn: [true, true] });
        assert.deepEqual(claimRecords(hosts, claimOf(laptop, { record: false }), NOW, PATH), { writeOn: [false, false] });
    });

    test("this stack's record: kept with its since, written again only where it differs (a host added, the backend moved)", () => {
        const moved = claimOf({ ...first, backend: "s3://moved" });
        assert.deepEqual(claimRecords([on("app", FIRST), on("proxy")], claimOf(first), NOW, PATH), { record: FIRST, writeOn: [false, true] });
        assert.deepEqual(claimRecords([on("app", FIRST)], moved, NOW, PATH), { record: { ...FIRST, backend: "s3://moved" }, writeOn: [true] });
    });

    test("a hand-over writes this stack's record, remembering the one it replaced", () => {
        const r = claimRecords([on("app", FIRST), on("db", FIRST)], claimOf(laptop, { adopt: ownerToken(FIRST) }), NOW, PATH);
        assert.deepEqual(r, {
            record: {
                closureId: SECOND_ID,
                stack: "closing-laptop",
                project: "mastodon-closure",
                backend: "file:///home/me/state",
                since: NOW.toISOString(),
                adoptedFrom: FIRST,
            },
            writeOn: [true, true],
        });
    });

    test("a record that changed hands since the preview refuses the run, which changed nothing", () => {
        const r = claimRecords([on("app", FIRST)], claimOf(laptop), NOW, PATH);
        assert.ok("refusal" in r);
        assert.match(
            r.refusal,
            /^another stack closes this host; nothing was changed:[\s\S]*\(The record changed since this run's preview; this run changed nothing\.\)$/,
        );
    });
});
