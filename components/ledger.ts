import * as pulumi from "@pulumi/pulumi";
import { StepAccess } from "../lib/host/access";
import type { ArchiveRequests } from "./archives";
import { LEDGER_PATH } from "../lib/host/ledger";
import { HostStep } from "../lib/provider/host-step";
import type { LedgerCounts } from "../lib/rules/ledger";
import type { ClosurePlan } from "../lib/rules/plan";

export interface LeavingLedgerArgs {
    access: StepAccess;
    /** The ledger the plan wants: its counts and digest, and what it is read from when it is written now. */
    ledger: NonNullable<ClosurePlan["ledger"]>;
    /** The archive requests of this stage: the ledger is written again once they are made, as they change it. */
    archives?: ArchiveRequests;
}

/** Who has left, on the host for the admin (the list, mode 600) and in the outputs (the counts). */
export class LeavingLedger extends pulumi.ComponentResource {
    readonly counts: pulumi.Output<LedgerCounts>;
    readonly path = LEDGER_PATH;

    constructor(name: string, args: LeavingLedgerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:LeavingLedger", name, {}, opts);
        const { counts, readFrom } = args.ledger;
        const figures = `${counts.users} user(s) who can sign in: ${counts.moved} moved, ${counts.downloaded} downloaded an archive, ${counts.nothing} did nothing yet`;
        const step = new HostStep(
            "ledger",
            `${name}-ledger`,
            {
                access: args.access,
                params: {
                    ...args.ledger,
                    ...(args.archives ? { archivesRequestedAt: args.archives.result.apply((r) => r.requestedAt ?? null) } : {}),
                },
                about: readFrom
                    ? `the ledger of who has left written to ${LEDGER_PATH} (mode 600; usernames stay on the host): ${figures}`
                    : `the ledger of who has left kept in ${LEDGER_PATH} as last written: ${figures}`,
            },
            { parent: this },
        );
        // As written: this run's archive requests are in it.
        this.counts = step.result.apply((r: { counts?: LedgerCounts }) => r.counts ?? counts);
        this.registerOutputs({ path: this.path, counts: this.counts });
    }
}
