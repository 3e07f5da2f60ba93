// Unit tests of components/*.ts with Pulumi's mocks: which resources MastodonClosure declares at each
// stage, with which inputs, in which order of dependencies, and that no secret is ever a step's input.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import Module = require("node:module");
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { MastodonClosure as MastodonClosureT, MastodonClosureArgs } from "../components/closure";
import type { HostFacts } from "../lib/rules/facts";
import type { StepAccess } from "../lib/host/access";
import { goneForGoodPage } from "../lib/gone/page";
import { renderVhost } from "../lib/gone/nginx";
import { parseOriginalVhost } from "../lib/gone/original-vhost";
import { decodeMemo, DMARC_REJECT, SPF_NONE } from "../lib/edge/cloudflare/parking";
import type { Settings } from "../lib/rules/settings";
import { Stage, STAGE_TABLE, STAGES } from "../lib/rules/stages";
import { workerSource } from "../lib/edge/cloudflare/worker";
import { cloudflareFacts, ZoneFacts } from "../lib/edge/cloudflare/zone";
import { IDLE_DATABASE, reachedUpTo, testFacts } from "./support/facts";
import { TEST_HOST_KEY, testSettings } from "./support/settings";

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const DYN = "pulumi-nodejs:dynamic/closure:";

interface Registered {
    type: string;
    name: string;
    inputs: any;
    custom?: boolean;
}
const registered: Registered[] = [];
/** Resource objects and their declared options, from a transformation (run by the SDK itself, inherited by children). */
const declared = new Map<string, { resource: pulumi.Resource; type: string; opts: pulumi.ResourceOptions; props: any }>();
const nameOf = new Map<pulumi.Resource, string>();

let MastodonClosure: typeof MastodonClosureT;
let unitOf: typeof import("../components/closure").unitOf;
let waitForRPCs: () => Promise<void>;

before(async () => {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom });
                return {
                    id: `${args.name}-id`,
                    state: {
                        ...args.inputs,
                        result: {
                            announcementId: 7,
                            requested: 3,
                            enabledAt: "2026-06-10T00:00:00Z",
                            path: "/srv/dumps/x.dump.age",
                            sha256: "ab".repeat(32),
                            encrypted: true,
                        },
                    },
                };
            },
            call: (args) => args.inputs,
        },
        "mastodon-closure",
        "unit",
        false,
    );
    // Only after setMocks: the components declare resources when constructed.
    const mod = await import("../components/closure");
    MastodonClosure = mod.MastodonClosure;
    unitOf = mod.unitOf;
    waitForRPCs = require("@pulumi/pulumi/runtime/settings").waitForRPCs;
});

const HOST_KEY = TEST_HOST_KEY;

const settings = (stage: Stage, extra: Record<string, string> = {}): Settings =>
    testSettings(stage, { sshPrivateKey: "PRIVATE", databasePassword: "PASSWORD", successor: "https://next.example", ...extra });

const ACCESS: StepAccess = {
    ssh: { host: "203.0.113.10", port: 22, user: "root", hostKey: HOST_KEY },
    database: { host: "127.0.0.1", port: 5432, name: "mastodon_production", user: "mastodon" },
    deployment: { kind: "systemd", dir: "/home/mastodon/live", mastodonUser: "mastodon" },
    stack: "organization/mastodon-closure/test",
};

const ORIGINAL_VHOST = `upstream backend {
    server 127.0.0.1:3000 fail_timeout=0;
}
server {
  listen 80;
  listen [::]:80;
  server_name social.example;
  root /home/mastodon/live/public;
  location /.well-known/acme-challenge/ { allow all; }
  location / { return 301 https://$host$request_uri; }
}
server {
  listen 443 ssl http2;
  listen [::]:443 ssl http2;
  server_name social.example;
  ssl_certificate     /etc/letsencrypt/live/social.example/fullchain.pem;
  ssl_certificate_key /etc/letsencrypt/live/social.example/privkey.pem;
  root /home/mastodon/live/public;
  location / { try_files $uri @proxy; }
}
`;

const NOW = new Date("2026-04-01T12:00:00Z");

/** Facts of a host that walked forward to `stage` (reachedAt filled for it and every stage before). */
function factsAt(stage: Stage, extra: Partial<HostFacts> = {}): HostFacts {
    const times: Record<Stage, string> = {
        operating: "2026-03-01T00:00:00Z",
        announced: "2026-03-01T00:00:00Z",
        closed: "2026-06-01T10:00:00Z",
        "self-destructing": "2026-06-10T10:00:00Z",
        dormant: "2026-06-20T10:00:00Z",
        parked: "2026-07-10T10:00:00Z",
    };
    return testFacts(stage, { reachedAt: reachedUpTo(stage, (s) => times[s]), database: IDLE_DATABASE, ...extra });
}

let counter = 0;

const record: pulumi.ResourceTransformation = (args) => {
    declared.set(args.name, { resource: args.resource, type: args.type, opts: args.opts, props: args.props });
    nameOf.set(args.resource, args.name);
    return undefined;
};

interface Built {
    closure: MastodonClosureT;
    prefix: string;
    /** Registered resources of this closure. */
    all: Registered[];
    /** Dynamic (HostStep) resources by short type. */
    steps: Array<Registered & { kind: string }>;
    kinds(): string[];
    one(kind: string): Registered & { kind: string };
    dependsOn(name: string): string[];
}

async function build(s: Settings, facts: HostFacts, now = NOW, postPublicStatus = false, edge?: MastodonClosureArgs["edge"]): Promise<Built> {
    const prefix = `c${++counter}`;
    const closure = new MastodonClosure(
        prefix,
        { settings: s, access: ACCESS, facts, originalVhost: ORIGINAL_VHOST, postPublicStatus, now, edge },
        { transformations: [record] },
    );
    await waitForRPCs();
    const all = registered.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
    const steps = all.filter((r) => r.type.startsWith(DYN)).map((r) => ({ ...r, kind: r.type.slice(DYN.length) }));
    return {
        closure,
        prefix,
        all,
        steps,
        kinds: () => steps.map((r) => r.kind).sort(),
        one(kind) {
            const found = steps.filter((r) => r.kind === kind);
            assert.equal(found.length, 1, `expected one ${kind}, got ${found.length}`);
            return found[0];
        },
        dependsOn(name) {
            const d = declared.get(name);
            assert.ok(d, `${name} not declared`);
            const deps = d.opts.dependsOn;
            const list = (deps === undefined ? [] : Array.isArray(deps) ? deps : [deps]) as pulumi.Resource[];
            return list.map((r) => nameOf.get(r) ?? "?").sort();
        },
    };
}

const params = (r: Registered) => r.inputs.params;

describe("MastodonClosure per stage", () => {
    test("each step's __provider is a one-line loader of lib/host-step-plugin.js, not serialized code, and it gives the step handler", async () => {
        const b = await build(settings("operating"), factsAt("operating"));
        const loader: string = b.one("NginxSite").inputs.__provider;
        assert.ok(loader.length < 200, `__provider is ${loader.length} characters: ${loader.slice(0, 300)}`);
        // As the dynamic-provider plugin evaluates it (require-from-string), from the project directory.
        const Internal = Module as unknown as {
            new (id: string, parent: NodeModule): NodeModule & { _compile(code: string, file: string): void };
            _nodeModulePaths(dir: string): string[];
        };
        const m = new Internal("", module);
        m.paths = Internal._nodeModulePaths(process.cwd());
        m._compile(loader, "");
        const handler = m.exports.handler();
        assert.deepEqual(Object.keys(handler).sort(), ["create", "delete", "diff", "read", "update"], `the loader gave ${Object.keys(handler)}`);
    });

    test("operating: only the server's own vhost, as the host has it (no change on the host, no journal)", async () => {
        const b = await build(settings("operating"), factsAt("operating"));
        assert.deepEqual(b.kinds(), ["NginxSite"]);
        assert.deepEqual(params(b.one("NginxSite")), {
            site: "/etc/nginx/sites-available/mastodon",
            domain: "social.example",
            mode: "original",
            content: ORIGINAL_VHOST,
            nginx: "active",
        });
        assert.deepEqual(b.all.map((r) => r.type).sort(), [
            "mastodon-closure:index:FrontProxy",
            "mastodon-closure:index:MastodonClosure",
            "pulumi-nodejs:dynamic/closure:NginxSite",
        ]);
        assert.equal(b.closure.front.mode, "original");
        assert.equal(b.closure.notice, undefined);
        assert.deepEqual(b.closure.keptOneWay, []);
    });

    test("announced: registrations closed, the announcement and 3 reminders, the journal; the server's own vhost", async () => {
        const b = await build(settings("announced"), factsAt("announced", { reachedAt: {} }));
        assert.deepEqual(b.kinds(), ["Announcement", "Announcement", "Announcement", "Announcement", "NginxSite", "Registrations", "StageJournal"]);
        assert.equal(params(b.one("NginxSite")).mode, "original");
        assert.deepEqual(params(b.one("Registrations")), { mode: "none" });
        const ann = b.steps.filter((r) => r.kind === "Announcement");
        const main = ann.find((r) => r.name === `${b.prefix}-notice-announcement`)!;
        assert.ok(main, ann.map((r) => r.name).join());
        assert.equal(params(main).scheduledAt, null);
        assert.match(params(main).text, /^social\.example will close on 2026-06-01\. You are welcome to move to next\.example/);
        // The preview shows the row it adds, in words, and no script text.
        assert.deepEqual(Object.keys(params(main)).sort(), ["scheduledAt", "text"]);
        assert.match(main.inputs.about, /a server announcement, published now/);
        const reminderNames = ann
            .filter((r) => r !== main)
            .map((r) => [r.name, params(r).scheduledAt])
            .sort();
        assert.deepEqual(reminderNames, [
            [`${b.prefix}-notice-reminder-1d`, "2026-05-31T09:00:00.000Z"],
            [`${b.prefix}-notice-reminder-30d`, "2026-05-02T09:00:00.000Z"],
            [`${b.prefix}-notice-reminder-7d`, "2026-05-25T09:00:00.000Z"],
        ]);
        assert.deepEqual(params(b.one("StageJournal")), { stage: "announced", closingDate: "2026-06-01" });
        assert.deepEqual(b.closure.notice!.reminderDates, ["2026-05-02T09:00:00.000Z", "2026-05-25T09:00:00.000Z", "2026-05-31T09:00:00.000Z"]);
        assert.equal(b.closure.front.mode, "original");
        assert.equal(await new Promise((r) => b.closure.notice!.announcementId.apply(r)), 7);
    });

    test("announced with statusToken: the announcement is also a public status, posted to the vhost's backend", async () => {
        const b = await build(settings("announced"), factsAt("announced", { reachedAt: {} }), NOW, true);
        const status = params(b.one("PublicStatus"));
        assert.equal(status.text, params(b.steps.find((r) => r.name === `${b.prefix}-notice-announcement`)!).text);
        assert.equal(status.domain, "social.example");
        assert.match(status.backend, /^127\.0\.0\.1:3000$/);
        assert.equal((await build(settings("announced"), factsAt("announced", { reachedAt: {} }))).steps.filter((r) => r.kind === "PublicStatus").length, 0);
    });

    test("announced late (journal says 2026-05-28): only the 1-day reminder", async () => {
        const b = await build(
            settings("announced"),
            factsAt("announced", { reachedAt: { announced: "2026-05-28T00:00:00Z" } }),
            new Date("2026-05-29T00:00:00Z"),
        );
        assert.deepEqual(
            b.steps
                .filter((r) => r.kind === "Announcement")
                .map((r) => r.name)
                .sort(),
            [`${b.prefix}-notice-announcement`, `${b.prefix}-notice-reminder-1d`],
        );
    });

    test("closed with requestArchives: the 410 vhost (gone-except-downloads) and the archive requests after it", async () => {
        const s = settings("closed", { requestArchives: "true", archiveRecentDays: "3", nginxSite: "/etc/nginx/sites-enabled/social" });
        const b = await build(s, factsAt("closed"));
        assert.deepEqual(b.kinds(), [
            "Announcement",
            "Announcement",
            "Announcement",
            "Announcement",
            "ArchiveRequests",
            "NginxSite",
            "Registrations",
            "StageJournal",
        ]);
        const site = b.one("NginxSite");
        assert.equal(params(site).site, "/etc/nginx/sites-enabled/social");
        assert.equal(
            params(site).content,
            renderVhost("gone-except-downloads", "social.example", parseOriginalVhost(ORIGINAL_VHOST, "social.example"), {
                domain: "social.example",
                closingDate: "2026-06-01",
                successor: "https://next.example",
                downloadsUntil: "2026-06-08",
            }),
        );
        assert.match(params(site).content, /until 2026-06-08/, "the page promises downloadGraceDays (7) after the day the server was closed (2026-06-01)");
        assert.equal(params(site).mode, "gone");
        assert.deepEqual(
            params(site).answers,
            { "GET /users/mastodon-closure-check": "410", "GET /auth/sign_in": "not 410" },
            "done once nginx, asked on the host, answers 410 to an actor and hands sign-in to Mastodon",
        );
        const arch = b.one("ArchiveRequests");
        assert.equal(params(arch).recentDays, 3);
        assert.deepEqual(Object.keys(params(arch)), ["recentDays"]);
        assert.deepEqual(b.dependsOn(`${b.prefix}-archives`), [`${b.prefix}-front`]);
        assert.equal(b.closure.front.mode, "gone-except-downloads");
        assert.deepEqual(params(b.one("StageJournal")), { stage: "closed", closingDate: "2026-06-01" });
    });

    test("the ledger of who has left: written from announced on with counts and a digest only, kept as written once self-destruct runs", async () => {
        const counts = { users: 3, moved: 1, withArchive: 2, downloaded: 1, downloadUnknown: 0, signedInSinceAnnouncement: 1, nothing: 1 };
        const readFrom = { announcedOn: "2026-05-01", accessLog: "/var/log/nginx/access.log" };
        const written = await build(settings("announced"), factsAt("announced", { ledger: { digest: "d1", counts, readFrom } }));
        assert.deepEqual(params(written.one("LeavingLedger")), { domain: "social.example", digest: "d1", counts, readFrom });
        assert.ok(
            written.dependsOn(`${written.prefix}-journal`).includes(`${written.prefix}-ledger`),
            "the journal records the stage once the ledger is written",
        );
        const kept = await build(settings("self-destructing"), factsAt("self-destructing", { ledger: { digest: "d1", counts } }));
        assert.deepEqual(params(kept.one("LeavingLedger")), { domain: "social.example", digest: "d1", counts });
        assert.equal(
            (await build(settings("operating"), factsAt("operating", { ledger: { digest: "d1", counts } }))).steps.filter((r) => r.kind === "LeavingLedger")
                .length,
            0,
        );
        assert.equal(
            (await build(settings("announced"), factsAt("announced"))).steps.filter((r) => r.kind === "LeavingLedger").length,
            0,
            "none read: none declared",
        );
    });

    test("closed without requestArchives: no archive requests", async () => {
        const b = await build(settings("closed"), factsAt("closed"));
        assert.equal(b.steps.filter((r) => r.kind === "ArchiveRequests").length, 0);
        assert.equal(b.closure.archives, undefined);
        assert.equal(b.one("NginxSite").kind, "NginxSite");
    });

    test("announced with emailAnnouncement on 4.4: the announcement e-mailed once, after it is published", async () => {
        const b = await build(settings("announced", { emailAnnouncement: "true" }), factsAt("announced", { mastodonVersion: "4.4.0" }));
        const email = b.one("AnnouncementEmail");
        assert.deepEqual(params(email), { announcementId: 7 });
        assert.match(email.inputs.about, /e-mailed once to every confirmed user of an unsuspended account/);
        assert.deepEqual(b.dependsOn(`${b.prefix}-notice-email`), [`${b.prefix}-notice-announcement`]);
    });

    test("self-destructing: SelfDestructMode after the vhost and the archive requests", async () => {
        const b = await build(settings("self-destructing", { requestArchives: "true" }), factsAt("self-destructing"));
        const sd = b.one("SelfDestructMode");
        assert.deepEqual(params(sd), { domain: "social.example", mastodonVersion: "4.3.2", enabled: true });
        assert.match(sd.inputs.about, /^ONE-WAY: SELF_DESTRUCT/);
        assert.deepEqual(b.dependsOn(`${b.prefix}-self-destruct`), [`${b.prefix}-archives`, `${b.prefix}-front`]);
        assert.equal(b.steps.filter((r) => ["DatabaseDump", "StoppedServices"].includes(r.kind)).length, 0);
        assert.deepEqual(b.closure.keptOneWay, []);
        assert.equal(b.steps.filter((r) => r.kind === "AnnouncementEmail").length, 0, "no e-mail unless emailAnnouncement is set");
        // The mode is never re-run for a new Mastodon version, and its result is secret (an earlier version kept the value there).
        const mode = declared.get(`${b.prefix}-self-destruct-mode`)!;
        assert.deepEqual(mode.opts.ignoreChanges, ["params.mastodonVersion"]);
        assert.deepEqual((mode.opts as pulumi.CustomResourceOptions).additionalSecretOutputs, ["result"]);
    });

    for (const stage of ["dormant", "parked"] as const) {
        test(`${stage}: dump, then services stopped in order, 410 everywhere`, async () => {
            const b = await build(
                settings(stage, { dumpDir: "/srv/dumps", dumpRetentionDays: "90", dumpAgeRecipient: "age1" + "q".repeat(58) }),
                factsAt(stage),
            );
            assert.deepEqual(b.kinds(), [
                "Announcement",
                "Announcement",
                "Announcement",
                "Announcement",
                "DatabaseDump",
                "NginxSite",
                "Registrations",
                "SelfDestructMode",
                "StageJournal",
                "StoppedServices",
            ]);
            assert.deepEqual(params(b.one("DatabaseDump")), { dir: "/srv/dumps", retentionDays: 90, ageRecipient: "age1" + "q".repeat(58), intact: true });
            // The stop checks this dump on the host again: its manifest is an input of the stop.
            assert.deepEqual(params(b.one("StoppedServices")).dump, { path: "/srv/dumps/x.dump.age", sha256: "ab".repeat(32), encrypted: true });
            assert.deepEqual(params(b.one("StoppedServices")).units, ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql"]);
            assert.match(params(b.one("NginxSite")).content, /stage front mode: gone-everywhere/);
            assert.deepEqual(params(b.one("NginxSite")).answers, { "GET /users/mastodon-closure-check": "410", "GET /auth/sign_in": "410" });
            assert.deepEqual(b.dependsOn(`${b.prefix}-dump`), [`${b.prefix}-self-destruct`]);
            assert.deepEqual(b.dependsOn(`${b.prefix}-services`), [`${b.prefix}-dump`, `${b.prefix}-front`]);
            // The dump is kept when the stack moves back or is destroyed.
            assert.equal(declared.get(`${b.prefix}-dump-file`)!.opts.retainOnDelete, true);
            assert.deepEqual(params(b.one("StageJournal")), { stage, closingDate: "2026-06-01" });
            assert.deepEqual(b.dependsOn(`${b.prefix}-journal`), [
                `${b.prefix}-dump`,
                `${b.prefix}-front`,
                `${b.prefix}-notice`,
                `${b.prefix}-self-destruct`,
                `${b.prefix}-services`,
            ]);
            assert.deepEqual(b.closure.services!.units, ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql"]);
        });
    }

    test("dormant with a mail service: stopped after sidekiq, before redis and postgresql", async () => {
        const b = await build(settings("dormant", { mailService: "postfix" }), factsAt("dormant"));
        assert.deepEqual(params(b.one("StoppedServices")).units, [
            "mastodon-web",
            "mastodon-streaming",
            "mastodon-sidekiq",
            "postfix",
            "redis-server",
            "postgresql",
        ]);
        assert.equal(unitOf("mail", settings("dormant")), undefined);
        assert.equal(unitOf("mail", settings("dormant", { mailService: "exim4" })), "exim4");
    });

    for (const stage of ["dormant", "parked"] as const) {
        test(`${stage}: the vhost stops serving sign-in and downloads only after the dump, so a failed dump leaves users their data`, async () => {
            const b = await build(settings(stage, { requestArchives: "true" }), factsAt(stage));
            assert.deepEqual(b.dependsOn(`${b.prefix}-front`), [`${b.prefix}-dump`]);
            assert.deepEqual(b.dependsOn(`${b.prefix}-dump`), [`${b.prefix}-self-destruct`]);
            // Done at earlier stages, with a 410 vhost served already: they do not wait for this stage's vhost.
            assert.deepEqual(b.dependsOn(`${b.prefix}-self-destruct`), [`${b.prefix}-archives`]);
            assert.deepEqual(b.dependsOn(`${b.prefix}-archives`), []);
            assert.deepEqual(b.dependsOn(`${b.prefix}-services`), [`${b.prefix}-dump`, `${b.prefix}-front`]);
        });
    }

    test("self-destructing, and back there from dormant: the vhost first, waiting for nothing", async () => {
        for (const facts of [factsAt("self-destructing"), factsAt("dormant", { currentStage: "dormant" })]) {
            const b = await build(settings("self-destructing", { requestArchives: "true" }), facts);
            assert.deepEqual(b.dependsOn(`${b.prefix}-front`), []);
            assert.deepEqual(b.dependsOn(`${b.prefix}-self-destruct`), [`${b.prefix}-archives`, `${b.prefix}-front`]);
        }
    });

    test("the StageJournal is declared at every stage but operating", async () => {
        for (const stage of STAGES) {
            const b = await build(settings(stage), factsAt(stage));
            assert.equal(b.steps.filter((r) => r.kind === "StageJournal").length, stage === "operating" ? 0 : 1, stage);
        }
    });
});

describe("moving back", () => {
    test("back to closed after self-destruct (host in self-destruct mode): SelfDestructMode kept, keptOneWay says so", async () => {
        const b = await build(settings("closed"), factsAt("self-destructing", { currentStage: "self-destructing", selfDestructEnabled: true }));
        assert.equal(b.one("SelfDestructMode").kind, "SelfDestructMode");
        assert.equal(b.closure.keptOneWay.length, 1);
        assert.match(b.closure.keptOneWay[0], /^self-destruct/);
        assert.equal(b.closure.front.mode, "gone-except-downloads");
    });

    test("back to closed, journal says self-destructing but the host is not in self-destruct mode: not declared", async () => {
        const b = await build(settings("closed"), factsAt("self-destructing", { currentStage: "self-destructing", selfDestructEnabled: false }));
        assert.equal(b.steps.filter((r) => r.kind === "SelfDestructMode").length, 0);
        assert.deepEqual(b.closure.keptOneWay, []);
        assert.equal(b.closure.selfDestruct, undefined);
    });

    test("back to announced from dormant: self-destruct and the dump kept, services not declared, the original vhost", async () => {
        const b = await build(settings("announced"), factsAt("dormant", { currentStage: "dormant", selfDestructEnabled: true }));
        assert.deepEqual(b.kinds(), [
            "Announcement",
            "Announcement",
            "Announcement",
            "Announcement",
            "NginxSite",
            "Registrations",
            "SelfDestructMode",
            "StageJournal",
        ]);
        assert.equal(b.steps.filter((r) => ["DatabaseDump", "StoppedServices"].includes(r.kind)).length, 0);
        assert.equal(params(b.one("NginxSite")).mode, "original");
        assert.equal(b.closure.keptOneWay.length, 2);
        assert.match(b.closure.keptOneWay[0], /^self-destruct/);
        assert.equal(b.closure.keptOneWay[1], "database dump (kept in /var/backups/mastodon-closure until its retention date)");
    });

    test("back to self-destructing from dormant: no dump declared, kept noted; services started again, before the journal", async () => {
        const stoppedByClosure = ["mastodon-web", "postgresql"].map((unit) => ({ unit, wasActive: true, wasEnabled: true }));
        const b = await build(settings("self-destructing"), factsAt("dormant", { currentStage: "dormant", stoppedByClosure }));
        assert.equal(b.steps.filter((r) => r.kind === "DatabaseDump").length, 0);
        assert.deepEqual(params(b.one("StoppedServices")), { units: [] }, "the stop declared with no units starts them again");
        assert.ok(
            b.dependsOn(`${b.prefix}-journal`).includes(`${b.prefix}-services`),
            `the journal waits for the services: ${b.dependsOn(`${b.prefix}-journal`)}`,
        );
        assert.deepEqual(b.closure.keptOneWay, ["database dump (kept in /var/backups/mastodon-closure until its retention date)"]);
    });

    test("once started again the emptied record keeps the stop declared, so the next run changes nothing", async () => {
        const b = await build(
            settings("self-destructing"),
            factsAt("self-destructing", { currentStage: "self-destructing", selfDestructEnabled: true, stoppedByClosure: [] }),
        );
        assert.deepEqual(params(b.one("StoppedServices")), { units: [] });
        const never = await build(settings("self-destructing"), factsAt("self-destructing", { currentStage: "self-destructing", selfDestructEnabled: true }));
        assert.equal(never.steps.filter((r) => r.kind === "StoppedServices").length, 0, "a host the closure never stopped anything on");
    });

    test("a move to dormant killed after the first stop: back at closed, the stopped services are declared to start again", async () => {
        const stoppedByClosure = [{ unit: "mastodon-web", wasActive: true, wasEnabled: true }];
        const b = await build(
            settings("closed"),
            factsAt("self-destructing", { currentStage: "self-destructing", selfDestructEnabled: true, stoppedByClosure }),
        );
        assert.deepEqual(params(b.one("StoppedServices")), { units: [] });
        assert.match(b.one("StoppedServices").inputs.about, /^start again, as they were found/);
    });
});

describe("reminders when announced again", () => {
    test("re-announcing after moving back to operating declares no reminder already past (no burst of stale reminders)", async () => {
        // First announced 2026-03-01, moved back to operating (the journal keeps reachedAt), announced again 2026-05-28.
        const now = new Date("2026-05-28T12:00:00Z");
        const b = await build(settings("announced"), factsAt("operating", { reachedAt: { announced: "2026-03-01T00:00:00Z" } }), now);
        const past = b.steps.filter((r) => r.kind === "Announcement" && params(r).scheduledAt !== null && new Date(params(r).scheduledAt) <= now);
        assert.deepEqual(
            past.map((r) => `${r.name} at ${params(r).scheduledAt}`),
            [],
        );
    });
});

describe("secrets", () => {
    test("every HostStep's access is the way in without a secret, naming the stack whose config holds them", async () => {
        const b = await build(settings("dormant", { requestArchives: "true", mailService: "postfix" }), factsAt("dormant"));
        assert.ok(b.steps.length >= 9, String(b.steps.length));
        for (const r of b.steps) {
            assert.deepEqual(r.inputs.access, ACCESS, r.name);
            // No input carries a secret: the engine logs every input in plain text at -v=9.
            const inputs = JSON.stringify({ ...r.inputs, __provider: undefined });
            assert.ok(!inputs.includes("PASSWORD") && !inputs.includes("PRIVATE"), `${r.name} leaks a secret in ${inputs.slice(0, 200)}`);
            assert.ok(!inputs.includes(SECRET_SIG), `${r.name} has a secret input: ${inputs.slice(0, 200)}`);
        }
    });

    test("the self-destruct result is declared secret; no other step's result is", async () => {
        // The mock monitor does not apply additionalSecretOutputs (the engine does), so the declared options are checked.
        const b = await build(settings("dormant"), factsAt("dormant"));
        for (const r of b.steps) {
            const opts = declared.get(r.name)!.opts as pulumi.CustomResourceOptions;
            assert.deepEqual(opts.additionalSecretOutputs, r.kind === "SelfDestructMode" ? ["result"] : undefined, r.name);
        }
        // enabledAt is exported in the outputs unsecreted.
        assert.equal(await pulumi.isSecret(b.closure.selfDestruct!.enabledAt), false);
    });
});

describe("parking on Cloudflare (the resource graph)", () => {
    const ACCOUNT = "0123456789abcdef0123456789abcdef";
    const CF = { cloudflareAccountId: ACCOUNT, cloudflareZone: "social.example", cloudflareApiToken: "TOKEN", parkExtraHostnames: "www.social.example" };
    const CF_TYPES = {
        record: "cloudflare:index/dnsRecord:DnsRecord",
        script: "cloudflare:index/workersScript:WorkersScript",
        route: "cloudflare:index/workersRoute:WorkersRoute",
    };
    /** A zone before parking: the host's A record (DNS only) and an SPF record; nothing at www. */
    const ZONE: ZoneFacts = {
        zone: { id: "zone1", name: "social.example", accountId: ACCOUNT, accountName: "Closing", status: "active" },
        records: [
            { id: "recA", name: "social.example", type: "A", content: "203.0.113.10", proxied: false, ttl: 300 },
            { id: "recSpf", name: "social.example", type: "TXT", content: "v=spf1 mx ~all", proxied: false, ttl: 1 },
        ],
        routes: [],
    };
    let provider: cloudflare.Provider;
    before(() => {
        provider = new cloudflare.Provider("cf-test", { apiToken: pulumi.secret("TOKEN") });
    });
    const ofType = (b: Built, type: string) => b.all.filter((r) => r.type === type);
    const inputsOf = (b: Built, name: string) => b.all.find((r) => r.name === name)!.inputs;
    /** Registration order is not declaration order: sorted by name. */
    const byName = (rs: Registered[]) => [...rs].sort((x, y) => x.name.localeCompare(y.name));

    test("parked: memo, Worker, one route per hostname, records taken over or created; all retainOnDelete, none protected", async () => {
        const b = await build(settings("parked", CF), factsAt("dormant", { currentStage: "dormant" }), NOW, false, { facts: cloudflareFacts(ZONE), provider });
        const p = `${b.prefix}-edge`;
        assert.deepEqual(
            ofType(b, CF_TYPES.script).map((r) => r.name),
            [`${p}-worker`],
        );
        const script = inputsOf(b, `${p}-worker`);
        assert.deepEqual(
            { ...script, content: undefined },
            { accountId: ACCOUNT, scriptName: "mastodon-closure-social-example", mainModule: "worker.js", compatibilityDate: "2026-04-01", content: undefined },
        );
        // The Worker serves the page the dormant host's nginx serves.
        const page = goneForGoodPage({ domain: "social.example", closingDate: "2026-06-01", successor: "https://next.example", language: "en" });
        assert.equal(script.content, workerSource(page));
        assert.ok(params(b.one("NginxSite")).content.includes(page));

        assert.deepEqual(
            byName(ofType(b, CF_TYPES.route)).map((r) => [r.name, r.inputs]),
            [
                [`${p}-route-social.example`, { zoneId: "zone1", pattern: "social.example/*", script: "mastodon-closure-social-example" }],
                [`${p}-route-www.social.example`, { zoneId: "zone1", pattern: "www.social.example/*", script: "mastodon-closure-social-example" }],
            ],
        );
        const records = byName(ofType(b, CF_TYPES.record)).map((r) => [
            r.name.slice(p.length + 1),
            r.inputs.name,
            r.inputs.type,
            r.inputs.priority,
            r.inputs.content,
            r.inputs.proxied,
            r.inputs.ttl,
            (declared.get(r.name)!.opts as pulumi.CustomResourceOptions).import,
        ]);
        const memo = records.find((r) => r[0] === "dns-memo")![4] as string;
        assert.deepEqual(records, [
            ["dns-dmarc", "_dmarc.social.example", "TXT", undefined, DMARC_REJECT, false, 1, undefined],
            ["dns-memo", "_mastodon-closure.social.example", "TXT", undefined, memo, false, 1, undefined],
            ["dns-mx", "social.example", "MX", 0, ".", false, 1, undefined],
            ["dns-social.example-0", "social.example", "A", undefined, "192.0.2.1", true, 1, "zone1/recA"],
            ["dns-spf", "social.example", "TXT", undefined, SPF_NONE, false, 1, "zone1/recSpf"],
            ["dns-www.social.example-0", "www.social.example", "AAAA", undefined, "100::", true, 1, undefined],
        ]);
        assert.deepEqual(
            decodeMemo(memo).records.map((r) => [r.key, r.content]),
            [
                ["social.example-0", "203.0.113.10"],
                ["spf", "v=spf1 mx ~all"],
            ],
        );
        for (const r of [...ofType(b, CF_TYPES.record), ...ofType(b, CF_TYPES.route), ...ofType(b, CF_TYPES.script)]) {
            const opts = declared.get(r.name)!.opts;
            assert.equal(opts.retainOnDelete, true, r.name);
            assert.ok(!opts.protect, `${r.name} is protected`);
            assert.equal(opts.provider, provider, r.name);
        }
    });

    test("parked: the Worker, then its routes, then DNS; the edge after the host is dormant; the journal last", async () => {
        const b = await build(settings("parked", CF), factsAt("dormant", { currentStage: "dormant" }), NOW, false, { facts: cloudflareFacts(ZONE), provider });
        const p = `${b.prefix}-edge`;
        assert.deepEqual(b.dependsOn(`${p}-route-social.example`), [`${p}-worker`]);
        const routes = [`${p}-route-social.example`, `${p}-route-www.social.example`];
        for (const key of ["social.example-0", "www.social.example-0", "mx", "spf", "dmarc"]) {
            assert.deepEqual(b.dependsOn(`${p}-dns-${key}`), [`${p}-dns-memo`, ...routes].sort(), key);
        }
        assert.deepEqual(b.dependsOn(`${p}-dns-memo`), []);
        assert.deepEqual(b.dependsOn(p), [`${b.prefix}-front`, `${b.prefix}-services`]);
        assert.ok(b.dependsOn(`${b.prefix}-journal`).includes(p));
        // The outputs say the host may go only once every record has an id (was written).
        assert.equal(
            await new Promise((r) => b.closure.edge!.hostMayBeTurnedOff!.apply(r)),
            "yes: Cloudflare answers 410 for social.example, www.social.example",
        );
        assert.equal(b.steps.filter((r) => r.kind === "StoppedServices").length, 1, "no nginx stop unless asked");
        assert.deepEqual(
            b.closure.plan.manual.filter((m) => /DNS/.test(m)),
            [],
        );
    });

    test("the API token reaches the provider as a secret only", async () => {
        const reg = registered.find((r) => r.type === "pulumi:providers:cloudflare" && r.name === "cf-test")!;
        assert.ok(reg, registered.map((r) => r.type).join());
        assert.equal(reg.inputs.apiToken?.[SECRET_SIG_KEY], SECRET_SIG);
        const b = await build(settings("parked", CF), factsAt("dormant", { currentStage: "dormant" }), NOW, false, { facts: cloudflareFacts(ZONE), provider });
        for (const r of b.all) assert.ok(!JSON.stringify(r.inputs).includes("TOKEN"), r.name);
    });

    test("stopNginxWhenParked, parked since longer than the replaced TTL: nginx stopped after every DNS record", async () => {
        const facts = factsAt("parked");
        const b = await build(settings("parked", { ...CF, stopNginxWhenParked: "true" }), facts, new Date("2026-07-10T10:05:00Z"), false, {
            facts: cloudflareFacts(ZONE),
            provider,
        });
        const p = `${b.prefix}-edge`;
        const nginx = b.steps.find((r) => r.name === `${p}-nginx`)!;
        // Its own record of how nginx was found: the dormant stop's record (services.json) is not touched.
        assert.deepEqual(
            params(nginx),
            { units: ["nginx"], record: "/var/lib/mastodon-closure/nginx.json", hostUnits: true },
            "nginx is the host's own unit, whatever runs Mastodon",
        );
        assert.deepEqual(
            b.dependsOn(`${p}-nginx`),
            ["dmarc", "mx", "social.example-0", "spf", "www.social.example-0"].map((k) => `${p}-dns-${k}`),
        );
        assert.equal(
            await new Promise((r) => b.closure.edge!.hostMayBeTurnedOff!.apply(r)),
            "yes: Cloudflare answers 410 for social.example, www.social.example; nginx on the host is stopped",
        );
        // Stopped by the edge, which answers instead: the front no longer asks nginx anything (no drift).
        assert.deepEqual(
            ["nginx", "answers"].filter((k) => k in params(b.one("NginxSite"))),
            [],
            `the front's params once the edge stops nginx: ${Object.keys(params(b.one("NginxSite")))}`,
        );
        // Entering parked: not yet, the outputs say until when.
        const entering = await build(settings("parked", { ...CF, stopNginxWhenParked: "true" }), factsAt("dormant", { currentStage: "dormant" }), NOW, false, {
            facts: cloudflareFacts(ZONE),
            provider,
        });
        assert.equal(entering.steps.filter((r) => r.name.endsWith("-edge-nginx")).length, 0);
        assert.equal(params(entering.one("NginxSite")).nginx, "active", "until the edge stops it, nginx must run");
        assert.match(String(entering.closure.edge!.summary.nginx), /^keeps answering until 2026-04-01T12:05:00.000Z/);
    });

    test("moving back to dormant after parking: records restored in place, routes without Worker, no Worker declared", async () => {
        const parked = await build(settings("parked", CF), factsAt("dormant", { currentStage: "dormant" }), NOW, false, {
            facts: cloudflareFacts(ZONE),
            provider,
        });
        const memo = ofType(parked, CF_TYPES.record).find((r) => r.name.endsWith("-dns-memo"))!.inputs.content as string;
        const pp = `${parked.prefix}-edge`;
        const zoneAfter: ZoneFacts = {
            ...ZONE,
            records: [
                {
                    id: "recA",
                    name: "social.example",
                    type: "A",
                    content: "192.0.2.1",
                    proxied: true,
                    ttl: 1,
                    comment: "mastodon-closure: parked; the Worker answers 410",
                },
                {
                    id: "recSpf",
                    name: "social.example",
                    type: "TXT",
                    content: SPF_NONE,
                    proxied: false,
                    ttl: 1,
                    comment: "mastodon-closure: parked; the Worker answers 410",
                },
                { id: "recMemo", name: "_mastodon-closure.social.example", type: "TXT", content: memo, proxied: false, ttl: 1 },
            ],
            routes: [{ id: "rt1", pattern: "social.example/*", script: "mastodon-closure-social-example" }],
        };
        const b = await build(settings("dormant", CF), factsAt("parked"), NOW, false, { facts: cloudflareFacts(zoneAfter), provider });
        const p = `${b.prefix}-edge`;
        assert.equal(ofType(b, CF_TYPES.script).length, 0);
        assert.deepEqual(
            ofType(b, CF_TYPES.route).map((r) => r.inputs),
            [{ zoneId: "zone1", pattern: "social.example/*" }],
        );
        assert.deepEqual((declared.get(`${p}-route-social.example`)!.opts as pulumi.CustomResourceOptions).import, "zone1/rt1");
        assert.deepEqual(
            byName(ofType(b, CF_TYPES.record)).map((r) => [
                r.name.slice(p.length + 1),
                r.inputs.type,
                r.inputs.content,
                r.inputs.proxied,
                r.inputs.ttl,
                (declared.get(r.name)!.opts as pulumi.CustomResourceOptions).import,
            ]),
            [
                ["dns-memo", "TXT", memo, false, 1, "zone1/recMemo"],
                ["dns-social.example-0", "A", "203.0.113.10", false, 300, "zone1/recA"],
                ["dns-spf", "TXT", "v=spf1 mx ~all", false, 1, "zone1/recSpf"],
            ],
        );
        // The same resource names as when parked: the engine updates them back, never deletes them.
        for (const key of ["dns-social.example-0", "dns-spf", "dns-memo"])
            assert.ok(
                parked.all.some((r) => r.name === `${pp}-${key}`),
                key,
            );
        // Records first, then the routes stop running the Worker.
        assert.deepEqual(b.dependsOn(`${p}-route-social.example`), [`${p}-dns-social.example-0`, `${p}-dns-spf`]);
        assert.match(b.closure.keptOneWay.at(-1)!, /^parking on Cloudflare: stays in the zone.*the Worker mastodon-closure-social-example/);
        assert.equal(b.closure.edge!.hostMayBeTurnedOff, undefined);
    });

    test("parked without Cloudflare settings: no Cloudflare resource, the manual steps of the stage table", async () => {
        const b = await build(settings("parked"), factsAt("parked"));
        assert.deepEqual(
            b.all.filter((r) => r.type.startsWith("cloudflare:")),
            [],
        );
        assert.equal(b.closure.edge, undefined);
        assert.deepEqual(b.closure.plan.manual, STAGE_TABLE.parked.manual);
    });

    test("a site the closure cannot close (its TLS server in another file) is refused naming the file, before any child", async () => {
        const split = ORIGINAL_VHOST.slice(0, ORIGINAL_VHOST.indexOf("server {", ORIGINAL_VHOST.indexOf("listen 80;")));
        assert.ok(!split.includes("ssl"), split);
        const before = registered.length;
        assert.throws(
            () =>
                new MastodonClosure("split", {
                    settings: settings("closed"),
                    access: ACCESS,
                    facts: factsAt("announced", { currentStage: "announced" }),
                    originalVhost: split,
                    now: NOW,
                }),
            /^Error: \/etc\/nginx\/sites-available\/mastodon: the nginx site has no `listen \.\.\. ssl` line in a server for social\.example;.*set nginxSite to it/,
        );
        await waitForRPCs();
        assert.deepEqual(
            registered
                .slice(before)
                .map((r) => r.name)
                .filter((n) => n.startsWith("split-")),
            [],
        );
    });

    test("a refusal of the plan throws before any child is declared", async () => {
        const zone = { ...ZONE, routes: [{ id: "x", pattern: "social.example/api/*", script: "cache" }] };
        const before = registered.length;
        assert.throws(
            () =>
                new MastodonClosure("refused", {
                    settings: settings("parked", CF),
                    access: ACCESS,
                    facts: factsAt("dormant", { currentStage: "dormant" }),
                    originalVhost: ORIGINAL_VHOST,
                    now: NOW,
                    edge: { facts: cloudflareFacts(zone), provider },
                }),
            /^Error: stage "parked" cannot be reached as set; nothing was changed:\n {2}- the Worker route social\.example\/api\/\* \(Worker cache\) covers social\.example/,
        );
        await waitForRPCs();
        assert.deepEqual(
            registered
                .slice(before)
                .map((r) => r.name)
                .filter((n) => n.startsWith("refused-")),
            [],
        );
    });
});

describe("split hosts (the resource graph)", () => {
    const DATABASE = { databaseSshHost: "203.0.113.30", databaseSshHostKey: HOST_KEY, databaseHost: "10.0.0.30" };

    test("dormant with PostgreSQL on its own host: stopped there after the Mastodon host's services, the dump checked first", async () => {
        const b = await build(settings("dormant", DATABASE), factsAt("self-destructing", { currentStage: "self-destructing" }));
        const stops = b.steps.filter((r) => r.kind === "StoppedServices");
        assert.deepEqual(stops.map((r) => r.name).sort(), [`${b.prefix}-services-stopped`, `${b.prefix}-services-stopped-database`]);
        const [app, db] = [`${b.prefix}-services-stopped`, `${b.prefix}-services-stopped-database`].map((n) => stops.find((r) => r.name === n)!);
        assert.deepEqual(params(app).units, ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server"]);
        assert.deepEqual({ ...params(db), dump: undefined }, { units: ["postgresql"], dump: undefined, hostUnits: true, role: "database" });
        assert.ok(params(db).dump, "the database host's stop depends on the verified dump too");
        assert.deepEqual(b.dependsOn(db.name), [app.name], "PostgreSQL stops after Mastodon's processes");
        assert.deepEqual(b.closure.services!.units, ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql"]);
    });

    test("back below dormant: PostgreSQL started again first, then Mastodon's services", async () => {
        const stoppedByClosure = ["mastodon-web", "postgresql"].map((unit) => ({ unit, wasActive: true, wasEnabled: true }));
        const b = await build(settings("self-destructing", DATABASE), factsAt("dormant", { currentStage: "dormant", stoppedByClosure }));
        const [app, db] = [`${b.prefix}-services-stopped`, `${b.prefix}-services-stopped-database`];
        assert.deepEqual(params(b.steps.find((r) => r.name === db)!), { units: [], hostUnits: true, role: "database" });
        assert.deepEqual(b.dependsOn(app), [db]);
        assert.deepEqual(b.dependsOn(db), []);
    });

    test("one host: one stop, as before", async () => {
        const b = await build(settings("dormant"), factsAt("self-destructing", { currentStage: "self-destructing" }));
        assert.deepEqual(
            b.steps.filter((r) => r.kind === "StoppedServices").map((r) => r.name),
            [`${b.prefix}-services-stopped`],
        );
    });
});
