// Parking on Cloudflare, declared: the Worker, its routes and the DNS records of the plan
// (lib/edge/cloudflare/parking.ts). Loads the Cloudflare SDK: required only by components/edge/index.ts, when a
// plan parks there.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { HostStep } from "../../lib/provider/host-step";
import { StepAccess } from "../../lib/host/access";
import { NGINX_RECORD } from "../../lib/host/records";
import { isParked } from "../../lib/edge/edge";
import { CloudflarePlan, PlannedRecord } from "../../lib/edge/cloudflare/parking";
import { WORKER_COMPATIBILITY_DATE, WORKER_MAIN_MODULE, workerSource } from "../../lib/edge/cloudflare/worker";
import { GonePage, goneForGoodPage } from "../../lib/gone/page";

export interface EdgeParkingArgs {
    /** What to declare (lib/edge/cloudflare/parking.ts). */
    plan: CloudflarePlan;
    /** The Cloudflare provider, configured with the API token. */
    provider: pulumi.ProviderResource;
    /** The page the Worker answers with (lib/edge/cloudflare/worker.ts); parked only. */
    page: GonePage;
    /** To stop nginx on the host when plan.nginx says so. */
    access: StepAccess;
}

/**
 * The domain parked at Cloudflare's edge: the memo of what parking replaces, the Worker and its routes,
 * then the DNS records (so the domain is never without an answer), then nginx stopped if asked.
 *
 * Every Cloudflare resource is `retainOnDelete`, none `protect`: the parked name must survive a `pulumi
 * destroy` and a move back (nothing frees it), and both must still run. `protect` would make either fail
 * instead. Moving back restores in place what parking replaced (an update, never a delete), switches the
 * routes off and leaves the rest in the zone, which the outputs list.
 */
export class EdgeParking extends pulumi.ComponentResource {
    /** Says the host may be turned off, once the DNS records point at the Worker (parked only). */
    readonly hostMayBeTurnedOff?: pulumi.Output<string>;
    readonly summary: Record<string, unknown>;

    constructor(name: string, args: EdgeParkingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:EdgeParking", name, {}, opts);
        const { plan } = args;
        const parked = isParked(plan);
        const child = (importId: string | undefined, dependsOn: pulumi.Resource[]): pulumi.CustomResourceOptions => ({
            parent: this,
            provider: args.provider,
            retainOnDelete: true,
            dependsOn,
            ...(importId ? { import: importId } : {}),
        });
        const record = (r: PlannedRecord, dependsOn: pulumi.Resource[]) =>
            new cloudflare.DnsRecord(
                `${name}-dns-${r.key}`,
                {
                    zoneId: plan.zoneId,
                    name: r.name,
                    type: r.type,
                    content: r.content,
                    proxied: r.proxied,
                    ttl: r.ttl,
                    ...(r.priority !== undefined ? { priority: r.priority } : {}),
                    ...(r.comment ? { comment: r.comment } : {}),
                },
                child(r.importId, dependsOn),
            );

        // What the records held before parking is written before any of them changes.
        const memo = record(plan.memo, []);
        const worker = parked
            ? new cloudflare.WorkersScript(
                  `${name}-worker`,
                  {
                      accountId: plan.accountId,
                      scriptName: plan.scriptName,
                      content: workerSource(goneForGoodPage(args.page)),
                      mainModule: WORKER_MAIN_MODULE,
                      compatibilityDate: WORKER_COMPATIBILITY_DATE,
                  },
                  child(undefined, []),
              )
            : undefined;
        const route = (dependsOn: pulumi.Resource[]) =>
            plan.routes.map(
                (r) =>
                    new cloudflare.WorkersRoute(
                        `${name}-route-${r.key}`,
                        { zoneId: plan.zoneId, pattern: r.pattern, ...(r.script ? { script: r.script } : {}) },
                        child(r.importId, dependsOn),
                    ),
            );

        let records: cloudflare.DnsRecord[];
        if (parked) {
            // The Worker answers on every route before any record sends visitors to it.
            const routes = route([worker!]);
            records = plan.records.map((r) => record(r, [memo, ...routes]));
        } else {
            // Back: the records come back first, then the routes stop running the Worker.
            records = plan.records.map((r) => record(r, [memo]));
            route(records);
        }

        let nginxStopped = false;
        if (plan.nginx?.stop) {
            new HostStep(
                "stopServices",
                `${name}-nginx`,
                {
                    access: args.access,
                    params: { units: ["nginx"], record: NGINX_RECORD, hostUnits: true },
                    about: "stop and disable nginx on the host: Cloudflare answers for the domain now",
                },
                { parent: this, dependsOn: records },
            );
            nginxStopped = true;
        }
        if (parked) {
            const hosts = plan.routes.map((r) => r.pattern.replace(/\/\*$/, "")).join(", ");
            this.hostMayBeTurnedOff = pulumi
                .all(records.map((r) => r.id))
                .apply(() => `yes: Cloudflare answers 410 for ${hosts}${nginxStopped ? "; nginx on the host is stopped" : ""}`);
        }
        this.summary = {
            mode: plan.mode,
            zoneId: plan.zoneId,
            worker: plan.scriptName,
            routes: plan.routes.map((r) => `${r.pattern} -> ${r.script ?? "no Worker"}`),
            records: plan.records.map(
                (r) =>
                    `${r.name} ${r.type} ${r.priority !== undefined ? `${r.priority} ` : ""}${r.content}${r.proxied ? " (proxied)" : ""}${r.importId ? " (taken over)" : ""}`,
            ),
            ...(plan.nginx && !plan.nginx.stop
                ? {
                      nginx: `keeps answering until ${plan.nginx.notBefore} (the TTL of the records parking replaced); run pulumi up again after that to stop it`,
                  }
                : {}),
        };
        this.registerOutputs({ ...this.summary, hostMayBeTurnedOff: this.hostMayBeTurnedOff });
    }
}
