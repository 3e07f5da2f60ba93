// The plan: which concerns the stage has, decided in pure code from the settings, what the probe saw on
// the host and (when parking at an edge) what the edge holds. The components only turn it into
// resources (components/closure.ts); its refusals come last in the decision (lib/rules/decide.ts), which the
// program throws before declaring anything.
import { serviceOf, ServiceRole } from "../mastodon/deployment";
import { archiveRecentDays, downloadsUntil } from "./archives";
import { announcedAtOf } from "./notice";
import { HostFacts, LedgerFacts } from "./facts";
import { versionAtLeast } from "../mastodon/version";
import { bucketManualStep, BucketPlan, planBucket } from "../mastodon/object-storage";
import { isRestored } from "../edge/edge";
import { EdgeFacts, edgeOf, EdgePlan } from "../edge/edges";
import type { Settings } from "./settings";
import { BASELINE_STAGE, DUMP_STAGE, GONE_EVERYWHERE_STAGE, PARKING_STAGE, SELF_DESTRUCT_STAGE, Stage, STAGE_TABLE, StageSpec } from "./stages";
import { FrontMode } from "../gone/contract";

export interface ClosurePlan {
    stage: Stage;
    spec: StageSpec;
    /** Announcement and reminders, counted from when the stage was first reached. */
    notice?: { announcedAt: Date };
    front: FrontMode;
    /** nginx runs on its host (the proxy's), as the front needs at every stage; false only once the edge that
     *  answers for the domain has stopped it (stopNginxWhenParked). */
    nginxRunning: boolean;
    /** The last day to download the 410 page promises, while the stage promises one (lastDownloadDay) and the
     *  grace is not nil (lib/rules/archives.ts downloadsUntil); once self-destruct runs, no date is promised. */
    downloadsUntil?: string;
    requestArchives: boolean;
    /** The ledger of who has left on the host (LedgerFacts' counts and digest; written now or kept). */
    ledger?: LedgerFacts & { domain: string };
    /** Users with an archive requested within this many days are not asked again (lib/rules/archives.ts archiveRecentDays). */
    archiveRecentDays: number;
    /** The announcement e-mailed to every user, once (emailAnnouncement, 4.4+), from the announcing stage on. */
    emailAnnouncement: boolean;
    /** In self-destruct mode: the stage wants it, or it is kept (one-way) below its stage. */
    selfDestruct: boolean;
    databaseDump: boolean;
    /** Services stopped on the Mastodon host, in order (systemd units or compose services, as the deployment
     *  runs them). */
    stoppedUnits: string[];
    /** PostgreSQL on a machine of its own (databaseSshHost): its units stopped there, after the Mastodon
     *  host's; absent when one host runs everything. */
    stoppedOnDatabaseHost?: string[];
    /** Below dormant, on a host where the closure has stopped services (its record on the host): the stop is
     *  declared with no units, which starts them again as they were found, whether the move back is whole or
     *  a move to dormant died half way (even before the run that stopped them recorded its step). */
    restartStopped: boolean;
    /** Media and archives on object storage: the bucket, kept; from dormant on until a retention date. */
    bucket?: BucketPlan;
    /** Parking at the configured edge (lib/edge/edges.ts): parked, or restored after moving back. */
    edge?: EdgePlan;
    /** The host's journal records the stage (every stage but the baseline). */
    journal: boolean;
    /** One-way steps (and what parking leaves at the edge) kept although the stage moved back. */
    keptOneWay: string[];
    /** Refusals: the stage cannot be reached as set; nothing may be declared. */
    refusals: string[];
    /** What is left to the operator, by hand. */
    manual: string[];
}

/** The service of each role where Mastodon runs (lib/mastodon/deployment.ts). */
export function unitOf(role: ServiceRole, settings: Settings): string | undefined {
    return serviceOf(settings.deployment, role);
}

/** Whether the configured edge has to be read: parking now, or moved back after parking (to restore). */
export function needsEdgeFacts(settings: Settings, facts: HostFacts): boolean {
    return edgeOf(settings) !== undefined && (STAGE_TABLE[settings.stage].parkAtEdge || facts.reachedAt[PARKING_STAGE] !== undefined);
}

/** `edgeFacts`: what the configured edge holds, read when needsEdgeFacts says so. */
export function planClosure(settings: Settings, facts: HostFacts, now: Date, edgeFacts?: EdgeFacts): ClosurePlan {
    const s = settings;
    const spec = STAGE_TABLE[s.stage];
    const onDatabaseHost = (role: ServiceRole) => role === "postgresql" && s.splitHosts?.database !== undefined;
    const unitsOf = (roles: ServiceRole[]) => roles.map((role) => unitOf(role, s)).filter((u): u is string => u !== undefined);
    const keptOneWay: string[] = [];
    const refusals: string[] = [];

    const announcedAt = announcedAtOf(facts, now);

    // Kept below its stage only when the host really is in self-destruct mode: a journal alone never turns it on.
    const selfDestructDone = facts.reachedAt[SELF_DESTRUCT_STAGE] !== undefined && facts.selfDestructEnabled;
    if (!spec.selfDestruct && selfDestructDone) keptOneWay.push("self-destruct (SELF_DESTRUCT stays in .env.production: deletions cannot be called back)");

    if (!spec.databaseDump && facts.reachedAt[DUMP_STAGE] !== undefined) {
        keptOneWay.push(`database dump (kept in ${s.dumpDir} until its retention date)`);
    }

    // The e-mail reaches the users of unsuspended accounts only: it must go before self-destruct suspends them.
    const emailAnnouncement = s.emailAnnouncement && spec.announce;
    if (emailAnnouncement && !versionAtLeast(facts.mastodonVersion, 4, 4)) {
        refusals.push(
            `emailAnnouncement needs Mastodon 4.4 or later (Admin::DistributeAnnouncementNotificationWorker); this host runs ${facts.mastodonVersion}: remove the setting (pulumi config rm mastodon-closure:emailAnnouncement)`,
        );
    } else if (emailAnnouncement && spec.selfDestruct && !facts.announcementEmailedAt) {
        refusals.push(
            STAGE_TABLE[facts.currentStage].selfDestruct
                ? "emailAnnouncement: self-destruct has begun suspending the accounts the announcement e-mail would reach, and it was never sent: remove the setting"
                : `emailAnnouncement: the announcement was never e-mailed, and self-destruct suspends the accounts it would reach: ` +
                      `run up at stage "${facts.currentStage}" with emailAnnouncement set first (it sends it), or remove the setting`,
        );
    }

    const at = edgeOf(s);
    let edge: EdgePlan | undefined;
    if (at && edgeFacts && needsEdgeFacts(s, facts)) {
        const decision = at.plan({
            facts: edgeFacts,
            parked: spec.parkAtEdge,
            parkedSince: STAGE_TABLE[facts.currentStage].parkAtEdge ? facts.reachedAt[PARKING_STAGE] : undefined,
            now,
        });
        refusals.push(...decision.refusals);
        edge = decision.plan;
        if (edge && isRestored(edge)) keptOneWay.push(at.keptAfterMovingBack(edge));
    }

    // The bucket's retention counts from the day the host went gone everywhere, media included (this run,
    // when it goes now).
    const goneSince = spec.front === "gone-everywhere" ? new Date(facts.reachedAt[GONE_EVERYWHERE_STAGE] ?? now) : undefined;
    const bucket = facts.objectStorage ? planBucket(facts.objectStorage, goneSince, s.bucketRetentionDays) : undefined;

    const stageManual = spec.parkAtEdge && at && edge ? [spec.manual[0], ...at.manualWhenParked()] : spec.manual;
    const until = spec.lastDownloadDay ? downloadsUntil(facts, s, now) : undefined;
    const manual = bucket?.keptUntil ? [...stageManual, bucketManualStep(bucket)] : stageManual;

    return {
        stage: s.stage,
        spec,
        notice: spec.announce ? { announcedAt } : undefined,
        front: spec.front,
        nginxRunning: edge?.nginx?.stop !== true,
        ...(until ? { downloadsUntil: until } : {}),
        requestArchives: spec.requestArchives && s.requestArchives,
        ...(spec.ledger !== "none" && facts.ledger ? { ledger: { domain: s.domain, ...facts.ledger } } : {}),
        archiveRecentDays: archiveRecentDays(s, facts),
        emailAnnouncement,
        selfDestruct: spec.selfDestruct || selfDestructDone,
        databaseDump: spec.databaseDump,
        stoppedUnits: unitsOf(spec.stopped.filter((role) => !onDatabaseHost(role))),
        ...(s.splitHosts?.database ? { stoppedOnDatabaseHost: unitsOf(spec.stopped.filter(onDatabaseHost)) } : {}),
        restartStopped: spec.stopped.length === 0 && facts.stoppedByClosure !== undefined,
        ...(bucket ? { bucket } : {}),
        edge,
        journal: s.stage !== BASELINE_STAGE,
        keptOneWay,
        refusals,
        manual,
    };
}
