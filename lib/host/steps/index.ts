// Every host step by kind (lib/host/steps/step.ts says what a step is), and the host each one acts on. The
// dynamic provider (lib/provider/) runs them by kind; a step's kind is recorded in every stack's state.
import { HostRole } from "../../mastodon/deployment";
import { requestArchives } from "./archives";
import { databaseDump } from "./dump";
import { handOver } from "./hand-over";
import { journal } from "./journal";
import { ledger } from "./ledger";
import { announcement, announcementEmail, publicStatus } from "./notices";
import { closeRegistrations } from "./registrations";
import { selfDestruct } from "./self-destruct";
import { StopParams, stopRole, stopServices } from "./services";
import { nginxSite } from "./vhost";

export type { Step } from "./step";

export const STEPS = {
    nginxSite,
    closeRegistrations,
    announcement,
    announcementEmail,
    publicStatus,
    requestArchives,
    ledger,
    selfDestruct,
    databaseDump,
    stopServices,
    journal,
    handOver,
};

export type StepKind = keyof typeof STEPS;

/** The host a step acts on: nginx's vhost on the proxy, a stop where its units are, the rest on the
 *  Mastodon host (its files, commands, database connection and the closure's records). */
export function roleOfStep(kind: StepKind, params: unknown): HostRole {
    if (kind === "nginxSite") return "proxy";
    if (kind === "stopServices") return stopRole(params as StopParams);
    return "app";
}
