// The edge the domain is parked at, declared: one function choosing the component by the plan's kind
// (lib/edge/edges.ts). Each edge's component is required only in its branch: an edge's SDK may be slow to
// load, and most runs never park. Imported by components/closure.ts.
import * as pulumi from "@pulumi/pulumi";
import type { EdgeAt, EdgePlan } from "../../lib/edge/edges";
import type { GonePage } from "../../lib/gone/page";
import type { StepAccess } from "../../lib/host/access";

/** What the closure reads of the edge's component, whichever edge it is. */
export interface EdgeComponent extends pulumi.Resource {
    /** Says the host may be turned off, once the edge answers for the domain (parked only). */
    readonly hostMayBeTurnedOff?: pulumi.Output<string>;
    /** What was declared at the edge, for the outputs. */
    readonly summary: Record<string, unknown>;
}

export interface EdgeArgs {
    /** What to declare (the plan's edge). */
    plan: EdgePlan;
    /** What the program read of the edge, and the provider holding its credentials. */
    at: EdgeAt;
    /** The page a gone domain answers with. */
    page: GonePage;
    /** To stop nginx on the host when the plan says so. */
    access: StepAccess;
}

export function declareEdge(name: string, args: EdgeArgs, opts: pulumi.ComponentResourceOptions): EdgeComponent {
    const { plan, at, page, access } = args;
    switch (plan.kind) {
        case "cloudflare": {
            // Required here only: the Cloudflare SDK it uses takes a noticeable part of a run to load.
            const { EdgeParking } = require("./cloudflare") as typeof import("./cloudflare");
            return new EdgeParking(name, { plan, provider: at.provider, page, access }, opts);
        }
    }
}
