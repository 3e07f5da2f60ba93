// Cloudflare as an edge (lib/edge/edge.ts): the zone ready for parking (the gate's figures), the plan
// (lib/edge/cloudflare/parking.ts), the manual steps when parked there and what moving back leaves in the zone.
// Pure. Imported by lib/edge/edges.ts only (the rules reach it through edgeOf).
import type { Edge } from "../edge";
import { CloudflarePlan, planEdge } from "./parking";
import type { CloudflareSettings } from "./settings";
import type { CloudflareFacts } from "./zone";

export const CLOUDFLARE = "Cloudflare";

export function cloudflareEdge(cf: CloudflareSettings): Edge<CloudflareFacts, CloudflarePlan> {
    return {
        name: CLOUDFLARE,
        ready(facts) {
            const z = facts?.zone.zone;
            if (!z)
                return { ok: false, figure: `zone ${cf.zone} not found with cloudflareApiToken (check the zone's name and the token's Zone: Read permission)` };
            if (z.accountId !== cf.accountId) {
                return {
                    ok: false,
                    figure: `zone ${z.name} (${z.id}) is on account ${z.accountId} ("${z.accountName}"), not on cloudflareAccountId ${cf.accountId}`,
                };
            }
            if (z.status !== "active") {
                return {
                    ok: false,
                    figure: `zone ${z.name} is ${z.status}, not active: Cloudflare does not answer for it yet (its nameservers are not Cloudflare's)`,
                };
            }
            return { ok: true, figure: `zone ${z.name} (${z.id}) is active on account ${z.accountId}` };
        },
        plan: ({ facts, ...input }) => planEdge({ cf, zone: facts.zone, ...input }),
        manualWhenParked: () => [
            "keep the domain registered and its Cloudflare zone active, with auto-renewal and a registrar lock: a new owner would inherit remote servers' caches (README: Parking on Cloudflare)",
            `then turn the Mastodon host off and delete it, once the output hostMayBeTurnedOff says Cloudflare answers for ${cf.hostnames.join(", ")}`,
        ],
        keptAfterMovingBack: (plan) => `parking on Cloudflare: stays in the zone, delete by hand if the domain is to work again: ${plan.kept.join("; ")}`,
    };
}
