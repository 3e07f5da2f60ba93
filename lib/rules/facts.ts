// What the probe read on the host (lib/host/probe.ts), as the rules decide from it. Pure data.
import type { LedgerCounts } from "./ledger";
import type { ObjectStorage } from "../mastodon/object-storage";
import type { HostOwner } from "./owner";
import type { Stage } from "./stages";
/** What the host told the probe. Database figures are absent while the database is stopped (dormant). */
export interface HostFacts {
    mastodonVersion: string;
    /** Stage the host reached last (journal on the host), the baseline (BASELINE_STAGE) when none was ever applied. */
    currentStage: Stage;
    /** When each stage was last entered from below (ISO times), from the host's journal. */
    reachedAt: Partial<Record<Stage, string>>;
    /** The host's clock minus the runner's, in ms (lib/rules/clock.ts): the rules go by the host's. */
    clockSkewMs?: number;
    /** 4.3+: Mastodon is in self-destruct mode (SELF_DESTRUCT verifies to LOCAL_DOMAIN); before 4.3: the
     *  legacy command was run (the journal says self-destructing was reached). */
    selfDestructEnabled: boolean;
    /** 4.3+: SELF_DESTRUCT is set but does not verify, so Mastodon is not in self-destruct mode. */
    selfDestructValueWrong?: boolean;
    /** Before 4.3 `tootctl self-destruct` deletes by itself and running it again would start over:
     *  progress is read from the database and Sidekiq (sidekiqDeliveries). */
    legacySelfDestruct: boolean;
    /** What Sidekiq has still to deliver (rails/sidekiq_deliveries.rb), read while a gate in view waits for it:
     *  the Deletes of the legacy self-destruct (before 4.3), the Moves of accounts that moved away (queued or
     *  to retry), and the Move distributions not run yet (each queues a Move per follower's inbox). */
    sidekiqDeliveries?: { delete: SidekiqWaiting; move: SidekiqWaiting; moveDistributions: number };
    /** Media and archives on object storage (S3_ENABLED=true in .env.production). */
    objectStorage?: ObjectStorage;
    database?: {
        pendingArchives: number;
        /** Archives finished in the last hour: the rate the estimates use. */
        archivesLastHour: number;
        /** Latest dump_updated_at of a processed archive. */
        lastArchiveFinishedAt?: string;
        /** When the last local account moved away (its AccountMigration: the Move went to its followers then). */
        lastMoveAt?: string;
        /** Local accounts that moved away (moved_to_account_id set). */
        movedAccounts?: number;
        /** Local accounts the version's self-destruct has still to send a Delete for (lib/mastodon/self-destruct.ts
         *  accountsLeftSql): before 4.3 not suspended; 4.3 to 4.6 as `tootctl self-destruct` counts them;
         *  4.7+ what SelfDestructScheduler still selects (no requested_deletion_at, or a deletion request). */
        accountsPendingDeletion: number;
        /** Local accounts self-destruct marked in the last 10 minutes (suspended_at; 4.7+ requested_deletion_at). */
        suspendedLast10Min: number;
        /** When the first of the local accounts' AccountDeletionRequests falls due: from then on, while
         *  Mastodon runs its normal schedule (not self-destruct mode), their local data is purged. */
        deletionRequestsDueFrom?: string;
        /** As the server resolves it: the settings row, else config/settings.yml's default. */
        registrationsMode: string;
        /** backups_retention_period as the server resolves it; unset: archives are never vacuumed. */
        backupsRetentionDays?: number;
        /** Who Admin::DistributeAnnouncementNotificationWorker e-mails: confirmed users of unsuspended accounts. */
        announcementEmailRecipients?: number;
        /** Every user who can sign in to download an archive, with their latest archive's request time. */
        latestArchiveByUser?: { username: string; requestedAt?: string }[];
    };
    /** When the closure e-mailed the announcement (its record on the host), if it did. */
    announcementEmailedAt?: string;
    /** Last line of `tootctl self-destruct` while in self-destruct mode. */
    selfDestructProgress?: string;
    /** The closing date the host's journal says was announced last. */
    announcedClosingDate?: string;
    /** The closure's record on the host of how it found the services it stopped: while it lists any, the
     *  move to dormant began, with its gates held then, even if the run that began it died; empty once the
     *  way back started them all again. */
    stoppedByClosure?: { unit: string; wasActive: boolean; wasEnabled: boolean }[];
    /** The ledger of who has left (lib/rules/ledger.ts), counts and digest only: as the host shows it now where
     *  the stage writes it (with what it was read from), else as last written on the host (LEDGER_PATH). */
    ledger?: LedgerFacts;
    /** The owner record of each host of the closure (the Mastodon host first; lib/rules/owner.ts). */
    owners?: HostOwner[];
}

/** ActivityPub::DeliveryWorker jobs of one activity: waiting in a queue, and in the retry set. */
export interface SidekiqWaiting {
    queued: number;
    retrying: number;
}

/** The ledger: its text's sha256 and counts; `readFrom` when it is to be written from the host's data now. */
export interface LedgerFacts {
    digest: string;
    counts: LedgerCounts;
    readFrom?: {
        /** The day the closure was announced (UTC): who signed in from then on has seen it. */
        announcedOn: string;
        /** nginx's access log on the proxy host; null when the site logs nothing. */
        accessLog: string | null;
    };
}
