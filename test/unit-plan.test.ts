// Unit tests of the pure plan (lib/rules/plan.ts) and of parking on Cloudflare (lib/edge/cloudflare/parking.ts): settings + host
// facts + what the zone holds -> the concerns of a stage, the records and routes to declare, the refusals.
// No engine: the zone is a value, as readZone returns it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { HostFacts } from "../lib/rules/facts";
import {
    CloudflarePlan,
    decodeMemo,
    DMARC_REJECT,
    encodeMemo,
    PARKED_COMMENT,
    planEdge,
    PlannedRecord,
    SPF_NONE,
    workerName,
} from "../lib/edge/cloudflare/parking";
import { needsEdgeFacts, planClosure } from "../lib/rules/plan";
import type { CloudflareSettings } from "../lib/edge/cloudflare/settings";
import { Stage, STAGES, STAGE_TABLE } from "../lib/rules/stages";
import { cloudflareFacts, ZoneFacts, ZoneRecord } from "../lib/edge/cloudflare/zone";
import { reachedUpTo, testFacts } from "./support/facts";
import { testSettings } from "./support/settings";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const NOW = new Date("2026-07-20T12:00:00Z");

const settings = testSettings;

const CF = { cloudflareAccountId: ACCOUNT, cloudflareZone: "social.example", cloudflareApiToken: "t" };

/** A host that walked forward to `stage`, every stage entered on 2026-07-01. */
function facts(stage: Stage, extra: Partial<HostFacts> = {}): HostFacts {
    return testFacts(stage, { reachedAt: reachedUpTo(stage, () => "2026-07-01T00:00:00Z"), ...extra });
}

/** The zone of a typical server before parking: A (DNS only) and AAAA at the domain, an SPF record of the
 *  mail relay, a DKIM key, nothing at www, no route. */
const BEFORE: ZoneRecord[] = [
    { id: "rA", name: "social.example", type: "A", content: "203.0.113.10", proxied: false, ttl: 3600, comment: "mastodon host" },
    { id: "rAAAA", name: "social.example", type: "AAAA", content: "2001:db8::10", proxied: false, ttl: 1 },
    { id: "rSPF", name: "social.example", type: "TXT", content: '"v=spf1 include:mailgun.org ~all"', proxied: false, ttl: 1 },
    { id: "rTXT", name: "social.example", type: "TXT", content: "google-site-verification=abc", proxied: false, ttl: 1 },
];

function zone(records: ZoneRecord[], routes: ZoneFacts["routes"] = [], over: Partial<NonNullable<ZoneFacts["zone"]>> = {}): ZoneFacts {
    return { zone: { id: "z1", name: "social.example", accountId: ACCOUNT, accountName: "Closing", status: "active", ...over }, records, routes };
}

const cf = (extra: Record<string, string> = {}): CloudflareSettings => settings("parked", { ...CF, ...extra }).cloudflare!;

/** What the zone holds after the plan was applied (as the provider would leave it). */
function applied(plan: CloudflarePlan, before: ZoneRecord[]): ZoneFacts {
    let n = 0;
    const written = [plan.memo, ...plan.records].map((r: PlannedRecord): ZoneRecord => {
        const id = r.importId ? r.importId.split("/")[1] : `new${++n}`;
        return {
            id,
            name: r.name,
            type: r.type,
            content: r.content,
            proxied: r.proxied,
            ttl: r.ttl,
            ...(r.priority !== undefined ? { priority: r.priority } : {}),
            ...(r.comment ? { comment: r.comment } : {}),
        };
    });
    const ids = new Set(written.map((r) => r.id));
    return zone(
        [...before.filter((r) => !ids.has(r.id)), ...written],
        plan.routes.map((r, i) => ({ id: r.importId?.split("/")[1] ?? `route${i}`, pattern: r.pattern, ...(r.script ? { script: r.script } : {}) })),
    );
}

const brief = (r: PlannedRecord) =>
    `${r.key}: ${r.name} ${r.type} ${r.priority ?? ""}${r.priority !== undefined ? " " : ""}${r.content}${r.proxied ? " proxied" : ""} ttl=${r.ttl}${r.importId ? ` <- ${r.importId}` : ""}`;

describe("planEdge: parking", () => {
    const first = planEdge({ cf: cf({ parkExtraHostnames: "www.social.example" }), zone: zone(BEFORE), parked: true, now: NOW });

    test("first run: the records at each name taken over in place, www and mail created, proxied to no origin", () => {
        assert.deepEqual(first.refusals, []);
        const p = first.plan!;
        assert.equal(p.mode, "parked");
        assert.equal(p.scriptName, "mastodon-closure-social-example");
        assert.deepEqual(p.records.map(brief), [
            "social.example-0: social.example A 192.0.2.1 proxied ttl=1 <- z1/rA",
            "social.example-1: social.example AAAA 100:: proxied ttl=1 <- z1/rAAAA",
            "www.social.example-0: www.social.example AAAA 100:: proxied ttl=1",
            "mx: social.example MX 0 . ttl=1",
            `spf: social.example TXT ${SPF_NONE} ttl=1 <- z1/rSPF`,
            `dmarc: _dmarc.social.example TXT ${DMARC_REJECT} ttl=1`,
        ]);
        assert.ok(p.records.every((r) => r.comment === PARKED_COMMENT));
        // The Worker answers on every parked name.
        assert.deepEqual(p.routes, [
            { key: "social.example", pattern: "social.example/*", script: "mastodon-closure-social-example" },
            { key: "www.social.example", pattern: "www.social.example/*", script: "mastodon-closure-social-example" },
        ]);
        assert.equal(p.nginx, undefined);
        assert.deepEqual(p.kept, []);
    });

    test("the memo keeps exactly what was replaced, and is new (not imported)", () => {
        const p = first.plan!;
        assert.equal(p.memo.name, "_mastodon-closure.social.example");
        assert.equal(p.memo.importId, undefined);
        assert.equal(p.memo.proxied, false);
        const memo = decodeMemo(p.memo.content);
        assert.deepEqual(
            memo.records.map((r) => [r.slot, r.key, r.id, r.type, r.content, r.proxied, r.ttl, r.comment]),
            [
                ["social.example", "social.example-0", "rA", "A", "203.0.113.10", false, 3600, "mastodon host"],
                ["social.example", "social.example-1", "rAAAA", "AAAA", "2001:db8::10", false, 1, undefined],
                ["spf", "spf", "rSPF", "TXT", '"v=spf1 include:mailgun.org ~all"', false, 1, undefined],
            ],
        );
        assert.deepEqual(memo.routes, []);
        assert.equal(encodeMemo(memo), p.memo.content);
        // Unrelated records at the same name (site verification) are neither touched nor remembered.
        assert.ok(!p.records.some((r) => r.content.includes("google")));
    });

    test("second run on the parked zone: the same records, every one now taken over; the memo unchanged", () => {
        const after = applied(first.plan!, BEFORE);
        const again = planEdge({
            cf: cf({ parkExtraHostnames: "www.social.example" }),
            zone: after,
            parked: true,
            parkedSince: "2026-07-20T12:00:00Z",
            now: NOW,
        });
        assert.deepEqual(again.refusals, []);
        const strip = (rs: PlannedRecord[]) => rs.map(({ importId: _i, ...r }) => r);
        assert.deepEqual(strip(again.plan!.records), strip(first.plan!.records));
        assert.ok(
            again.plan!.records.every((r) => r.importId),
            again.plan!.records.map(brief).join("\n"),
        );
        assert.equal(again.plan!.memo.content, first.plan!.memo.content);
        assert.equal(again.plan!.memo.importId, "z1/new1");
        assert.deepEqual(
            again.plan!.routes.map((r) => r.importId),
            ["z1/route0", "z1/route1"],
        );
    });

    test("several records of one type at one name get distinct addresses", () => {
        const two = [0, 1].map((i) => ({ id: `a${i}`, name: "social.example", type: "A", content: `203.0.113.${i}`, proxied: true, ttl: 1 }));
        const p = planEdge({ cf: cf(), zone: zone([...two, BEFORE[1]]), parked: true, now: NOW }).plan!;
        assert.deepEqual(
            p.records.slice(0, 3).map((r) => r.content),
            ["192.0.2.1", "192.0.2.2", "100::"],
        );
    });

    test("a CNAME keeps its type and target (a type change would replace it), proxied", () => {
        const p = planEdge({
            cf: cf(),
            zone: zone([{ id: "c", name: "social.example", type: "CNAME", content: "app.paas.example", proxied: false, ttl: 1 }]),
            parked: true,
            now: NOW,
        }).plan!;
        assert.equal(brief(p.records[0]), "social.example-0: social.example CNAME app.paas.example proxied ttl=1 <- z1/c");
    });

    test("mail closing is each optional", () => {
        const p = planEdge({ cf: cf({ parkNullMx: "false", parkSpf: "false", parkDmarc: "false" }), zone: zone(BEFORE), parked: true, now: NOW }).plan!;
        assert.deepEqual(
            p.records.map((r) => r.key),
            ["social.example-0", "social.example-1"],
        );
        const onlyDmarc = planEdge({ cf: cf({ parkNullMx: "false", parkSpf: "false" }), zone: zone(BEFORE), parked: true, now: NOW }).plan!;
        assert.deepEqual(
            onlyDmarc.records.map((r) => r.key),
            ["social.example-0", "social.example-1", "dmarc"],
        );
    });

    test("an existing MX and DMARC are taken over; a route of our pattern to another Worker too (remembered)", () => {
        const z = zone(
            [
                ...BEFORE,
                { id: "mx1", name: "social.example", type: "MX", content: "mx.mailgun.org", priority: 10, proxied: false, ttl: 1 },
                { id: "d1", name: "_dmarc.social.example", type: "TXT", content: "v=DMARC1; p=none", proxied: false, ttl: 1 },
            ],
            [{ id: "rt", pattern: "social.example/*", script: "old-worker" }],
        );
        const p = planEdge({ cf: cf(), zone: z, parked: true, now: NOW }).plan!;
        assert.deepEqual(p.records.filter((r) => ["mx", "dmarc"].includes(r.key)).map(brief), [
            "mx: social.example MX 0 . ttl=1 <- z1/mx1",
            `dmarc: _dmarc.social.example TXT ${DMARC_REJECT} ttl=1 <- z1/d1`,
        ]);
        assert.deepEqual(p.routes, [{ key: "social.example", pattern: "social.example/*", script: "mastodon-closure-social-example", importId: "z1/rt" }]);
        assert.deepEqual(decodeMemo(p.memo.content).routes, [{ pattern: "social.example/*", script: "old-worker" }]);
    });

    test("refusals: two MX, two SPF, a more specific route, a memo that is not ours, an invisible zone", () => {
        const twoMx = [
            ...BEFORE,
            ...["a", "b"].map((h, i) => ({
                id: `mx${i}`,
                name: "social.example",
                type: "MX",
                content: `${h}.mx.example`,
                priority: 10,
                proxied: false,
                ttl: 1,
            })),
        ];
        assert.deepEqual(planEdge({ cf: cf(), zone: zone(twoMx), parked: true, now: NOW }).refusals, [
            "social.example has 2 MX records (a.mx.example, b.mx.example); parking replaces exactly one: delete the others, or set parkNullMx to false",
        ]);
        assert.deepEqual(planEdge({ cf: cf({ parkNullMx: "false" }), zone: zone(twoMx), parked: true, now: NOW }).refusals, []);
        const twoSpf = [...BEFORE, { id: "s2", name: "social.example", type: "TXT", content: "v=spf1 -all", proxied: false, ttl: 1 }];
        assert.match(
            planEdge({ cf: cf(), zone: zone(twoSpf), parked: true, now: NOW }).refusals[0],
            /^social\.example has 2 SPF records .* set parkSpf to false$/,
        );
        const routes = [
            { id: "x", pattern: "social.example/api/*", script: "api-cache" },
            { id: "y", pattern: "*.example/*" },
        ];
        assert.deepEqual(planEdge({ cf: cf(), zone: zone(BEFORE, routes), parked: true, now: NOW }).refusals, [
            "the Worker route social.example/api/* (Worker api-cache) covers social.example and would answer instead of the parking Worker: delete it in the dashboard",
            "the Worker route *.example/* covers social.example and would answer instead of the parking Worker: delete it in the dashboard",
        ]);
        const foreignMemo = [...BEFORE, { id: "m", name: "_mastodon-closure.social.example", type: "TXT", content: "hello", proxied: false, ttl: 1 }];
        assert.match(
            planEdge({ cf: cf(), zone: zone(foreignMemo), parked: true, now: NOW }).refusals[0],
            /^_mastodon-closure\.social\.example: the TXT record is not mastodon-closure's memo: "hello"; delete it/,
        );
        assert.deepEqual(planEdge({ cf: cf(), zone: { records: [], routes: [] }, parked: true, now: NOW }), {
            refusals: ["zone social.example is not visible to cloudflareApiToken"],
        });
    });

    test("stopNginxWhenParked: not before the replaced records' TTL has run out since DNS moved", () => {
        const c = cf({ stopNginxWhenParked: "true" });
        const entering = planEdge({ cf: c, zone: zone(BEFORE), parked: true, now: NOW }).plan!;
        // The A record had a TTL of 3600 s: resolvers may send visitors to the host for an hour.
        assert.deepEqual(entering.nginx, { stop: false, notBefore: "2026-07-20T13:00:00.000Z" });
        const after = applied(entering, BEFORE);
        assert.deepEqual(
            planEdge({ cf: c, zone: after, parked: true, parkedSince: "2026-07-20T12:00:00Z", now: new Date("2026-07-20T12:59:59Z") }).plan!.nginx,
            { stop: false, notBefore: "2026-07-20T13:00:00.000Z" },
        );
        assert.deepEqual(
            planEdge({ cf: c, zone: after, parked: true, parkedSince: "2026-07-20T12:00:00Z", now: new Date("2026-07-20T13:00:00Z") }).plan!.nginx,
            { stop: true },
        );
        // With automatic TTLs only, 300 s.
        const auto = planEdge({ cf: c, zone: zone([BEFORE[1]]), parked: true, now: NOW }).plan!;
        assert.deepEqual(auto.nginx, { stop: false, notBefore: "2026-07-20T12:05:00.000Z" });
    });

    test("script names are valid Worker names", () => {
        assert.equal(workerName("Social.Example"), "mastodon-closure-social-example");
        assert.match(workerName(`${"a".repeat(70)}.example`), /^[a-z0-9-]{1,63}$/);
    });
});

describe("planEdge: moving back after parking", () => {
    const c = cf({ parkExtraHostnames: "www.social.example" });
    const parked = planEdge({ cf: c, zone: zone(BEFORE), parked: true, now: NOW }).plan!;
    const after = applied(parked, BEFORE);
    const back = planEdge({ cf: c, zone: after, parked: false, now: NOW });

    test("the replaced records come back in place (same keys, original values and comments)", () => {
        assert.deepEqual(back.refusals, []);
        const p = back.plan!;
        assert.equal(p.mode, "restored");
        assert.deepEqual(p.records.map(brief), [
            "social.example-0: social.example A 203.0.113.10 ttl=3600 <- z1/rA",
            "social.example-1: social.example AAAA 2001:db8::10 ttl=1 <- z1/rAAAA",
            'spf: social.example TXT "v=spf1 include:mailgun.org ~all" ttl=1 <- z1/rSPF',
        ]);
        assert.equal(p.records[0].comment, "mastodon host");
        assert.equal(p.records[1].comment, undefined);
        // The keys are those of the parked records: the same resources, updated back.
        for (const r of p.records)
            assert.ok(
                parked.records.some((q) => q.key === r.key),
                r.key,
            );
        assert.deepEqual(p.memo.content, parked.memo.content);
    });

    test("routes stop running the Worker; what parking added stays and is listed", () => {
        const p = back.plan!;
        assert.deepEqual(p.routes, [
            { key: "social.example", pattern: "social.example/*", importId: "z1/route0" },
            { key: "www.social.example", pattern: "www.social.example/*", importId: "z1/route1" },
        ]);
        assert.deepEqual(p.kept, [
            "the Worker mastodon-closure-social-example (no route runs it any more)",
            "www.social.example AAAA 100::",
            "social.example MX 0 .",
            `_dmarc.social.example TXT ${DMARC_REJECT}`,
            "_mastodon-closure.social.example TXT (what parking replaced)",
        ]);
    });

    test("a route that ran another Worker before parking gets it back", () => {
        const z = zone(BEFORE, [{ id: "rt", pattern: "social.example/*", script: "old-worker" }]);
        const p = planEdge({ cf: cf(), zone: z, parked: true, now: NOW }).plan!;
        const restored = planEdge({ cf: cf(), zone: applied(p, BEFORE), parked: false, now: NOW }).plan!;
        assert.deepEqual(restored.routes, [{ key: "social.example", pattern: "social.example/*", importId: "z1/rt", script: "old-worker" }]);
    });

    test("moved back and run again: the same plan (nothing changes a second time)", () => {
        const twice = planEdge({ cf: c, zone: applied(back.plan!, after.records), parked: false, now: NOW });
        assert.deepEqual(twice.plan!.records, back.plan!.records);
        assert.deepEqual(twice.plan!.memo, back.plan!.memo);
    });

    test("the memo read back as quoted TXT strings (as Cloudflare may give TXT content) is the same memo", () => {
        const content = parked.memo.content;
        const quoted = `"${content.slice(0, 255)}" "${content.slice(255)}"`;
        const z = { ...after, records: after.records.map((r) => (r.name.startsWith("_mastodon-closure.") ? { ...r, content: quoted } : r)) };
        const p = planEdge({ cf: c, zone: z, parked: false, now: NOW }).plan!;
        assert.equal(p.memo.content, content);
        assert.deepEqual(p.records, back.plan!.records);
    });

    test("parked again after moving back: the memo still says what was there first", () => {
        const again = planEdge({ cf: c, zone: applied(back.plan!, after.records), parked: true, now: NOW }).plan!;
        assert.deepEqual(
            again.records.map(({ importId: _i, ...r }) => r),
            parked.records.map(({ importId: _i, ...r }) => r),
        );
        assert.equal(again.memo.content, parked.memo.content);
    });

    test("never parked (no memo): nothing to restore", () => {
        assert.deepEqual(planEdge({ cf: c, zone: zone(BEFORE), parked: false, now: NOW }), { refusals: [] });
    });
});

describe("planClosure", () => {
    test("without Cloudflare settings every stage plans as its row of the stage table", () => {
        for (const stage of STAGES) {
            const p = planClosure(settings(stage), facts(stage), NOW);
            const spec = STAGE_TABLE[stage];
            assert.equal(p.front, spec.front, stage);
            assert.equal(p.notice !== undefined, spec.announce, stage);
            assert.equal(p.selfDestruct, spec.selfDestruct, stage);
            assert.equal(p.databaseDump, spec.databaseDump, stage);
            assert.equal(p.edge, undefined);
            assert.deepEqual(p.manual, spec.manual);
            assert.equal(p.journal, stage !== "operating");
            assert.deepEqual(p.refusals, []);
            assert.equal(needsEdgeFacts(settings(stage), facts(stage)), false);
        }
    });

    test("the zone is needed when parking, and after having been parked (to restore), with Cloudflare settings only", () => {
        assert.equal(needsEdgeFacts(settings("parked", CF), facts("dormant")), true);
        assert.equal(needsEdgeFacts(settings("dormant", CF), facts("dormant")), false);
        assert.equal(needsEdgeFacts(settings("dormant", CF), facts("parked")), true);
        assert.equal(needsEdgeFacts(settings("parked"), facts("parked")), false);
    });

    test("parked with Cloudflare: the edge plan, and the manual steps without the DNS step", () => {
        const p = planClosure(settings("parked", CF), facts("dormant"), NOW, cloudflareFacts(zone(BEFORE)));
        assert.equal(p.edge?.mode, "parked");
        assert.deepEqual(p.stoppedUnits, ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql"]);
        assert.equal(p.manual.length, 3);
        assert.ok(!p.manual.some((m) => /DNS/.test(m)), p.manual.join("\n"));
        assert.match(p.manual[1], /^keep the domain registered and its Cloudflare zone active/);
        assert.match(p.manual[2], /hostMayBeTurnedOff says Cloudflare answers for social\.example$/);
    });

    test("refusals of parking are the plan's refusals", () => {
        const p = planClosure(settings("parked", CF), facts("dormant"), NOW, cloudflareFacts(zone(BEFORE, [{ id: "x", pattern: "social.example/api/*" }])));
        assert.equal(p.refusals.length, 1);
        assert.match(p.refusals[0], /^the Worker route social\.example\/api\/\* covers social\.example/);
    });

    test("back to dormant after parking: restored, and keptOneWay says what stays at Cloudflare", () => {
        const parked = planClosure(settings("parked", CF), facts("dormant"), NOW, cloudflareFacts(zone(BEFORE))).edge!;
        const p = planClosure(settings("dormant", CF), facts("parked"), NOW, cloudflareFacts(applied(parked, BEFORE)));
        assert.equal(p.edge?.mode, "restored");
        // Self-destruct is wanted at dormant too: the one kept entry is parking's.
        assert.equal(p.keptOneWay.length, 1);
        assert.match(
            p.keptOneWay[0],
            /^parking on Cloudflare: stays in the zone, delete by hand if the domain is to work again: the Worker mastodon-closure-social-example/,
        );
        assert.deepEqual(p.manual, STAGE_TABLE.dormant.manual);
    });
});
