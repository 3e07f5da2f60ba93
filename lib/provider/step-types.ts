// The Pulumi type of each host step's resource, e.g. `pulumi-nodejs:dynamic/closure:NginxSite`: shown in
// preview, recorded in every stack's state (renaming one replaces its resources), and what the guard rails
// (policy/guard-rails.ts) look for. No runtime import: the policy pack loads this without the steps.
import type { StepKind } from "../host/steps";

/** What every host step's type starts with. */
export const STEP_TYPE_PREFIX = "pulumi-nodejs:dynamic/closure:";

/** The name of each step's type, after STEP_TYPE_PREFIX. */
export const STEP_TYPE_NAMES: Readonly<Record<StepKind, string>> = {
    nginxSite: "NginxSite",
    closeRegistrations: "Registrations",
    announcement: "Announcement",
    announcementEmail: "AnnouncementEmail",
    publicStatus: "PublicStatus",
    requestArchives: "ArchiveRequests",
    ledger: "LeavingLedger",
    selfDestruct: "SelfDestructMode",
    databaseDump: "DatabaseDump",
    stopServices: "StoppedServices",
    journal: "StageJournal",
    handOver: "HostHandOver",
};

/** The Pulumi type of a step's resource. */
export function stepType(kind: StepKind): string {
    return STEP_TYPE_PREFIX + STEP_TYPE_NAMES[kind];
}
