// Gates: the preconditions a stage needs before it is entered, decided from facts read on the host.
// Pure, so preview shows the same figures and the same refusal as up, and tests need no host.
import { DELAY_TO_DELETION_DAYS, selfDestructEra } from "../mastodon/self-destruct";
import {
    DOWNLOAD_GRACE_STAGE,
    DUMP_STAGE,
    firstStage,
    Gate,
    GONE_EVERYWHERE_STAGE,
    needsSelfDestructConfirmation,
    nextStage,
    SELF_DESTRUCT_STAGE,
    Stage,
    STAGE_TABLE,
} from "./stages";
import { downloadGraceDays, downloadsUntil } from "./archives";
import { DAY_MS, daysBetween, holdsOn } from "./days";
import { databaseStoppedByClosure, effectiveStage, entering, noDatabase } from "./journal";
import type { Settings } from "./settings";
import { EdgeFacts, edgeOf, KNOWN_EDGES } from "../edge/edges";
import type { HostFacts } from "./facts";

export interface GateResult {
    gate: Gate;
    ok: boolean;
    /** The figure behind the decision, for preview and outputs. */
    figure: string;
}

const SENT_ALL = "Every deletion notice has been sent";

/** When `left` things are done, at the pace of the last `minutes` (`done` in that time): words for a
 *  figure, "" when none is left. */
export function etaAtPace(left: number, done: number, minutes: number, what: string): string {
    if (left <= 0) return "";
    const window = minutes === 60 ? "the last hour" : `the last ${minutes} minutes`;
    if (done <= 0) return `; no ${what} in ${window}, so no estimate yet`;
    const eta = Math.ceil((left / done) * minutes);
    return `; about ${eta < 120 ? `${eta} min` : `${Math.ceil(eta / 60)} h`} left at the pace of ${window} (${done} ${what})`;
}

/** `edge`: what the configured edge holds, read when parking there (lib/edge/edges.ts). */
export function evaluateGate(gate: Gate, facts: HostFacts, settings: Settings, now: Date, edge?: EdgeFacts): GateResult {
    const db = facts.database;
    switch (gate) {
        case "closingDateReached": {
            // A day in UTC, by the host's clock (`now`, lib/rules/clock.ts): the gate opens at its 00:00 UTC.
            const closing = new Date(`${settings.closingDate}T00:00:00Z`);
            const daysLeft = Math.ceil((closing.getTime() - now.getTime()) / DAY_MS);
            const there = now.toISOString().slice(0, 16).replace("T", " ");
            return {
                gate,
                ok: daysLeft <= 0,
                figure:
                    daysLeft > 0
                        ? `${daysLeft} day(s) left until the closing date ${settings.closingDate}: the gate opens at ${settings.closingDate} 00:00 UTC by the host's clock (now ${there} UTC there)`
                        : `closing date ${settings.closingDate} reached: the gate opened at ${settings.closingDate} 00:00 UTC by the host's clock`,
            };
        }
        case "noPendingArchives":
            if (!db) return { gate, ok: false, figure: noDatabase(facts) };
            return {
                gate,
                ok: db.pendingArchives === 0,
                figure: `${db.pendingArchives} archive(s) pending; ${db.archivesLastHour} finished in the last hour${etaAtPace(db.pendingArchives, db.archivesLastHour, 60, "archives")}`,
            };
        case "downloadGracePassed": {
            if (!db) return { gate, ok: false, figure: noDatabase(facts) };
            // The 410 page told users they could download until that day, included.
            const until = facts.reachedAt[DOWNLOAD_GRACE_STAGE] ? downloadsUntil(facts, settings, now) : undefined;
            if (until) {
                const left = Math.ceil((new Date(`${until}T00:00:00Z`).getTime() + DAY_MS - now.getTime()) / DAY_MS);
                const after = new Date(new Date(`${until}T00:00:00Z`).getTime() + DAY_MS).toISOString().slice(0, 10);
                if (left > 0)
                    return {
                        gate,
                        ok: false,
                        figure: `the 410 page tells users they can download their archive until ${until}; ${left} day(s) left (holds on ${after})`,
                    };
            }
            if (!db.lastArchiveFinishedAt) return { gate, ok: true, figure: "no archive was ever made" };
            const since = db.lastArchiveFinishedAt;
            return daysAfter(gate, { since, days: downloadGraceDays(settings, facts), wait: "download grace", about: `last archive finished ${since}` }, now);
        }
        case "moveGracePassed":
            return moveGracePassed(facts, settings, now);
        case "deletionNoticesSent":
            return deletionNoticesSent(facts);
        case "goneDaysPassed": {
            const since = facts.reachedAt[GONE_EVERYWHERE_STAGE];
            if (!since) return { gate, ok: false, figure: `the host never went ${GONE_EVERYWHERE_STAGE}` };
            return daysAfter(gate, { since, days: settings.goneDays, wait: "410 period", about: `${GONE_EVERYWHERE_STAGE} since ${since}` }, now);
        }
        case "edgeReady": {
            const at = edgeOf(settings);
            if (!at) return { gate, ok: true, figure: `no ${KNOWN_EDGES.join(" or ")} settings: DNS is left to do by hand` };
            return { gate, ...at.ready(edge) };
        }
    }
}

/**
 * A Delete must not overtake a Move on a follower's server (it runs on a busier queue there): self-destruct
 * waits until Sidekiq has no Move left to deliver here, queued, to retry or still to fan out, and
 * `moveGraceDays` after the last local account moved away.
 */
function moveGracePassed(facts: HostFacts, settings: Settings, now: Date): GateResult {
    const gate: Gate = "moveGracePassed";
    const db = facts.database;
    if (!db) return { gate, ok: false, figure: noDatabase(facts) };
    if (!db.lastMoveAt) return { gate, ok: true, figure: "no local account has moved away" };
    const about = `${db.movedAccounts ?? 0} local account(s) moved away, the last at ${db.lastMoveAt}`;
    const why = "for its Move to reach every follower's server before a Delete";
    const grace = daysAfter(gate, { since: db.lastMoveAt, days: settings.moveGraceDays, wait: "move grace", about, why }, now);
    const d = facts.sidekiqDeliveries;
    if (!d) return { gate, ok: false, figure: `${grace.figure}; Sidekiq's Move deliveries not read` };
    const waiting = d.move.queued + d.move.retrying + d.moveDistributions;
    const moves = `Move deliveries in Sidekiq: ${d.move.queued} queued, ${d.move.retrying} to retry, ${d.moveDistributions} account(s) still to fan out`;
    return { gate, ok: grace.ok && waiting === 0, figure: `${grace.figure}; ${moves}` };
}

/** A gate that holds `days` after `since`: `about` what it counts from, then the days of the `wait` left (and
 *  `why` it is waited for) with the day it holds, or that the wait passed. */
function daysAfter(gate: Gate, w: { since: string; days: number; wait: string; about: string; why?: string }, now: Date): GateResult {
    const left = Math.ceil(w.days - daysBetween(w.since, now));
    return {
        gate,
        ok: left <= 0,
        figure:
            left > 0
                ? `${w.about}; ${left} day(s) of the ${w.days}-day ${w.wait} left${w.why ? `, ${w.why}` : ""} (holds on ${holdsOn(left, now)})`
                : `${w.about}; ${w.days}-day ${w.wait} passed`,
    };
}

/**
 * Every Delete has gone out, measured as the running version does its self-destruct (lib/mastodon/self-destruct.ts):
 *  - before 4.3: the legacy command ran, every local account is suspended and Sidekiq has no Delete
 *    delivery left, queued or to retry. Its deletion requests stay (they are what the purge 30 days later
 *    works from): the gate never waits for them;
 *  - 4.3 to 4.6: `tootctl self-destruct` says every deletion notice has been sent;
 *  - 4.7+: the same, and SelfDestructScheduler has no account left (its tootctl count leaves out
 *    suspended accounts the scheduler still sends a Delete for).
 */
function deletionNoticesSent(facts: HostFacts): GateResult {
    const gate: Gate = "deletionNoticesSent";
    const db = facts.database;
    const era = selfDestructEra(facts.mastodonVersion);
    // Once the stage of this gate stopped the database, nothing can be counted: the gate held when it was entered.
    const stage = firstStage((s) => s.gates.includes(gate));
    const held = facts.reachedAt[stage];
    if (databaseStoppedByClosure(facts) && facts.selfDestructEnabled && held) {
        const mode = era === "legacy" ? "the legacy tootctl self-destruct ran" : "self-destruct is enabled (SELF_DESTRUCT verifies)";
        return { gate, ok: true, figure: `held when ${stage} was entered (${held}); ${mode}; ${noDatabase(facts)}` };
    }
    if (era === "legacy") {
        if (!facts.selfDestructEnabled) return { gate, ok: false, figure: "the legacy tootctl self-destruct has not run" };
        if (!db) return { gate, ok: false, figure: noDatabase(facts) };
        const d = facts.sidekiqDeliveries?.delete;
        const deliveries = d ? `Delete deliveries in Sidekiq: ${d.queued} queued, ${d.retrying} to retry` : "Sidekiq's Delete deliveries not read";
        const from = legacyPurgeFrom(facts);
        const purge = from
            ? `; Mastodon purges the suspended accounts' local data from ${from.slice(0, 10)} (deletion requests due 30 days after the command)`
            : "";
        return {
            gate,
            ok: db.accountsPendingDeletion === 0 && d !== undefined && d.queued === 0 && d.retrying === 0,
            figure: `${db.accountsPendingDeletion} local account(s) not suspended (legacy tootctl self-destruct); ${deliveries}${purge}`,
        };
    }
    const progress = facts.selfDestructProgress ?? progressNotRead(facts);
    const pending = db ? `${db.accountsPendingDeletion} account(s) pending deletion; ` : "";
    const pace = db ? etaAtPace(db.accountsPendingDeletion, db.suspendedLast10Min, 10, "accounts deleted") : "";
    const schedulerDone = era === "suspend" || !db || db.accountsPendingDeletion === 0;
    return { gate, ok: facts.selfDestructEnabled && progress.includes(SENT_ALL) && schedulerDone, figure: `${pending}${progress}${pace}` };
}

/** 4.3+: what is known of self-destruct when `tootctl self-destruct` was not asked: whether it is on, as
 *  Mastodon decides it (SELF_DESTRUCT verifies to LOCAL_DOMAIN), and why its progress is not known. */
function progressNotRead(facts: HostFacts): string {
    if (!facts.selfDestructEnabled)
        return facts.selfDestructValueWrong ? "SELF_DESTRUCT does not verify: Mastodon is not in self-destruct mode" : "self-destruct is not enabled";
    if (!facts.database) return `self-destruct is enabled (SELF_DESTRUCT verifies); its progress is not read: ${noDatabase(facts)}`;
    return "self-destruct is enabled (SELF_DESTRUCT verifies); its progress is read by the next run (tootctl self-destruct)";
}

/**
 * Before 4.3, once the legacy command ran: when Mastodon begins purging the suspended accounts' local data.
 * The earliest deletion request on the host falls due then; the journal's time of the command counts too,
 * as a request is gone once its account is purged. Undefined when there is no request (never federated).
 */
function legacyPurgeFrom(facts: HostFacts): string | undefined {
    const fromRequests = facts.database?.deletionRequestsDueFrom;
    if (selfDestructEra(facts.mastodonVersion) !== "legacy" || !facts.selfDestructEnabled || !fromRequests) return undefined;
    const ran = facts.reachedAt[SELF_DESTRUCT_STAGE];
    const fromCommand = ran ? new Date(new Date(ran).getTime() + DELAY_TO_DELETION_DAYS * DAY_MS).toISOString() : undefined;
    return fromCommand && fromCommand < fromRequests ? fromCommand : fromRequests;
}

/** Days before the purge of suspended accounts (before 4.3) below which preview warns. */
export const PURGE_WARNING_DAYS = 7;

/**
 * Before 4.3 the legacy command leaves every account suspended with a deletion request, and Mastodon's
 * normal schedule purges each account's local data 30 days later. The dormant dump must be made before:
 * a warning once the first purge is less than PURGE_WARNING_DAYS away (or has begun) while no dump exists.
 */
export function purgeWarning(facts: HostFacts, now: Date): string | undefined {
    const due = legacyPurgeFrom(facts);
    if (!due || STAGE_TABLE[effectiveStage(facts)].databaseDump) return undefined;
    const days = (new Date(due).getTime() - now.getTime()) / DAY_MS;
    if (days >= PURGE_WARNING_DAYS) return undefined;
    return days <= 0
        ? `Mastodon has been purging the suspended accounts' local data since ${due} (deletion requests of the legacy tootctl self-destruct, due after 30 days): the dump made when ${DUMP_STAGE} is entered holds only what is left. Enter ${DUMP_STAGE} now`
        : `Mastodon begins purging the suspended accounts' local data on ${due} (deletion requests of the legacy tootctl self-destruct, due after 30 days): enter ${DUMP_STAGE} before then, so that its dump holds that data`;
}

/** The gates of `target`, evaluated; they only bind when the stage is being entered (moving forward). */
export function evaluateGates(target: Stage, facts: HostFacts, settings: Settings, now: Date, edge?: EdgeFacts): { results: GateResult[]; binding: boolean } {
    return {
        results: STAGE_TABLE[target].gates.map((g) => evaluateGate(g, facts, settings, now, edge)),
        binding: entering(target, facts),
    };
}

/** What the stage after `stage` will need, in words, for the outputs. */
export function nextStageNeeds(stage: Stage): string {
    const next = nextStage(stage);
    if (!next) return "nothing: this is the last stage";
    const gates = STAGE_TABLE[next].gates;
    const extra = needsSelfDestructConfirmation(next) && !needsSelfDestructConfirmation(stage) ? ["confirmSelfDestruct set to the domain"] : [];
    const needs = [...gates, ...extra];
    return `stage "${next}" needs: ${needs.length ? needs.join(", ") : "no gate"}`;
}
