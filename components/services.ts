import * as pulumi from "@pulumi/pulumi";
import { DumpManifest, HostAccess } from "../lib/host-steps";
import { HostStep } from "../lib/host-step-resource";

export interface ServiceShutdownArgs {
    access: pulumi.Input<HostAccess>;
    /** systemd units to stop and disable, in this order (Mastodon first, its stores last). */
    units: string[];
    /** The verified dump the stop depends on, checked on the host again right before the first stop. */
    dump?: pulumi.Input<DumpManifest>;
}

/** Services stopped and disabled; moving back starts them again in reverse order, as they were found. */
export class ServiceShutdown extends pulumi.ComponentResource {
    readonly units: string[];

    constructor(name: string, args: ServiceShutdownArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:ServiceShutdown", name, {}, opts);
        this.units = args.units;
        const dump = args.dump ? pulumi.output(args.dump).apply((d) => ({ path: d.path, sha256: d.sha256, encrypted: d.encrypted })) : undefined;
        new HostStep(
            "stopServices",
            `${name}-stopped`,
            {
                access: args.access,
                params: { units: args.units, dump },
                about: args.units.length
                    ? `stop and disable ${args.units.join(", ")} in this order${args.dump ? ", once the dump matches its sha256 on the host" : ""}; started again in reverse order on the way back`
                    : "start again, as they were found, the services the closure stopped (its record on the host)",
            },
            { parent: this },
        );
        this.registerOutputs({ units: args.units });
    }
}
