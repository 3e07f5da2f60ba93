import * as pulumi from "@pulumi/pulumi";
import { StepAccess } from "../lib/host/access";
import { DumpManifest } from "../lib/host/steps/dump";
import { HostStep } from "../lib/provider/host-step";

export interface ServiceShutdownArgs {
    access: StepAccess;
    /** systemd units to stop and disable on the Mastodon host, in this order (Mastodon first, its stores last). */
    units: string[];
    /** PostgreSQL on a machine of its own: its units, stopped there after the Mastodon host's (none: only
     *  started again as its record there says). */
    databaseHostUnits?: string[];
    /** The verified dump the stop depends on, checked on the host again right before the first stop. */
    dump?: pulumi.Input<DumpManifest>;
}

/** Services stopped and disabled; moving back starts them again in reverse order, as they were found. */
export class ServiceShutdown extends pulumi.ComponentResource {
    readonly units: string[];

    constructor(name: string, args: ServiceShutdownArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:ServiceShutdown", name, {}, opts);
        const onDatabaseHost = args.databaseHostUnits;
        this.units = [...args.units, ...(onDatabaseHost ?? [])];
        const dump = args.dump ? pulumi.output(args.dump).apply((d) => ({ path: d.path, sha256: d.sha256, encrypted: d.encrypted })) : undefined;
        const onMastodonHost = (dependsOn: pulumi.Resource[]) =>
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
                { parent: this, dependsOn },
            );
        if (!onDatabaseHost) {
            onMastodonHost([]);
        } else {
            const databaseStep = (dependsOn: pulumi.Resource[]) =>
                new HostStep(
                    "stopServices",
                    `${name}-stopped-database`,
                    {
                        access: args.access,
                        params: { units: onDatabaseHost, dump, hostUnits: true, role: "database" },
                        about: onDatabaseHost.length
                            ? `stop and disable ${onDatabaseHost.join(", ")} on the database host${args.dump ? ", once the dump matches its sha256 on the Mastodon host" : ""}; started again on the way back`
                            : "start again on the database host, as they were found, the services the closure stopped there (its record on that host)",
                    },
                    { parent: this, dependsOn },
                );
            // PostgreSQL stops last, after Mastodon's processes, and starts again first: the order the engine
            // runs the two steps in is their dependency.
            if (args.units.length > 0) databaseStep([onMastodonHost([])]);
            else onMastodonHost([databaseStep([])]);
        }
        this.registerOutputs({ units: this.units });
    }
}
