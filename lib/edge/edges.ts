// The known edges: which one the settings configure (the one place that maps settings to an edge), how the
// program reads it, and the unions of their facts and plans. A new edge is its own folder here plus one
// entry in each of these. Imported by lib/rules (edgeOf), components (the unions) and the program (readEdge).
import type { Edge, EdgeAt as EdgeAtOf, SecretOf } from "./edge";
import { CLOUDFLARE, cloudflareEdge } from "./cloudflare/edge";
import type { CloudflarePlan } from "./cloudflare/parking";
import type { CloudflareSettings } from "./cloudflare/settings";
import { CloudflareFacts, readCloudflare } from "./cloudflare/zone";

/** The settings each edge is configured by (lib/rules/settings/ Settings has them). */
export interface EdgeSettings {
    cloudflare?: CloudflareSettings;
}

/** What an edge holds, read before planning; `kind` says which edge read it. */
export type EdgeFacts = CloudflareFacts;
/** What to declare at the edge; `kind` says which edge's component declares it. */
export type EdgePlan = CloudflarePlan;
/** The edge the settings configure, as the rules ask it. */
export type ConfiguredEdge = Edge<EdgeFacts, EdgePlan>;
/** What the program read for the edge, and the provider that declares it. */
export type EdgeAt = EdgeAtOf<EdgeFacts>;

/** The edges the closure knows, in words. */
export const KNOWN_EDGES: readonly string[] = [CLOUDFLARE];

function configured(settings: EdgeSettings): { edge: ConfiguredEdge; read: (secret: SecretOf) => Promise<EdgeAt> } | undefined {
    const cf = settings.cloudflare;
    if (cf) return { edge: cloudflareEdge(cf), read: (secret) => readCloudflare(cf, secret) };
    return undefined;
}

/** The edge the domain is parked at, if the settings configure one (else parking's DNS is left by hand). */
export function edgeOf(settings: EdgeSettings): ConfiguredEdge | undefined {
    return configured(settings)?.edge;
}

/** The configured edge's facts, read through a provider holding its credentials (made here, in preview too). */
export async function readEdge(settings: EdgeSettings, secret: SecretOf): Promise<EdgeAt | undefined> {
    return configured(settings)?.read(secret);
}
