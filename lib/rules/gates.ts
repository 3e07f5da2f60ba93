// Gates: the preconditions a stage needs before it is entered, decided from facts read on the host.
// Pure, so preview shows the same figures and the same refusal as up, and tests need no host.
import { DELAY_TO_DELETION_DAYS, selfDestructEra } from "../mastodon/self-destruct";
import {
    checksArchiveRetention,
    DOWNLOAD_GRACE_STAGE,
    DUMP_STAGE,
    Gate,
    GONE_EVERYWHERE_STAGE,
    needsClosingDate,
    needsSelfDestructConfirmation,
    nextStage,
    SELF_DESTRUCT_STAGE,
    Stage,
    STAGE_TABLE,
    stageIndex,
} from "./stages";
import { effectiveStage } from "./journal";
import type { Settings } from "./settings";
import type { ZoneFacts } from "../edge/cloudflare/zone";
import type { HostFacts } from "./facts";

const DAY_MS = 24 * 3600 * 1000;


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
    const grace = downloadGraceDays(settings, facts);
    if (grace === 0) return undefined;
    const closedSince = facts.reachedAt[DOWNLOAD_GRACE_STAGE];
    const closedAt = stageIndex(facts.currentStage) >= stageIndex(DOWNLOAD_GRACE_STAGE) && closedSince ? new Date(closedSince) : now;
    const day = Date.UTC(closedAt.getUTCFullYear(), closedAt.getUTCMonth(), closedAt.getUTCDate());
    return new Date(day + grace * DAY_MS).toISOString().slice(0, 10);
}

/** `zone`: what the Cloudflare zone holds, read when parking on Cloudflare (lib/edge/cloudflare/zone.ts). */
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
            const until = facts.reachedAt[DOWNLOAD_GRACE_STAGE] ? downloadsUntil(facts, settings, now) : undefined;
            if (until) {
                const left = Math.ceil((new Date(`${until}T00:00:00Z`).getTime() + DAY_MS - now.getTime()) / DAY_MS);
                const after = new Date(new Date(`${until}T00:00:00Z`).getTime() + DAY_MS).toISOString().slice(0, 10);
                if (left > 0) return { gate, ok: false, figure: `the 410 page tells users they can download their archive until ${until}; ${left} day(s) left (holds on ${after})` };
            }
            if (!db.lastArchiveFinishedAt) return { gate, ok: true, figure: "no archive was ever made" };
            const grace = downloadGraceDays(settings, facts);
            const waited = daysBetween(db.lastArchiveFinishedAt, now);
            const left = Math.ceil(grace - waited);
            return {
                gate,
                ok: waited >= grace,
                figure:
                    left > 0
                        ? `last archive finished ${db.lastArchiveFinishedAt}; ${left} day(s) of the ${grace}-day download grace left (holds on ${holdsOn(left, now)})`
                        : `last archive finished ${db.lastArchiveFinishedAt}; ${grace}-day download grace passed`,
            };
        }
        case "deletionNoticesSent":
            return deletionNoticesSent(facts);
        case "goneDaysPassed": {
            const since = facts.reachedAt[GONE_EVERYWHERE_STAGE];
            if (!since) return { gate, ok: false, figure: `the host never went ${GONE_EVERYWHERE_STAGE}` };
            const left = Math.ceil(settings.goneDays - daysBetween(since, now));
            return {
                gate,
                ok: left <= 0,
                figure:
                    left > 0
                        ? `${GONE_EVERYWHERE_STAGE} since ${since}; ${left} day(s) of the ${settings.goneDays}-day 410 period left (holds on ${holdsOn(left, now)})`
                        : `${GONE_EVERYWHERE_STAGE} since ${since}; ${settings.goneDays}-day 410 period passed`,
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
    if (era === "legacy") {
        if (!facts.selfDestructEnabled) return { gate, ok: false, figure: "the legacy tootctl self-destruct has not run" };
        if (!db) return { gate, ok: false, figure: "database not readable" };
        const d = facts.legacyDeliveries;
        const deliveries = d ? `Delete deliveries in Sidekiq: ${d.enqueued} queued, ${d.retrying} to retry` : "Sidekiq's Delete deliveries not read";
        const from = legacyPurgeFrom(facts);
        const purge = from ? `; Mastodon purges the suspended accounts' local data from ${from.slice(0, 10)} (deletion requests due 30 days after the command)` : "";
        return {
            gate,
            ok: db.accountsPendingDeletion === 0 && d !== undefined && d.enqueued === 0 && d.retrying === 0,
            figure: `${db.accountsPendingDeletion} local account(s) not suspended (legacy tootctl self-destruct); ${deliveries}${purge}`,
        };
    }
    const progress = facts.selfDestructProgress ?? (facts.selfDestructValueWrong ? "SELF_DESTRUCT does not verify: Mastodon is not in self-destruct mode" : "self-destruct is not enabled");
    const pending = db ? `${db.accountsPendingDeletion} account(s) pending deletion; ` : "";
    const pace = db ? etaAtPace(db.accountsPendingDeletion, db.suspendedLast10Min, 10, "accounts deleted") : "";
    const schedulerDone = era === "suspend" || !db || db.accountsPendingDeletion === 0;
    return { gate, ok: facts.selfDestructEnabled && progress.includes(SENT_ALL) && schedulerDone, figure: `${pending}${progress}${pace}` };
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
 * The closing date as announced: users must get a notice period. Announcing the closure (or moving the date
 * earlier once announced) needs it at least minimumNoticeDays ahead; moving it later is always allowed.
 * Returns the refusal, and a warning below the Covenant's 90 days.
 */
export function checkClosingDate(target: Stage, facts: HostFacts, settings: Settings, now: Date): { refusal?: string; warning?: string } {
    if (!needsClosingDate(target) || !settings.closingDate) return {};
    const entering = !needsClosingDate(facts.currentStage);
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
    const next = nextStage(stage);
    if (!next) return "nothing: this is the last stage";
    const gates = STAGE_TABLE[next].gates;
    const extra = needsSelfDestructConfirmation(next) && !needsSelfDestructConfirmation(stage) ? ["confirmSelfDestruct set to the domain"] : [];
    const needs = [...gates, ...extra];
    return `stage "${next}" needs: ${needs.length ? needs.join(", ") : "no gate"}`;
}

// --- archives and their retention ----------------------------------------------------------------------

/** Days of download grace when downloadGraceDays is not set and archives are never vacuumed. */
export const DEFAULT_DOWNLOAD_GRACE_DAYS = 7;

/** Whether Vacuum::BackupsVacuum still runs: daily, until 4.3+'s self-destruct mode replaces Sidekiq's
 *  schedule with SelfDestructScheduler alone (config/initializers/sidekiq.rb); never without a retention. */
export function archivesVacuumed(facts: HostFacts): boolean {
    return !!facts.database?.backupsRetentionDays && !(facts.selfDestructEnabled && !facts.legacySelfDestruct);
}

/** The download grace: downloadGraceDays as set; by default one day less than the server's archive
 *  retention (which counts from the request, the grace from the last archive finished: the day is for
 *  making them), or 7 days when archives are never vacuumed. */
export function downloadGraceDays(settings: Settings, facts: HostFacts): number {
    if (settings.downloadGraceDays !== undefined) return settings.downloadGraceDays;
    const retention = facts.database?.backupsRetentionDays;
    return retention ? Math.max(0, retention - 1) : DEFAULT_DOWNLOAD_GRACE_DAYS;
}

/**
 * The grace must fit in the retention: Mastodon deletes each archive backups_retention_period days after it
 * was requested, the grace counts downloadGraceDays from when the last one finished. Checked when a stage
 * that promises the last day to download or waits for it is entered (checksArchiveRetention); refused with
 * both numbers otherwise.
 */
export function checkArchiveRetention(target: Stage, facts: HostFacts, settings: Settings): { refusal?: string } {
    const retention = facts.database?.backupsRetentionDays;
    const entering = stageIndex(target) > stageIndex(effectiveStage(facts));
    if (!entering || !checksArchiveRetention(target) || !retention || !archivesVacuumed(facts)) return {};
    const grace = downloadGraceDays(settings, facts);
    if (retention >= grace + 1) return {};
    return {
        refusal:
            `downloadGraceDays is ${grace} day(s) but the server's user archive retention period (backups_retention_period) is ${retention} day(s): ` +
            `Mastodon's daily Vacuum::BackupsVacuum deletes each archive ${retention} day(s) after it was requested, so archives would be gone before ` +
            `the download grace ends. Raise "User archive retention period" to at least ${grace + 1} (Administration > Server settings > Content retention), ` +
            `or set downloadGraceDays to at most ${Math.max(0, retention - 1)}`,
    };
}

/** The recent-archive window the archive requests use: archiveRecentDays, narrowed so that a skipped
 *  user's recent archive still outlives the download grace (Mastodon deletes it retention days after its
 *  request; the closure's own archives finish at the earliest now). */
export function archiveRecentDays(settings: Settings, facts: HostFacts): number {
    const retention = facts.database?.backupsRetentionDays;
    if (!retention || !archivesVacuumed(facts)) return settings.archiveRecentDays;
    return Math.max(0, Math.min(settings.archiveRecentDays, retention - downloadGraceDays(settings, facts) - 1));
}

/** Names listed per day in the outputs; the rest are counted. */
const NAMES_PER_DAY = 20;

export interface ArchiveDownloads {
    retentionDays: number | null;
    /** How long archives are kept, in words. */
    kept: string;
    /** Day (UTC) until which each user can download their latest archive, at least: Vacuum::BackupsVacuum
     *  runs once a day (between 03:00 and 06:00 server time) and deletes the archives past retention. */
    until: Record<string, string[]>;
    /** Users who can sign in but have no archive (yet). */
    withoutArchive: string[];
}

function listed(names: string[]): string[] {
    return names.length > NAMES_PER_DAY ? [...names.slice(0, NAMES_PER_DAY), `and ${names.length - NAMES_PER_DAY} more`] : names;
}

/** Until when each user can download their archive, for the outputs. */
export function archiveDownloads(facts: HostFacts): ArchiveDownloads | undefined {
    const db = facts.database;
    if (!db) return undefined;
    const vacuumed = archivesVacuumed(facts);
    const byDay = new Map<string, string[]>();
    const users = db.latestArchiveByUser ?? [];
    for (const u of users) {
        if (!u.requestedAt) continue;
        const day = vacuumed ? new Date(Date.parse(u.requestedAt) + db.backupsRetentionDays! * DAY_MS).toISOString().slice(0, 10) : "until the host goes dormant";
        byDay.set(day, [...(byDay.get(day) ?? []), u.username]);
    }
    return {
        retentionDays: db.backupsRetentionDays ?? null,
        kept: vacuumed
            ? `${db.backupsRetentionDays} day(s) after each archive was requested (Vacuum::BackupsVacuum, daily)`
            : db.backupsRetentionDays
              ? "until the host goes dormant: self-destruct mode stopped the vacuums"
              : "until the host goes dormant: no retention period is set",
        until: Object.fromEntries([...byDay].map(([day, names]) => [day, listed(names)])),
        withoutArchive: listed(users.filter((u) => !u.requestedAt).map((u) => u.username)),
    };
}
