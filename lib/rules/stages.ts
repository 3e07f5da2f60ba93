// The stage table: what each stage of the closure wants on the Mastodon host. Everything else (the
// components, the gates, the outputs) reads from here. Stages are entered one at a time, in order; going
// back undoes what can be undone, and the one-way steps stay done.
import type { FrontMode } from "../gone/contract";
import type { ServiceRole } from "../mastodon/deployment";

export const STAGES = ["operating", "announced", "closed", "self-destructing", "dormant", "parked"] as const;
export type Stage = (typeof STAGES)[number];

export function stageIndex(stage: Stage): number {
    return STAGES.indexOf(stage);
}

/** A precondition that must hold before a stage is entered. */
export type Gate =
    | "closingDateReached" //   today is on or after closingDate
    | "noPendingArchives" //    no row in backups with processed = false
    | "downloadGracePassed" //  downloadGraceDays since the last archive finished
    | "moveGracePassed" //      moveGraceDays since the last local account moved away
    | "deletionNoticesSent" //  `tootctl self-destruct` reports every deletion notice sent
    | "goneDaysPassed" //       goneDays since the host went dormant
    | "edgeReady"; //           with an edge configured (lib/edge/edges.ts): it is ready for parking

export interface StageSpec {
    summary: string;
    front: FrontMode;
    closeRegistrations: boolean;
    /** Server announcement and reminders before the closing date. */
    announce: boolean;
    /** The ledger of who has left (lib/rules/ledger.ts), on the host: "written" from what the host shows while
     *  users can still leave, "kept" as last written once self-destruct runs (accounts go, the database stops). */
    ledger: "none" | "written" | "kept";
    /** Archives requested for every user without a recent one (when requestArchives is set). */
    requestArchives: boolean;
    /** The 410 page promises a last day to download (downloadGraceDays after the day the server closed);
     *  the download grace counts from the day the first stage that promises it was entered. */
    lastDownloadDay: boolean;
    /** SELF_DESTRUCT in .env.production, Mastodon restarted. One-way. */
    selfDestruct: boolean;
    /** Verified pg_dump kept on the host. Kept (retained) when moving back. */
    databaseDump: boolean;
    stopped: ServiceRole[];
    /** With an edge configured (lib/edge/edges.ts), the domain answers 410 from the edge. */
    parkAtEdge: boolean;
    gates: Gate[];
    /** What is left to the operator, by hand. */
    manual: string[];
}

const ALL_STOPPED: ServiceRole[] = ["web", "streaming", "sidekiq", "mail", "redis", "postgresql"];

export const STAGE_TABLE: Record<Stage, StageSpec> = {
    operating: {
        summary: "baseline: the host is checked and reported, nothing changes",
        front: "original",
        closeRegistrations: false,
        announce: false,
        ledger: "none",
        requestArchives: false,
        lastDownloadDay: false,
        selfDestruct: false,
        databaseDump: false,
        stopped: [],
        parkAtEdge: false,
        gates: [],
        manual: [],
    },
    announced: {
        summary: "closure announced with its date and successor, reminders scheduled, registrations closed",
        front: "original",
        closeRegistrations: true,
        announce: true,
        ledger: "written",
        requestArchives: false,
        lastDownloadDay: false,
        selfDestruct: false,
        databaseDump: false,
        stopped: [],
        parkAtEdge: false,
        gates: [],
        manual: [],
    },
    closed: {
        summary: "410 Gone except media, sign-in and archive downloads; everything keeps running",
        front: "gone-except-downloads",
        closeRegistrations: true,
        announce: true,
        ledger: "written",
        requestArchives: true,
        lastDownloadDay: true,
        selfDestruct: false,
        databaseDump: false,
        stopped: [],
        parkAtEdge: false,
        gates: ["closingDateReached"],
        manual: [],
    },
    "self-destructing": {
        summary: "Mastodon's self-destruct sends every account's deletion to the servers that know it",
        front: "gone-except-downloads",
        closeRegistrations: true,
        announce: true,
        ledger: "kept",
        requestArchives: true,
        lastDownloadDay: false,
        selfDestruct: true,
        databaseDump: false,
        stopped: [],
        parkAtEdge: false,
        gates: ["noPendingArchives", "downloadGracePassed", "moveGracePassed"],
        manual: [],
    },
    dormant: {
        summary: "verified database dump kept; everything but nginx stopped; 410 Gone on every path",
        front: "gone-everywhere",
        closeRegistrations: true,
        announce: true,
        ledger: "kept",
        requestArchives: true,
        lastDownloadDay: false,
        selfDestruct: true,
        databaseDump: true,
        stopped: ALL_STOPPED,
        parkAtEdge: false,
        gates: ["deletionNoticesSent"],
        manual: ["copy the database dump off the host (its path and sha256 are in the outputs)"],
    },
    parked: {
        summary: "the domain keeps answering 410 and is never reused; the servers are no longer needed",
        front: "gone-everywhere",
        closeRegistrations: true,
        announce: true,
        ledger: "kept",
        requestArchives: true,
        lastDownloadDay: false,
        selfDestruct: true,
        databaseDump: true,
        stopped: ALL_STOPPED,
        parkAtEdge: true,
        gates: ["goneDaysPassed", "edgeReady"],
        manual: [
            "copy the database dump off the host if not done yet (path and sha256 in the outputs)",
            "point the domain's DNS at something that answers 410 Gone to every path (WebFinger and /users/* included) before turning this host off",
            "keep the domain registered: a new owner would inherit remote servers' caches",
            "then turn the Mastodon host off and delete it",
        ],
    },
};

/** Whether moving from the host's current stage to `target` is allowed: forward one stage at a time. */
export function checkTransition(current: Stage, target: Stage): string | undefined {
    const from = stageIndex(current);
    const to = stageIndex(target);
    if (to > from + 1) {
        return (
            `stage "${target}" skips ${STAGES.slice(from + 1, to)
                .map((s) => `"${s}"`)
                .join(", ")}: ` + `the host is at "${current}"; set stage to "${STAGES[from + 1]}" first`
        );
    }
    return undefined;
}

/** The first stage whose spec has what `has` asks, e.g. the stage that first announces the closure. */
export function firstStage(has: (spec: StageSpec) => boolean): Stage {
    const found = STAGES.find((s) => has(STAGE_TABLE[s]));
    if (!found) throw new Error("no stage in the table has what was asked");
    return found;
}

/** The baseline: nothing changed on the host, nothing recorded. */
export const BASELINE_STAGE: Stage = STAGES[0];

/** The closing date is required from the stage that announces it on. */
export const needsClosingDate = (stage: Stage): boolean => STAGE_TABLE[stage].announce;

/** The irreversible self-destruct needs confirmSelfDestruct from the stage that runs it on. */
export const needsSelfDestructConfirmation = (stage: Stage): boolean => STAGE_TABLE[stage].selfDestruct;

// --- the stages the rules count from, each found by what it does first ---------------------------------

/** Announces the closure first: the announcement and its reminders count from the day it was entered. */
export const ANNOUNCING_STAGE: Stage = firstStage((s) => s.announce);

/** Promises a last day to download first: the download grace counts from the day it was entered. */
export const DOWNLOAD_GRACE_STAGE: Stage = firstStage((s) => s.lastDownloadDay);

/** Runs the one-way self-destruct. */
export const SELF_DESTRUCT_STAGE: Stage = firstStage((s) => s.selfDestruct);

/** Makes the verified dump (kept when moving back below it). */
export const DUMP_STAGE: Stage = firstStage((s) => s.databaseDump);

/** Stops services: a move to it that died half way is finished (forward) or undone (back) by the next run. */
export const STOPPING_STAGE: Stage = firstStage((s) => s.stopped.length > 0);

/** Answers 410 on every path, media included: goneDays and the bucket's retention count from the day it was entered. */
export const GONE_EVERYWHERE_STAGE: Stage = firstStage((s) => s.front === "gone-everywhere");

/** Parks the domain at the edge (with an edge configured). */
export const PARKING_STAGE: Stage = firstStage((s) => s.parkAtEdge);

/** Stops the database: from then on the probe cannot read it. */
export const DATABASE_STOPPED_STAGE: Stage = firstStage((s) => s.stopped.includes("postgresql"));

/** The archives must outlive the download grace where it is promised and where self-destruct waits for it:
 *  entering such a stage checks the server's archive retention. */
export const checksArchiveRetention = (stage: Stage): boolean => STAGE_TABLE[stage].lastDownloadDay || STAGE_TABLE[stage].gates.includes("downloadGracePassed");

/** The stage after `stage`, if any. */
export function nextStage(stage: Stage): Stage | undefined {
    return STAGES[stageIndex(stage) + 1];
}
