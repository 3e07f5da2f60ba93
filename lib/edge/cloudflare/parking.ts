// Parking on Cloudflare, decided in pure code: settings + what the zone holds -> the Worker, its routes and
// the DNS records to declare. At `parked` the records at each parked name are taken over in place (imported,
// then changed: proxied to the Worker, with no origin behind them) and mail for the domain is closed off;
// what they held before is kept in a TXT record first, and moving back restores it from there.
import type { EdgeDecision, EdgePlanBase } from "../edge";
import type { CloudflareSettings } from "./settings";
import { DnsRecordValues, memoName, ZoneFacts, ZoneRecord } from "./zone";

/** The comment on every record parking writes, so that the zone shows who changed it. */
export const PARKED_COMMENT = "mastodon-closure: parked; the Worker answers 410";
export const MEMO_PREFIX = "mastodon-closure before-parking v1 ";
/** Mail closed off (RFC 7505 null MX, SPF that allows no sender, DMARC that rejects what fails). */
export const NULL_MX = { type: "MX", content: ".", priority: 0 };
export const SPF_NONE = "v=spf1 -all";
export const DMARC_REJECT = "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s";
/** TTL of records whose TTL is Cloudflare's "automatic" (1): what resolvers may cache. */
const AUTO_TTL = 300;
/** TXT content Cloudflare accepts. */
const TXT_MAX = 2048;

export interface PlannedRecord extends DnsRecordValues {
    /** Stable within the stack: the resource name's suffix, the same when parked and when restored. */
    key: string;
    /** `<zone id>/<record id>` of the record now at this place, taken over by the stack. */
    importId?: string;
}

export interface PlannedRoute {
    key: string;
    pattern: string;
    /** No script: Workers off for the pattern (the way a route is undone without freeing it). */
    script?: string;
    importId?: string;
}

/** parked: the Worker answers; restored: moved back, what parking replaced is back. */
export interface CloudflarePlan extends EdgePlanBase {
    kind: "cloudflare";
    zoneId: string;
    accountId: string;
    scriptName: string;
    /** The memo first: what the records held before parking. */
    memo: PlannedRecord;
    routes: PlannedRoute[];
    /** Web and mail records, in that order. */
    records: PlannedRecord[];
    /** When stopNginxWhenParked: stop now, or not before this time (the replaced records' TTL). */
    nginx?: { stop: true } | { stop: false; notBefore: string };
}

/** What the memo keeps: the records and routes that were there before parking. */
export interface Memo {
    /** `slot`: the hostname, or mx, spf, dmarc; `key`: the record's PlannedRecord key. */
    records: Array<ZoneRecord & { slot: string; key: string }>;
    routes: Array<{ pattern: string; script?: string }>;
}

/** Worker script names: lowercase letters, digits and dashes. */
export function workerName(domain: string): string {
    return `mastodon-closure-${domain.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`.slice(0, 63).replace(/-+$/, "");
}

function unquote(txt: string): string {
    // TXT content may come back as quoted strings ("a" "b"): one string again.
    return /^".*"$/s.test(txt) ? txt.replace(/^"|"$/g, "").split('" "').join("").replace(/\\"/g, '"') : txt;
}

export function encodeMemo(memo: Memo): string {
    return MEMO_PREFIX + Buffer.from(JSON.stringify(memo)).toString("base64url");
}

export function decodeMemo(content: string): Memo {
    const text = unquote(content);
    if (!text.startsWith(MEMO_PREFIX)) throw new Error(`the TXT record is not mastodon-closure's memo: "${text.slice(0, 60)}"`);
    return JSON.parse(Buffer.from(text.slice(MEMO_PREFIX.length), "base64url").toString("utf8")) as Memo;
}

interface EdgeInput {
    cf: CloudflareSettings;
    zone: ZoneFacts;
    /** Stage is parked (else: moved back, restore what parking replaced). */
    parked: boolean;
    /** When the host entered `parked` (journal), if it is already there. */
    parkedSince?: string;
    now: Date;
}

interface Slot {
    /** The hostname, or mx, spf, dmarc. */
    slot: string;
    web: boolean;
    /** What the zone holds there now. */
    current: ZoneRecord[];
    /** The parked record replacing the i-th record of its type there (or the one created when there is none). */
    parked: (i: number, was?: ZoneRecord) => Omit<PlannedRecord, "key" | "importId">;
}

/** A record's key: web records are numbered per hostname, mail records are one per slot. */
function keyOf(slot: Pick<Slot, "slot" | "web">, i: number): string {
    return slot.web ? `${slot.slot}-${i}` : slot.slot;
}

/** Places parking writes, with what the zone holds there now. */
function slotsOf(cf: CloudflareSettings, records: ZoneRecord[], refusals: string[]): Slot[] {
    const domain = cf.hostnames[0];
    const at = (name: string, pred: (r: ZoneRecord) => boolean) => records.filter((r) => r.name === name && pred(r));
    const slots: Slot[] = [];
    for (const host of cf.hostnames) {
        const web = at(host, (r) => ["A", "AAAA", "CNAME"].includes(r.type));
        const parkedWeb = (i: number, was?: ZoneRecord) => {
            const type = was?.type ?? "AAAA";
            // No origin behind the name: addresses that go nowhere (TEST-NET-1, the IPv6 discard prefix); a
            // CNAME keeps its target (changing the type would replace the record) and is never reached.
            const content = type === "A" ? `192.0.2.${i + 1}` : type === "AAAA" ? `100::${i === 0 ? "" : (i + 1).toString(16)}` : was!.content;
            return { name: host, type, content, proxied: true, ttl: 1, comment: PARKED_COMMENT };
        };
        slots.push({ slot: host, web: true, current: web, parked: parkedWeb });
    }
    const mail = (
        key: string,
        name: string,
        pred: (r: ZoneRecord) => boolean,
        what: string,
        setting: string,
        value: Omit<PlannedRecord, "key" | "name" | "importId" | "proxied" | "ttl">,
    ) => {
        const current = at(name, pred);
        if (current.length > 1)
            refusals.push(
                `${name} has ${current.length} ${what} records (${current.map((r) => r.content).join(", ")}); parking replaces exactly one: delete the others, or set ${setting} to false`,
            );
        slots.push({
            slot: key,
            web: false,
            current: current.slice(0, 1),
            parked: () => ({ name, proxied: false, ttl: 1, comment: PARKED_COMMENT, ...value }),
        });
    };
    if (cf.nullMx) mail("mx", domain, (r) => r.type === "MX", "MX", "parkNullMx", { type: "MX", content: NULL_MX.content, priority: NULL_MX.priority });
    if (cf.spf) mail("spf", domain, (r) => r.type === "TXT" && /^v=spf1(\s|$)/i.test(unquote(r.content)), "SPF", "parkSpf", { type: "TXT", content: SPF_NONE });
    if (cf.dmarc)
        mail("dmarc", `_dmarc.${domain}`, (r) => r.type === "TXT" && /^v=DMARC1/i.test(unquote(r.content)), "DMARC", "parkDmarc", {
            type: "TXT",
            content: DMARC_REJECT,
        });
    return slots;
}

/** Does a route pattern cover this host (exactly, or by a leading wildcard)? */
function routeHost(pattern: string): string {
    return pattern
        .replace(/^https?:\/\//, "")
        .replace(/\/.*$/, "")
        .toLowerCase();
}
function covers(pattern: string, host: string): boolean {
    const h = routeHost(pattern);
    return h === host || (h.startsWith("*") && host.endsWith(h.slice(1)));
}

export function planEdge(input: EdgeInput): EdgeDecision<CloudflarePlan> {
    const { cf, zone, now } = input;
    const refusals: string[] = [];
    const z = zone.zone;
    if (!z) return { refusals: [`zone ${cf.zone} is not visible to cloudflareApiToken`] };
    const domain = cf.hostnames[0];
    const scriptName = workerName(domain);
    const id = (r: ZoneRecord) => `${z.id}/${r.id}`;
    const memoRecord = zone.records.find((r) => r.name === memoName(domain) && r.type === "TXT");
    let memo: Memo | undefined;
    try {
        memo = memoRecord ? decodeMemo(memoRecord.content) : undefined;
    } catch (err) {
        refusals.push(`${memoName(domain)}: ${(err as Error).message}; delete it if it is not the closure's`);
    }
    const slots = slotsOf(cf, zone.records, refusals);
    const ours = (pattern: string) => cf.hostnames.some((h) => pattern === `${h}/*`);

    if (!input.parked) {
        // Moved back: what parking replaced comes back, in place; what it added stays (never freed).
        if (!memo || !memoRecord) return { refusals };
        const records: PlannedRecord[] = memo.records.map(({ slot: _slot, id: wasId, key, ...values }) => {
            const there = zone.records.find((r) => r.id === wasId);
            return { key, ...values, ...(there ? { importId: id(there) } : {}) };
        });
        const routes: PlannedRoute[] = zone.routes
            .filter((r) => ours(r.pattern))
            .map((r) => ({
                key: routeHost(r.pattern),
                pattern: r.pattern,
                importId: `${z.id}/${r.id}`,
                ...scriptOf(memo!.routes.find((m) => m.pattern === r.pattern)),
            }));
        const restoredIds = new Set(memo.records.map((r) => r.id));
        const added = zone.records.filter((r) => r.comment === PARKED_COMMENT && !restoredIds.has(r.id));
        const kept = [
            `the Worker ${scriptName} (no route runs it any more)`,
            ...added.map((r) => `${r.name} ${r.type} ${r.type === "MX" ? `${r.priority} ` : ""}${r.content}`),
            `${memoName(domain)} TXT (what parking replaced)`,
        ];
        return {
            refusals,
            plan: {
                kind: "cloudflare",
                mode: "restored",
                zoneId: z.id,
                accountId: cf.accountId,
                scriptName,
                memo: memoPlan(unquote(memoRecord.content), memoRecord, id),
                routes,
                records,
                kept,
            },
        };
    }

    // Other Workers on the parked names would answer instead of the parking Worker (more specific routes win).
    for (const r of zone.routes) {
        const host = cf.hostnames.find((h) => covers(r.pattern, h));
        if (host && !ours(r.pattern)) {
            refusals.push(
                `the Worker route ${r.pattern}${r.script ? ` (Worker ${r.script})` : ""} covers ${host} and would answer instead of the parking Worker: delete it in the dashboard`,
            );
        }
    }

    // The records before parking: the memo's once parking began, else what the zone holds now.
    const before: Memo = memo ?? {
        records: slots.flatMap((s) => s.current.map((r, i) => ({ ...r, slot: s.slot, key: keyOf(s, i) }))),
        routes: zone.routes.filter((r) => ours(r.pattern)).map((r) => ({ pattern: r.pattern, ...scriptOf(r) })),
    };
    const records: PlannedRecord[] = [];
    for (const slot of slots) {
        const originals = before.records.filter((r) => r.slot === slot.slot);
        // Records of one type at one name must differ: the n-th of its type gets the n-th address.
        const nth = (i: number) => originals.slice(0, i).filter((o) => o.type === originals[i].type).length;
        const planned =
            originals.length > 0
                ? originals.map((was, i) => ({ key: was.key, ...slot.parked(nth(i), was), was }))
                : [{ key: keyOf(slot, 0), ...slot.parked(0), was: undefined }];
        for (const { was, ...p } of planned) {
            // Take over the record now at this place: the original (same id), or one parking made before.
            const there =
                zone.records.find((r) => r.id === was?.id) ?? zone.records.find((r) => r.name === p.name && r.type === p.type && r.content === p.content);
            records.push({ ...p, ...(there ? { importId: id(there) } : {}) });
        }
    }
    const memoContent = memoRecord ? unquote(memoRecord.content) : encodeMemo(before);
    if (!memoRecord && memoContent.length > TXT_MAX) {
        refusals.push(
            `the records parking replaces do not fit in one TXT record (${memoContent.length} of ${TXT_MAX} characters): park fewer hostnames (parkExtraHostnames)`,
        );
    }
    const routes: PlannedRoute[] = cf.hostnames.map((h) => {
        const now = zone.routes.find((r) => r.pattern === `${h}/*`);
        return { key: h, pattern: `${h}/*`, script: scriptName, ...(now ? { importId: `${z.id}/${now.id}` } : {}) };
    });
    const plan: CloudflarePlan = {
        kind: "cloudflare",
        mode: "parked",
        zoneId: z.id,
        accountId: cf.accountId,
        scriptName,
        memo: memoPlan(memoContent, memoRecord, id, domain),
        routes,
        records,
        kept: [],
    };
    if (cf.stopNginx) {
        // Resolvers may hand out the replaced records until their TTL runs out: nginx answers until then.
        const ttl = Math.max(AUTO_TTL, ...before.records.filter((r) => cf.hostnames.includes(r.slot)).map((r) => (r.ttl === 1 ? AUTO_TTL : r.ttl)));
        const notBefore = input.parkedSince ? new Date(new Date(input.parkedSince).getTime() + ttl * 1000) : undefined;
        plan.nginx =
            notBefore && notBefore <= now ? { stop: true } : { stop: false, notBefore: (notBefore ?? new Date(now.getTime() + ttl * 1000)).toISOString() };
    }
    return { plan, refusals };
}

function scriptOf(r: { script?: string } | undefined): { script?: string } {
    return r?.script ? { script: r.script } : {};
}

function memoPlan(content: string, current: ZoneRecord | undefined, id: (r: ZoneRecord) => string, domain?: string): PlannedRecord {
    return {
        key: "memo",
        name: current?.name ?? memoName(domain!),
        type: "TXT",
        content,
        proxied: false,
        ttl: 1,
        comment: "mastodon-closure: the records parking replaced, to restore them when moving back",
        ...(current ? { importId: id(current) } : {}),
    };
}
