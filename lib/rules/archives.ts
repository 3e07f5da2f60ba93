// Archives and their retention: the download grace users are promised, whether Mastodon's vacuum deletes
// archives before it ends, which users to ask an archive for, and until when each can download theirs.
// Pure, like the gates that read them.
import { checksArchiveRetention, DOWNLOAD_GRACE_STAGE, Stage, stageIndex } from "./stages";
import { DAY_MS } from "./days";
import { entering } from "./journal";
import type { Settings } from "./settings";
import type { HostFacts } from "./facts";

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
    if (!entering(target, facts) || !checksArchiveRetention(target) || !retention || !archivesVacuumed(facts)) return {};
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

export interface ArchiveDownloads {
    retentionDays: number | null;
    /** How long archives are kept, in words. */
    kept: string;
    /** How many users can download their latest archive until each day (UTC), at least: Vacuum::BackupsVacuum
     *  runs once a day (between 03:00 and 06:00 server time) and deletes the archives past retention. Counts
     *  only: usernames never go into the outputs. */
    until: Record<string, number>;
    /** How many users can sign in but have no archive (yet). */
    withoutArchive: number;
}

/** Until when users can download their archives, counted per day for the outputs. */
export function archiveDownloads(facts: HostFacts): ArchiveDownloads | undefined {
    const db = facts.database;
    if (!db) return undefined;
    const vacuumed = archivesVacuumed(facts);
    const byDay = new Map<string, number>();
    const users = db.latestArchiveByUser ?? [];
    for (const u of users) {
        if (!u.requestedAt) continue;
        const day = vacuumed
            ? new Date(Date.parse(u.requestedAt) + db.backupsRetentionDays! * DAY_MS).toISOString().slice(0, 10)
            : "until the host goes dormant";
        byDay.set(day, (byDay.get(day) ?? 0) + 1);
    }
    return {
        retentionDays: db.backupsRetentionDays ?? null,
        kept: vacuumed
            ? `${db.backupsRetentionDays} day(s) after each archive was requested (Vacuum::BackupsVacuum, daily)`
            : db.backupsRetentionDays
              ? "until the host goes dormant: self-destruct mode stopped the vacuums"
              : "until the host goes dormant: no retention period is set",
        until: Object.fromEntries(byDay),
        withoutArchive: users.filter((u) => !u.requestedAt).length,
    };
}
