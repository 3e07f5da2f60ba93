// Gates: the preconditions a stage needs before it is entered, decided from facts read on the host.
// Pure, so preview shows the same figures and the same refusal as up, and tests need no host.
import { Gate, Stage, STAGES, STAGE_TABLE, stageIndex } from "./stages";
import type { Settings } from "./settings";
import type { ZoneFacts } from "./zone";

const DAY_MS = 24 * 3600 * 1000;

/** What the host told the probe. Database figures are absent while the database is stopped (dormant). */
export interface HostFacts {
    mastodonVersion: string;
    /** Stage the host reached last (journal on the host), "operating" when none was ever applied. */
    currentStage: Stage;
    /** When each stage was last entered from below (ISO times), from the host's journal. */
    reachedAt: Partial<Record<Stage, string>>;
    /** SELF_DESTRUCT is in .env.production (4.3+), or the legacy command was run (before 4.3). */
    selfDestructEnabled: boolean;
    /** Before 4.3 `tootctl self-destruct` deletes by itself and running it again would start over:
     *  progress is read from the database only. */
    legacySelfDestruct: boolean;
    database?: {
        pendingArchives: number;
        /** Archives finished in the last hour: the rate the estimates use. */
        archivesLastHour: number;
        /** Latest dump_updated_at of a processed archive. */
        lastArchiveFinishedAt?: string;
        accountsPendingDeletion: number;
        /** Local accounts suspended in the last 10 minutes (self-destruct's pace). */
        suspendedLast10Min: number;
        registrationsMode: string;
    };
    /** Last line of `tootctl self-destruct` while in self-destruct mode. */
    selfDestructProgress?: string;
    /** The closing date the host's journal says was announced last. */
    announcedClosingDate?: string;
    /** How the closure found the services it began stopping (its record on the host), while they are
     *  stopped: the move to dormant began, with its gates held then, even if the run that began it died. */
    stoppedByClosure?: { unit: string; wasActive: boolean; wasEnabled: boolean }[];
}

export interface GateResult {
    gate: Gate;
    ok: boolean;
    /** The figure behind the decision, for preview and outputs. */
    figure: string;
}

const SENT_ALL = "Every deletion notice has been sent";

function daysBetween(fromIso: string, now: Date): number {
    return (now.getTime() - new Date(fromIso).getTime()) / DAY_MS;
}

/** When `left` things are done, at the pace of the last `minutes` (`done` in that time): words for a
 *  figure, "" when none is left. */
export function etaAtPace(left: number, done: number, minutes: number, what: string): string {
    if (left <= 0) return "";
    const window = minutes === 60 ? "the last hour" : `the last ${minutes} minutes`;
    if (done <= 0) return `; no ${what} in ${window}, so no estimate yet`;
    const eta = Math.ceil((left / done) * minutes);
    return `; about ${eta < 120 ? `${eta} min` : `${Math.ceil(eta / 60)} h`} left at the pace of ${window} (${done} ${what})`;
}

/** The day a gate counting `daysLeft` days holds. */
function holdsOn(daysLeft: number, now: Date): string {
    return new Date(now.getTime() + daysLeft * DAY_MS).toISOString().slice(0, 10);
}

/** The last day users can count on to sign in and download their archive: downloadGraceDays after the day
 *  the closure closed the server (today, when it is closing it now); none when there is no grace. The 410
 *  page promises it, and downloadGracePassed holds only once that day is over. */
export function downloadsUntil(facts: HostFacts, settings: Settings, now: Date): string | undefined {
    if (settings.downloadGraceDays === 0) return undefined;
    const closedAt = stageIndex(facts.currentStage) >= stageIndex("closed") && facts.reachedAt.closed ? new Date(facts.reachedAt.closed) : now;
    const day = Date.UTC(closedAt.getUTCFullYear(), closedAt.getUTCMonth(), closedAt.getUTCDate());
    return new Date(day + settings.downloadGraceDays * DAY_MS).toISOString().slice(0, 10);
}

/** `zone`: what the Cloudflare zone holds, read when parking on Cloudflare (lib/zone.ts). */
export function evaluateGate(gate: Gate, facts: HostFacts, settings: Settings, now: Date, zone?: ZoneFacts): GateResult {
    const db = facts.database;
    switch (gate) {
        case "closingDateReached": {
            const closing = new Date(`${settings.closingDate}T00:00:00Z`);
            const daysLeft = Math.ceil((closing.getTime() - now.getTime()) / DAY_MS);
            return {
                gate,
                ok: daysLeft <= 0,
                figure: daysLeft > 0 ? `${daysLeft} day(s) left until the closing date ${settings.closingDate}` : `closing date ${settings.closingDate} reached`,
            };
        }
        case "noPendingArchives":
            if (!db) return { gate, ok: false, figure: "database not readable" };
            return {
                gate,
                ok: db.pendingArchives === 0,
                figure: `${db.pendingArchives} archive(s) pending; ${db.archivesLastHour} finished in the last hour${etaAtPace(db.pendingArchives, db.archivesLastHour, 60, "archives")}`,
            };
        case "downloadGracePassed": {
            if (!db) return { gate, ok: false, figure: "database not readable" };
            // The 410 page told users they could download until that day, included.
            const until = facts.reachedAt.closed ? downloadsUntil(facts, settings, now) : undefined;
            if (until) {
                const left = Math.ceil((new Date(`${until}T00:00:00Z`).getTime() + DAY_MS - now.getTime()) / DAY_MS);
                const after = new Date(new Date(`${until}T00:00:00Z`).getTime() + DAY_MS).toISOString().slice(0, 10);
                if (left > 0) return { gate, ok: false, figure: `the 410 page tells users they can download their archive until ${until}; ${left} day(s) left (holds on ${after})` };
            }
            if (!db.lastArchiveFinishedAt) return { gate, ok: true, figure: "no archive was ever made" };
            const waited = daysBetween(db.lastArchiveFinishedAt, now);
            const left = Math.ceil(settings.downloadGraceDays - waited);
            return {
                gate,
                ok: waited >= settings.downloadGraceDays,
                figure:
                    left > 0
                        ? `last archive finished ${db.lastArchiveFinishedAt}; ${left} day(s) of the ${settings.downloadGraceDays}-day download grace left (holds on ${holdsOn(left, now)})`
                        : `last archive finished ${db.lastArchiveFinishedAt}; ${settings.downloadGraceDays}-day download grace passed`,
            };
        }
        case "deletionNoticesSent": {
            if (facts.legacySelfDestruct) {
                if (!db) return { gate, ok: false, figure: "database not readable" };
                return {
                    gate,
                    ok: facts.selfDestructEnabled && db.accountsPendingDeletion === 0,
                    figure: `${db.accountsPendingDeletion} account(s) pending deletion (legacy tootctl self-destruct: Sidekiq's deliveries are not counted)`,
                };
            }
            const progress = facts.selfDestructProgress ?? "self-destruct is not enabled";
            const pending = db ? `${db.accountsPendingDeletion} account(s) pending deletion; ` : "";
            const pace = db ? etaAtPace(db.accountsPendingDeletion, db.suspendedLast10Min, 10, "accounts suspended") : "";
            return { gate, ok: facts.selfDestructEnabled && progress.includes(SENT_ALL), figure: `${pending}${progress}${pace}` };
        }
        case "goneDaysPassed": {
            const since = facts.reachedAt.dormant;
            if (!since) return { gate, ok: false, figure: "the host never went dormant" };
            const left = Math.ceil(settings.goneDays - daysBetween(since, now));
            return {
                gate,
                ok: left <= 0,
                figure:
                    left > 0
                        ? `dormant since ${since}; ${left} day(s) of the ${settings.goneDays}-day 410 period left (holds on ${holdsOn(left, now)})`
                        : `dormant since ${since}; ${settings.goneDays}-day 410 period passed`,
            };
        }
        case "zoneOnAccount": {
            const cf = settings.cloudflare;
            if (!cf) return { gate, ok: true, figure: "no Cloudflare settings: DNS is left to do by hand" };
            const z = zone?.zone;
            if (!z) return { gate, ok: false, figure: `zone ${cf.zone} not found with cloudflareApiToken (check the zone's name and the token's Zone: Read permission)` };
            if (z.accountId !== cf.accountId) {
                return { gate, ok: false, figure: `zone ${z.name} (${z.id}) is on account ${z.accountId} ("${z.accountName}"), not on cloudflareAccountId ${cf.accountId}` };
            }
            if (z.status !== "active") {
                return { gate, ok: false, figure: `zone ${z.name} is ${z.status}, not active: Cloudflare does not answer for it yet (its nameservers are not Cloudflare's)` };
            }
            return { gate, ok: true, figure: `zone ${z.name} (${z.id}) is active on account ${z.accountId}` };
        }
    }
}

/** The stage the host is entering or in: a move to dormant whose stops began counts as dormant already. */
export function effectiveStage(facts: HostFacts): Stage {
    return facts.stoppedByClosure && stageIndex(facts.currentStage) < stageIndex("dormant") ? "dormant" : facts.currentStage;
}

/** The gates of `target`, evaluated; they only bind when the stage is being entered (moving forward). */
export function evaluateGates(target: Stage, facts: HostFacts, settings: Settings, now: Date, zone?: ZoneFacts): { results: GateResult[]; binding: boolean } {
    return {
        results: STAGE_TABLE[target].gates.map((g) => evaluateGate(g, facts, settings, now, zone)),
        binding: stageIndex(target) > stageIndex(effectiveStage(facts)),
    };
}

/** Days of notice below which preview warns: the Server Covenant of joinmastodon.org asks listed servers
 *  for three months. */
export const COVENANT_NOTICE_DAYS = 90;

/**
 * The closing date as announced: users must get a notice period. Entering `announced` (or moving the date
 * earlier while announced) needs it at least minimumNoticeDays ahead; moving it later is always allowed.
 * Returns the refusal, and a warning below the Covenant's 90 days.
 */
export function checkClosingDate(target: Stage, facts: HostFacts, settings: Settings, now: Date): { refusal?: string; warning?: string } {
    if (stageIndex(target) < stageIndex("announced") || !settings.closingDate) return {};
    const entering = stageIndex(facts.currentStage) < stageIndex("announced");
    const movedEarlier = !entering && facts.announcedClosingDate !== undefined && settings.closingDate < facts.announcedClosingDate;
    if (!entering && !movedEarlier) return {};
    // Whole calendar days (UTC) from today: today is 0, yesterday -1.
    const days = Math.round((Date.parse(`${settings.closingDate}T00:00:00Z`) - Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`)) / DAY_MS);
    const what = entering ? "announcing the closure" : `moving the closing date earlier than the announced ${facts.announcedClosingDate}`;
    if (days < settings.minimumNoticeDays) {
        return {
            refusal:
                `closingDate ${settings.closingDate} is ${days < 0 ? "in the past" : `${days} day(s) away`}: ${what} needs it at least ` +
                `${settings.minimumNoticeDays} day(s) ahead (minimumNoticeDays), so that users can export their data; set a later closingDate`,
        };
    }
    return days < COVENANT_NOTICE_DAYS
        ? { warning: `closingDate ${settings.closingDate} gives ${days} day(s) of notice; joinmastodon.org's Server Covenant asks listed servers for ${COVENANT_NOTICE_DAYS}` }
        : {};
}

/** What the stage after `stage` will need, in words, for the outputs. */
export function nextStageNeeds(stage: Stage): string {
    const next: Stage | undefined = STAGES[stageIndex(stage) + 1];
    if (!next) return "nothing: this is the last stage";
    const gates = STAGE_TABLE[next].gates;
    const extra = next === "self-destructing" ? ["confirmSelfDestruct set to the domain"] : [];
    const needs = [...gates, ...extra];
    return `stage "${next}" needs: ${needs.length ? needs.join(", ") : "no gate"}`;
}
