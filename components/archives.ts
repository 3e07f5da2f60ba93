import * as pulumi from "@pulumi/pulumi";
import { StepAccess } from "../lib/host/access";
import { HostStep } from "../lib/provider/host-step";

export interface ArchiveRequestsArgs {
    access: StepAccess;
    /** Users with an archive requested within this many days are skipped (default 6, Mastodon's own limit). */
    recentDays: number;
}

/** An archive requested for every user without a recent one, in one Rails boot for all of them. */
export class ArchiveRequests extends pulumi.ComponentResource {
    readonly requested: pulumi.Output<number>;
    /** How many, and when (lib/rules/after-run.ts: the outputs of the run that asked count them). */
    readonly result: pulumi.Output<{ requested: number; requestedAt?: string }>;

    constructor(name: string, args: ArchiveRequestsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:ArchiveRequests", name, {}, opts);
        const step = new HostStep(
            "requestArchives",
            `${name}-request`,
            {
                access: args.access,
                params: { recentDays: args.recentDays },
                about: `request an archive for every user without one requested in the last ${args.recentDays} day(s), in one Rails boot (rails/request_archives.rb)`,
            },
            { parent: this },
        );
        this.result = step.result;
        this.requested = step.result.apply((r) => r.requested);
        this.registerOutputs({ requested: this.requested });
    }
}
