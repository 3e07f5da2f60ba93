import * as pulumi from "@pulumi/pulumi";
import { HostAccess } from "../lib/host-steps";
import { HostStep } from "../lib/host-step-resource";
import { railsScript } from "../lib/rails-scripts";

export interface SelfDestructArgs {
    access: pulumi.Input<HostAccess>;
    domain: string;
    /** Mastodon's version: 4.3+ uses SELF_DESTRUCT, older ones the legacy `tootctl self-destruct`. */
    mastodonVersion: string;
}

/**
 * Mastodon's self-destruct. One-way: once enabled it stays declared in every stage, so moving back never
 * tries to take it away. The SELF_DESTRUCT value is a Pulumi secret.
 */
export class SelfDestruct extends pulumi.ComponentResource {
    readonly enabledAt: pulumi.Output<string>;

    constructor(name: string, args: SelfDestructArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:SelfDestruct", name, {}, opts);
        const step = new HostStep(
            "selfDestruct",
            `${name}-mode`,
            { access: args.access, params: { domain: args.domain, mastodonVersion: args.mastodonVersion, script: railsScript("self_destruct_value.rb") } },
            // A new Mastodon version must not re-run it: it is done once.
            { parent: this, secretResult: true, ignoreChanges: ["params.mastodonVersion"] },
        );
        this.enabledAt = pulumi.unsecret(step.result.apply((r) => r.enabledAt));
        this.registerOutputs({ enabledAt: this.enabledAt });
    }
}
