// A host step's state as the engine hands it to the dynamic-provider plugin, and how two are compared: what the
// plugin's handler (./handler.ts) needs for a diff, without the steps themselves (./run-steps.ts).
import type { HostAccess, StepAccess } from "../host/access";
import type { StepKind } from "../host/steps";
import type { OwnerClaim } from "../rules/owner";

export interface StepState {
    kind: StepKind;
    /** A step recorded before the secrets left the state holds a HostAccess; its next update records a StepAccess. */
    access: StepAccess | HostAccess;
    params: unknown;
    /** What the step does, in words, for the preview. Not compared: wording never re-applies a step. */
    about?: string;
    /** Who the run that made or last changed the step changes the hosts as (lib/host/lock.ts). Not compared. */
    owner?: OwnerClaim;
    result?: unknown;
}

/** JSON with sorted keys: state round-trips through the engine, which does not keep key order. */
export function canonical(value: unknown): string {
    return JSON.stringify(value, (_k, v) =>
        v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
    );
}
