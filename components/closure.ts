import * as pulumi from "@pulumi/pulumi";
import { HostFacts } from "../lib/rules/facts";
import { StepAccess } from "../lib/host/access";
import { Journal, JOURNAL_PATH, OWNER_RECORD } from "../lib/host/records";
import { HostStep } from "../lib/provider/host-step";
import { parseOriginalVhost } from "../lib/gone/original-vhost";
import { planOrThrow } from "../lib/rules/decide";
import { handOverOf } from "../lib/rules/owner";
import { ClosurePlan } from "../lib/rules/plan";
import { Settings } from "../lib/rules/settings";
import type { EdgeAt } from "../lib/edge/edges";
import { ArchiveRequests } from "./archives";
import { DatabaseDump } from "./database-dump";
import { declareEdge, EdgeComponent } from "./edge";
import { FrontProxy } from "./front-proxy";
import { LeavingLedger } from "./ledger";
import { ClosureNotice } from "./notice";
import { SelfDestruct } from "./self-destruct";
import { ServiceShutdown } from "./services";

export { unitOf } from "../lib/rules/plan";

/** The server's own vhost as the closure reads it; a shape it cannot close is refused naming the file. */
function parseVhostOf(site: string, text: string, domain: string) {
    try {
        return parseOriginalVhost(text, domain);
    } catch (e) {
        throw new Error(`${site}: ${(e as Error).message}`);
    }
}

export interface MastodonClosureArgs {
    settings: Settings;
    /** How the host steps reach the host, without the secrets (the provider reads them from the stack's config). */
    access: StepAccess;
    /** What the probe read on the host. */
    facts: HostFacts;
    /** The plan the program made (lib/rules/decide.ts), refusing nothing. Without it the component plans
     *  from the settings and facts, and throws the plan's refusals before declaring any child. */
    plan?: ClosurePlan;
    /** The server's own nginx vhost. */
    originalVhost: string;
    /** Also post the announcement as a public status (statusToken is set). Default false. */
    postPublicStatus?: boolean;
    now: Date;
    /** Parking at the configured edge (lib/edge/edges.ts readEdge): what it holds, and the provider holding
     *  its credentials. */
    edge?: EdgeAt;
}

/**
 * The whole closure of one Mastodon server at the stage in settings: each concern of the plan the program
 * made (lib/rules/plan.ts, lib/rules/decide.ts) a child component, in the order that keeps data safe (the 410 vhost before self-destruct,
 * the verified dump before the vhost closes sign-in and downloads and before any service stops, the edge answering before DNS moves),
 * and the host's journal last.
 */
export class MastodonClosure extends pulumi.ComponentResource {
    readonly plan: ClosurePlan;
    readonly notice?: ClosureNotice;
    readonly front: FrontProxy;
    readonly archives?: ArchiveRequests;
    readonly ledger?: LeavingLedger;
    readonly selfDestruct?: SelfDestruct;
    readonly dump?: DatabaseDump;
    readonly services?: ServiceShutdown;
    readonly edge?: EdgeComponent;
    /** The host's journal as written once every step of the stage held (every stage but the baseline). */
    readonly journal?: pulumi.Output<Journal>;
    /** One-way steps kept although the stage moved back before them. */
    readonly keptOneWay: string[];

    constructor(name: string, args: MastodonClosureArgs, opts?: pulumi.ComponentResourceOptions) {
        const { settings: s, access, facts } = args;
        // Before anything is declared: a plan that refuses declares nothing, not even this component.
        const plan = args.plan ?? planOrThrow(s, facts, args.now, args.edge?.facts);
        super("mastodon-closure:index:MastodonClosure", name, {}, opts);
        this.plan = plan;
        this.keptOneWay = plan.keptOneWay;
        const child = { parent: this };

        const original = parseVhostOf(s.nginxSite, args.originalVhost, s.domain);
        // adoptHost: a run with nothing else to change still takes the hosts over (the claim of its first change).
        const handOver = handOverOf(facts.owners ?? [], s.adoptHost);
        if (handOver) {
            const about = `the hosts' owner record (${OWNER_RECORD}) names this stack, handed over from ${handOver}`;
            new HostStep("handOver", `${name}-hand-over`, { access, params: { from: handOver }, about }, child);
        }
        if (plan.notice) {
            this.notice = new ClosureNotice(
                `${name}-notice`,
                {
                    access,
                    notice: {
                        domain: s.domain,
                        closingDate: s.closingDate!,
                        successor: s.successor,
                        language: s.language,
                        ownText: s.announcementText,
                        archivesByEmail: s.requestArchives,
                    },
                    reminderDaysBefore: s.reminderDaysBefore,
                    publicStatusBackend: args.postPublicStatus ? original.backend : undefined,
                    emailAnnouncement: plan.emailAnnouncement,
                    announcedAt: plan.notice.announcedAt,
                },
                child,
            );
        }

        const page = { domain: s.domain, closingDate: s.closingDate, successor: s.successor, language: s.language };
        const frontPage = { ...page, ...(plan.downloadsUntil ? { downloadsUntil: plan.downloadsUntil } : {}) };
        const declareFront = (after: pulumi.Resource[]) =>
            new FrontProxy(
                `${name}-front`,
                {
                    access,
                    site: s.nginxSite,
                    mode: plan.front,
                    domain: s.domain,
                    originalText: args.originalVhost,
                    original,
                    page: frontPage,
                    nginxRunning: plan.nginxRunning,
                },
                { ...child, dependsOn: after },
            );
        // At a stage that dumps, the front stops serving sign-in and downloads: it waits for the dump (and for
        // the steps the dump waits for), so a dump that fails (a full disk, a refused access) leaves users able
        // to take their data, and stops nothing. The archive requests and self-destruct there were done at
        // earlier stages, with a 410 vhost already served; self-destruct asks nginx on the host again when it acts.
        const frontAfterDump = plan.databaseDump;
        const front = frontAfterDump ? undefined : declareFront([]);

        if (plan.requestArchives) {
            this.archives = new ArchiveRequests(
                `${name}-archives`,
                { access, recentDays: plan.archiveRecentDays },
                { ...child, dependsOn: front ? [front] : [] },
            );
        }

        // After this stage's archive requests (its params follow them): the ledger shows them.
        if (plan.ledger) {
            this.ledger = new LeavingLedger(`${name}-ledger`, { access, ledger: plan.ledger, archives: this.archives }, child);
        }

        if (plan.selfDestruct) {
            this.selfDestruct = new SelfDestruct(
                `${name}-self-destruct`,
                { access, domain: s.domain, mastodonVersion: facts.mastodonVersion },
                // The announcement e-mail went out at an earlier stage: the plan refuses self-destruct until the host's record says so.
                { ...child, dependsOn: [...(front ? [front] : []), ...(this.archives ? [this.archives] : [])] },
            );
        }

        if (plan.databaseDump) {
            this.dump = new DatabaseDump(
                `${name}-dump`,
                { access, dir: s.dumpDir, retentionDays: s.dumpRetentionDays, ageRecipient: s.dumpAgeRecipient },
                { ...child, dependsOn: this.selfDestruct ? [this.selfDestruct] : [] },
            );
        }
        this.front = front ?? declareFront(this.dump ? [this.dump] : []);

        if (plan.stoppedUnits.length > 0 || (plan.stoppedOnDatabaseHost?.length ?? 0) > 0 || plan.restartStopped) {
            // Nothing stops before the dump it depends on is made and verified (and checked again on the host).
            this.services = new ServiceShutdown(
                `${name}-services`,
                { access, units: plan.stoppedUnits, databaseHostUnits: plan.stoppedOnDatabaseHost, dump: this.dump?.manifest },
                { ...child, dependsOn: [this.front, ...(this.dump ? [this.dump] : [])] },
            );
        }

        if (plan.edge && args.edge) {
            // The domain moves to the edge only once the host is dormant as this stage wants it.
            const before = [this.front, ...(this.services ? [this.services] : [])];
            this.edge = declareEdge(`${name}-edge`, { plan: plan.edge, at: args.edge, page, access }, { ...child, dependsOn: before });
        }

        if (plan.journal) {
            const done = [this.notice, this.front, this.archives, this.ledger, this.selfDestruct, this.dump, this.services, this.edge].filter(
                (r) => r !== undefined,
            ) as pulumi.Resource[];
            const journal = new HostStep(
                "journal",
                `${name}-journal`,
                {
                    access,
                    params: { stage: s.stage, closingDate: s.closingDate },
                    about: `the host's journal (${JOURNAL_PATH}) records stage "${s.stage}" once every step above holds`,
                },
                { ...child, dependsOn: done },
            );
            this.journal = journal.result;
        }

        this.registerOutputs({ stage: s.stage, front: plan.front, keptOneWay: this.keptOneWay, ...(this.edge ? { edge: this.edge.summary } : {}) });
    }
}
