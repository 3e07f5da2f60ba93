import * as pulumi from "@pulumi/pulumi";
import { HostAccess } from "../lib/host-steps";
import { HostStep } from "../lib/host-step-resource";
import { GonePage, OriginalVhost, renderVhost } from "../lib/nginx";
import { FrontMode } from "../lib/stages";

export interface FrontProxyArgs {
    access: pulumi.Input<HostAccess>;
    /** The nginx site file of the Mastodon vhost (default /etc/nginx/sites-available/mastodon). */
    site: string;
    /** What nginx answers; "original" keeps (or restores) the server's own vhost. */
    mode: FrontMode;
    domain: string;
    /** TLS and listen lines taken from the server's own vhost. */
    original: OriginalVhost;
    /** What the 410 page says. */
    page: GonePage;
}

/** The front nginx: the server's own vhost, or the closure's 410 vhost, validated before every reload. */
export class FrontProxy extends pulumi.ComponentResource {
    readonly mode: FrontMode;

    constructor(name: string, args: FrontProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:FrontProxy", name, {}, opts);
        this.mode = args.mode;
        if (args.mode !== "original") {
            new HostStep(
                "nginxSite",
                `${name}-vhost`,
                { access: args.access, params: { site: args.site, content: renderVhost(args.mode, args.domain, args.original, args.page) } },
                { parent: this },
            );
        }
        this.registerOutputs({ mode: args.mode, site: args.site });
    }
}
