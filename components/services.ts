import * as pulumi from "@pulumi/pulumi";
import { HostAccess } from "../lib/host-steps";
import { HostStep } from "../lib/host-step-resource";

export interface ServiceShutdownArgs {
    access: pulumi.Input<HostAccess>;
    /** systemd units to stop and disable, in this order (Mastodon first, its stores last). */
    units: string[];
}

/** Services stopped and disabled; moving back starts them again in reverse order, as they were. */
export class ServiceShutdown extends pulumi.ComponentResource {
    readonly units: string[];

    constructor(name: string, args: ServiceShutdownArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:ServiceShutdown", name, {}, opts);
        this.units = args.units;
        new HostStep("stopServices", `${name}-stopped`, { access: args.access, params: { units: args.units } }, { parent: this });
        this.registerOutputs({ units: args.units });
    }
}
