import * as pulumi from "@pulumi/pulumi";
import { effectiveStage, HostFacts } from "../lib/gates";
import { HostAccess, JOURNAL_PATH } from "../lib/host-steps";
import { HostStep } from "../lib/host-step-resource";
import { parseOriginalVhost } from "../lib/nginx";
import { Settings } from "../lib/settings";
import { ServiceRole, STAGE_TABLE, stageIndex } from "../lib/stages";
import { ArchiveRequests } from "./archives";
import { DatabaseDump } from "./database-dump";
import { FrontProxy } from "./front-proxy";
import { ClosureNotice } from "./notice";
import { SelfDestruct } from "./self-destruct";
import { ServiceShutdown } from "./services";

export interface MastodonClosureArgs {
    settings: Settings;
    /** SSH and database access; secret. */
    access: pulumi.Input<HostAccess>;
    /** What the probe read on the host. */
    facts: HostFacts;
    /** The server's own nginx vhost. */
    originalVhost: string;
    /** Also post the announcement as a public status (statusToken is set). Default false. */
    postPublicStatus?: boolean;
    now: Date;
}

/** systemd unit of each service role, as Mastodon's install guide names them. */
export function unitOf(role: ServiceRole, settings: Settings): string | undefined {
    const units: Record<ServiceRole, string | undefined> = {
        web: "mastodon-web",
        streaming: "mastodon-streaming",
        sidekiq: "mastodon-sidekiq",
        mail: settings.mailService,
        redis: "redis-server",
        postgresql: "postgresql",
    };
    return units[role];
}

/**
 * The whole closure of one Mastodon server at the stage in settings: each concern a child component,
 * declared from the stage table, in the order that keeps data safe (the 410 vhost before self-destruct,
 * the verified dump before any service stops), and the host's journal written last.
 */
export class MastodonClosure extends pulumi.ComponentResource {
    readonly notice?: ClosureNotice;
    readonly front: FrontProxy;
    readonly archives?: ArchiveRequests;
    readonly selfDestruct?: SelfDestruct;
    readonly dump?: DatabaseDump;
    readonly services?: ServiceShutdown;
    /** One-way steps kept although the stage moved back before them. */
    readonly keptOneWay: string[] = [];

    constructor(name: string, args: MastodonClosureArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:MastodonClosure", name, {}, opts);
        const { settings: s, access, facts } = args;
        const spec = STAGE_TABLE[s.stage];
        const child = { parent: this };

        const original = parseOriginalVhost(args.originalVhost);
        if (spec.announce) {
            this.notice = new ClosureNotice(
                `${name}-notice`,
                {
                    access,
                    notice: { domain: s.domain, closingDate: s.closingDate!, successor: s.successor, language: s.language, ownText: s.announcementText },
                    reminderDaysBefore: s.reminderDaysBefore,
                    publicStatusBackend: args.postPublicStatus ? original.backend : undefined,
                    // Re-announcing after moving back to operating counts from now, not from the first time.
                    announcedAt:
                        stageIndex(facts.currentStage) >= stageIndex("announced") && facts.reachedAt.announced
                            ? new Date(facts.reachedAt.announced)
                            : args.now,
                },
                child,
            );
        }

        this.front = new FrontProxy(
            `${name}-front`,
            {
                access,
                site: s.nginxSite,
                mode: spec.front,
                domain: s.domain,
                originalText: args.originalVhost,
                original,
                page: { domain: s.domain, closingDate: s.closingDate, successor: s.successor },
            },
            child,
        );

        if (spec.requestArchives && s.requestArchives) {
            this.archives = new ArchiveRequests(`${name}-archives`, { access, recentDays: s.archiveRecentDays }, { ...child, dependsOn: [this.front] });
        }

        // Kept below its stage only when the host really is in self-destruct mode: a journal alone never
        // turns it on.
        const selfDestructDone = facts.reachedAt["self-destructing"] !== undefined && facts.selfDestructEnabled;
        if (spec.selfDestruct || selfDestructDone) {
            if (!spec.selfDestruct) this.keptOneWay.push("self-destruct (SELF_DESTRUCT stays in .env.production: deletions cannot be called back)");
            this.selfDestruct = new SelfDestruct(
                `${name}-self-destruct`,
                { access, domain: s.domain, mastodonVersion: facts.mastodonVersion },
                { ...child, dependsOn: [this.front, ...(this.archives ? [this.archives] : [])] },
            );
        }

        if (spec.databaseDump) {
            this.dump = new DatabaseDump(
                `${name}-dump`,
                { access, dir: s.dumpDir, retentionDays: s.dumpRetentionDays, ageRecipient: s.dumpAgeRecipient },
                { ...child, dependsOn: this.selfDestruct ? [this.selfDestruct] : [] },
            );
        } else if (facts.reachedAt.dormant !== undefined && stageIndex(s.stage) < stageIndex("dormant")) {
            this.keptOneWay.push(`database dump (kept in ${s.dumpDir} until its retention date)`);
        }

        const units = spec.stopped.map((role) => unitOf(role, s)).filter((u): u is string => u !== undefined);
        // Also below dormant after a move to dormant that died half way (the host records services the closure
        // stopped, the journal never reached dormant): they start again as they were found, even when the run
        // that stopped them died before its step was recorded. (A finished dormant is undone by deleting the step.)
        if (units.length > 0 || effectiveStage(facts) !== facts.currentStage) {
            // Nothing stops before the dump it depends on is made and verified.
            this.services = new ServiceShutdown(
                `${name}-services`,
                { access, units, dump: this.dump?.manifest },
                { ...child, dependsOn: [this.front, ...(this.dump ? [this.dump] : [])] },
            );
        }

        if (s.stage !== "operating") {
            const done = [this.notice, this.front, this.archives, this.selfDestruct, this.dump, this.services].filter((r) => r !== undefined) as pulumi.Resource[];
            new HostStep(
                "journal",
                `${name}-journal`,
                {
                    access,
                    params: { stage: s.stage, closingDate: s.closingDate },
                    about: `the host's journal (${JOURNAL_PATH}) records stage "${s.stage}" once every step above holds`,
                },
                { ...child, dependsOn: done },
            );
        }

        this.registerOutputs({ stage: s.stage, front: spec.front, keptOneWay: this.keptOneWay });
    }
}
