import * as pulumi from "@pulumi/pulumi";
import { StepAccess } from "../lib/host/access";
import { vhostAnswers } from "../lib/host/steps/vhost";
import { ORIGINAL_VHOST } from "../lib/host/records";
import { HostStep } from "../lib/provider/host-step";
import { renderVhost } from "../lib/gone/nginx";
import { OriginalVhost } from "../lib/gone/original-vhost";
import { GonePage } from "../lib/gone/page";
import { FrontMode } from "../lib/gone/contract";

export interface FrontProxyArgs {
    access: StepAccess;
    /** The nginx site file of the Mastodon vhost (default /etc/nginx/sites-available/mastodon). */
    site: string;
    /** What nginx answers; "original" keeps (or restores) the server's own vhost. */
    mode: FrontMode;
    domain: string;
    /** The server's own vhost as the host has it (the kept copy once the closure replaced it). */
    originalText: string;
    /** TLS and listen lines taken from the server's own vhost. */
    original: OriginalVhost;
    /** What the 410 page says. */
    page: GonePage;
    /** nginx must run on its host (ClosurePlan.nginxRunning): a stopped one is drift, started again. */
    nginxRunning: boolean;
}

/**
 * The front nginx: the server's own vhost, or the closure's 410 vhost, validated before every reload. The
 * site is declared at every stage, so a preview shows the vhost change as a line diff (add
 * --show-full-output for the whole file) and a refresh shows a hand edit of it as drift.
 */
export class FrontProxy extends pulumi.ComponentResource {
    readonly mode: FrontMode;

    constructor(name: string, args: FrontProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:FrontProxy", name, {}, opts);
        this.mode = args.mode;
        const mode = args.mode;
        const nginx = args.nginxRunning ? { nginx: "active" as const } : {};
        new HostStep(
            "nginxSite",
            `${name}-vhost`,
            {
                access: args.access,
                params:
                    mode === "original"
                        ? { site: args.site, domain: args.domain, mode: "original", content: args.originalText, ...nginx }
                        : {
                              site: args.site,
                              domain: args.domain,
                              mode: "gone",
                              content: renderVhost(mode, args.domain, args.original, args.page),
                              // With nginx stopped by the edge that answers instead, nothing is asked of it.
                              ...(args.nginxRunning ? { answers: vhostAnswers(mode === "gone-except-downloads"), ...nginx } : {}),
                          },
                about:
                    mode === "original"
                        ? `the server's own vhost at ${args.site} (put back from ${ORIGINAL_VHOST} when the closure had replaced it)`
                        : `nginx answers 410 Gone ${mode === "gone-everywhere" ? "on every path" : "except media, sign-in and archive downloads"}; the server's own vhost kept as ${ORIGINAL_VHOST}`,
            },
            { parent: this },
        );
        this.registerOutputs({ mode: args.mode, site: args.site });
    }
}
