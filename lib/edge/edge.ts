// The edge seam: what the rules ask of whatever answers for the domain once it is parked (a DNS and edge
// provider, or a plain host answering 410), and the shape every edge's plan shares. Generic: no edge is
// named here. Each edge implements `Edge` in its own folder; lib/edge/edges.ts lists the known ones.
// Imported by the edges themselves, lib/edge/edges.ts, lib/rules, components and the program.
import type * as pulumi from "@pulumi/pulumi";

/** parked: the edge answers 410 for the domain; restored: moved back, what parking replaced is back.
 *  (The edge's own words, not stages: an edge never sees the stage, only whether to park.) */
export type EdgeMode = "parked" | "restored";

/** What every edge's plan has. */
export interface EdgePlanBase {
    /** Which edge made the plan (its facts have the same kind): the components declare it by this. */
    kind: string;
    mode: EdgeMode;
    /** What stays at the edge after moving back (left by hand). */
    kept: string[];
}

export const isParked = (plan: Pick<EdgePlanBase, "mode">): boolean => plan.mode === "parked";
export const isRestored = (plan: Pick<EdgePlanBase, "mode">): boolean => plan.mode === "restored";

/** Whether the edge is ready for parking, as its facts show: the gate's ok and its figure. */
export interface EdgeReadiness {
    ok: boolean;
    figure: string;
}

/** The plan of the edge, or refusals that name what to change. */
export interface EdgeDecision<Plan> {
    plan?: Plan;
    refusals: string[];
}

export interface EdgePlanInput<Facts> {
    /** What the edge holds, read before planning. */
    facts: Facts;
    /** Park (else: moved back, restore what parking replaced). */
    parked: boolean;
    /** When the host entered the parking stage (journal), if it is already there. */
    parkedSince?: string;
    now: Date;
}

/** One edge, as the rules see it: pure, given the facts read for it. */
export interface Edge<Facts extends { kind: string }, Plan extends EdgePlanBase> {
    /** Its name in words, e.g. "parking on <name>". */
    readonly name: string;
    /** Ready for parking (the gate edgeReady); facts absent when they could not be read. */
    ready(facts: Facts | undefined): EdgeReadiness;
    /** Park, or restore after moving back: what to declare, or refusals. */
    plan(input: EdgePlanInput<Facts>): EdgeDecision<Plan>;
    /** The manual steps at the parking stage with this edge, after the stage table's first (the dump). */
    manualWhenParked(): string[];
    /** What moving back leaves at the edge: one entry of keptOneWay. */
    keptAfterMovingBack(plan: Plan): string;
}

/** The Pulumi side of an edge: its facts, read (in preview too) through the provider holding its
 *  credentials, which then declares it. */
export interface EdgeAt<Facts> {
    facts: Facts;
    provider: pulumi.ProviderResource;
}

/** A secret of the stack's config, by key (the program's pulumi.Config#requireSecret). */
export type SecretOf = (key: string) => pulumi.Output<string>;
