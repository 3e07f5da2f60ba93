// What the Cloudflare zone holds, read before planning (in preview as in up) with the provider's own
// functions: the zone and its account, the records at the names parking touches, and the Worker routes.
// Read-only, like the probe of the host.
import * as pulumi from "@pulumi/pulumi";
import type { EdgeAt, SecretOf } from "../edge";
import type { CloudflareSettings } from "./settings";

/** A DNS record's values, as the zone holds them and as parking writes them. */
export interface DnsRecordValues {
    name: string;
    type: string;
    content: string;
    proxied: boolean;
    /** Seconds; 1 is Cloudflare's "automatic". */
    ttl: number;
    priority?: number;
    comment?: string;
}

export interface ZoneRecord extends DnsRecordValues {
    id: string;
}

export interface ZoneRoute {
    id: string;
    pattern: string;
    /** No script: Workers are off for the pattern. */
    script?: string;
}

export interface ZoneFacts {
    /** Absent when no zone of that name is visible to the token. */
    zone?: { id: string; name: string; accountId: string; accountName: string; status: string };
    /** Records at the names parking uses (parkingNames). */
    records: ZoneRecord[];
    routes: ZoneRoute[];
}

/** The facts of the edge (lib/edge/edges.ts EdgeFacts): what the zone holds. */
export interface CloudflareFacts {
    kind: "cloudflare";
    zone: ZoneFacts;
}

export const cloudflareFacts = (zone: ZoneFacts): CloudflareFacts => ({ kind: "cloudflare", zone });

/** The TXT record where parking keeps the records it replaced, so that moving back restores them. */
export function memoName(domain: string): string {
    return `_mastodon-closure.${domain}`;
}

/** Every DNS name parking reads and writes: the hostnames, DMARC's and the memo's. */
export function parkingNames(cf: CloudflareSettings): string[] {
    const domain = cf.hostnames[0];
    return [...cf.hostnames, `_dmarc.${domain}`, memoName(domain)];
}

export async function readZone(cf: CloudflareSettings, opts: pulumi.InvokeOptions): Promise<ZoneFacts> {
    // Loaded only here: the Cloudflare SDK takes a noticeable part of a run to load, and most runs never park.
    const cloudflare = await import("@pulumi/cloudflare");
    const zones = await cloudflare.getZones({ name: cf.zone }, opts);
    const found = zones.results.find((z) => z.name === cf.zone);
    if (!found) return { records: [], routes: [] };
    const zone = { id: found.id, name: found.name, accountId: found.account.id, accountName: found.account.name, status: found.status };
    const perName = await Promise.all(parkingNames(cf).map((name) => cloudflare.getDnsRecords({ zoneId: zone.id, name: { exact: name } }, opts)));
    const records = perName
        .flatMap((r) => r.results)
        .map((r): ZoneRecord => ({
            id: r.id,
            name: r.name,
            type: r.type,
            content: r.content,
            proxied: r.proxied,
            ttl: r.ttl,
            ...(r.type === "MX" ? { priority: r.priority } : {}),
            ...(r.comment ? { comment: r.comment } : {}),
        }));
    const routes = (await cloudflare.getWorkersRoutes({ zoneId: zone.id }, opts)).results.map((r): ZoneRoute => ({
        id: r.id,
        pattern: r.pattern,
        ...(r.script ? { script: r.script } : {}),
    }));
    return { zone, records, routes };
}

/** Parking on Cloudflare: the zone is read (in preview too) through a provider holding the token. (The SDK is
 *  loaded only then: it takes a noticeable part of a run to load.) */
export async function readCloudflare(cf: CloudflareSettings, secret: SecretOf): Promise<EdgeAt<CloudflareFacts>> {
    const provider = new (await import("@pulumi/cloudflare")).Provider("cloudflare", { apiToken: secret("cloudflareApiToken") });
    return { facts: cloudflareFacts(await readZone(cf, { provider })), provider };
}
