import * as pulumi from "@pulumi/pulumi";
import { StepAccess } from "../lib/host/access";
import { DumpManifest } from "../lib/host/steps/dump";
import { DUMP_SUBDIR } from "../lib/host/steps/dump-dir";
import { HostStep } from "../lib/provider/host-step";

export interface DatabaseDumpArgs {
    access: StepAccess;
    /** Directory on the host (default /var/backups/mastodon-closure): made by the closure (mode 700) when it is
     *  not there; one that is there keeps its owner and mode, and the dump goes in a subdirectory
     *  `mastodon-closure` of it that the closure makes. */
    dir: string;
    /** Days the dump is to be kept; recorded in its manifest (default 365). */
    retentionDays: number;
    /** age public key to encrypt the dump to (default: not encrypted). */
    ageRecipient?: string;
}

/** A verified pg_dump of the Mastodon database, kept when the stack moves back or is destroyed. */
export class DatabaseDump extends pulumi.ComponentResource {
    readonly manifest: pulumi.Output<DumpManifest>;

    constructor(name: string, args: DatabaseDumpArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:DatabaseDump", name, {}, opts);
        const step = new HostStep(
            "databaseDump",
            `${name}-file`,
            {
                access: args.access,
                params: { dir: args.dir, retentionDays: args.retentionDays, ageRecipient: args.ageRecipient, intact: true },
                about:
                    `pg_dump -Fc into ${args.dir} (into ${args.dir}/${DUMP_SUBDIR} when the closure did not make ${args.dir}: that one is left as found), checked with pg_restore --list, sha256 and manifest beside it` +
                    `${args.ageRecipient ? ", encrypted to the age recipient" : ""}; kept ${args.retentionDays} days and never deleted by the closure`,
            },
            { parent: this, retainOnDelete: true },
        );
        this.manifest = step.result;
        this.registerOutputs({ manifest: this.manifest });
    }
}
