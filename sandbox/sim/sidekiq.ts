// Sidekiq stand-in (unit mastodon-sidekiq). Its schedule is read at process start, as sidekiq-scheduler
// reads config/sidekiq.yml: vacuum_scheduler daily at a random minute between 03:00 and 05:59 (the ERB's
// Random.rand at boot); in self-destruct mode on 4.3+ the schedule is self_destruct_scheduler alone
// (config/initializers/sidekiq.rb), so vacuums stop. Tests enqueue a scheduled job now as the web UI's
// "Enqueue now" does (Sandbox.enqueueScheduledJob). Every tick:
//  - scheduled jobs that are due, and those enqueued by hand;
//  - jobs Rails enqueued (queue/): Admin::DistributeAnnouncementNotificationWorker mails the announcement
//    to every confirmed user of an unsuspended account (UserMailer#announcement_published, mail.log);
//  - BackupWorker: processes pending backups (processed = false);
//  - in self-destruct mode (4.3+, read at process start), where config/initializers/sidekiq.rb replaces the
//    whole schedule, Scheduler::SelfDestructScheduler: up to 50 local accounts not yet deleted and up to 50
//    with a deletion request each get one Delete delivery per known inbox, and are marked: suspended_at
//    (4.3 to 4.6; the deletion request of the second kind destroyed) or requested_deletion_at (4.7+, both
//    kinds' deletion requests destroyed);
//  - otherwise (the normal schedule), Scheduler::SuspendedUserCleanupScheduler: up to 10 deletion requests
//    older than DELAY_TO_DELETION (30 days) have their account's local data purged (DeleteAccountService
//    with reserve_username: statuses, archives, the user; the account row stays, suspended);
//  - ActivityPub::DeliveryWorker: works off a few hundred queued deliveries; deliveries
//    to FLAKY_DOMAIN fail once and go to the retry set, which succeeds later.
import * as fs from "node:fs";
import * as path from "node:path";
import { DELAY_TO_DELETION_DAYS } from "../../lib/mastodon/self-destruct";
import { versionAtLeast } from "../../lib/mastodon/version";
import { deleteBackup, processBackup } from "./backups";
import {
    db,
    INBOXES_SQL,
    MAIL_LOG,
    mastodonSetting,
    QUEUE_DIR,
    railsEnv,
    enqueuedSize,
    pushDeliveries,
    retrySize,
    selfDestructAtStart,
    simConfig,
    SIMDIR,
    sleep,
    updateState,
} from "./common";
import type { Client } from "pg";

const MAX_ACCOUNT_DELETIONS_PER_JOB = 50;
const MAX_DELETIONS_PER_JOB = 10; // SuspendedUserCleanupScheduler
const DELIVERIES_PER_TICK = 300;
const RETRY_AFTER_TICKS = 3;
const ENQUEUE_DIR = path.join(SIMDIR, "enqueue");

type Log = (s: string) => void;

/** Vacuum::BackupsVacuum with ContentRetentionPolicy#backups_retention_period: archives requested longer
 *  ago than the retention are destroyed, their files with them; no vacuum unless it is a positive integer. */
async function backupsVacuum(c: Client, env: Record<string, string>, log: Log): Promise<string> {
    const retention = await mastodonSetting(c, "backups_retention_period");
    if (!Number.isInteger(retention) || (retention as number) <= 0) return "backups_retention_period not set: no backup vacuumed";
    const gone = await c.query(`DELETE FROM backups WHERE created_at < now() - make_interval(days => $1) RETURNING id, dump_file_name`, [retention]);
    for (const b of gone.rows) await deleteBackup(env, b.id, b.dump_file_name);
    log(`Vacuum::BackupsVacuum retention=${retention}d destroyed=${gone.rows.length}`);
    return `${gone.rows.length} backup(s) older than ${retention} day(s) destroyed`;
}

/** Scheduler::VacuumScheduler, of which the sandbox simulates the backups vacuum. */
async function vacuumScheduler(c: Client, env: Record<string, string>, log: Log): Promise<string> {
    return backupsVacuum(c, env, log);
}

/** The next time a daily cron "M H * * *" fires after `from` (server time is UTC). */
function nextDaily(minute: number, hour: number, from: Date): Date {
    const at = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate(), hour, minute));
    if (at <= from) at.setUTCDate(at.getUTCDate() + 1);
    return at;
}

/** ActivityPub::MoveDistributionWorker#inboxes: (followers.inboxes + blocked_by.inboxes).uniq, Account.inboxes
 *  being each ActivityPub account's shared inbox, else its own. */
const MOVE_INBOXES_SQL = `SELECT DISTINCT COALESCE(NULLIF(a.shared_inbox_url, ''), a.inbox_url) AS inbox
  FROM accounts a
 WHERE a.protocol = 1
   AND (a.id IN (SELECT account_id FROM follows WHERE target_account_id = $1) OR a.id IN (SELECT account_id FROM blocks WHERE target_account_id = $1))`;

/** Jobs Rails enqueued with perform_async, oldest first. */
async function workQueue(c: Client, log: Log): Promise<void> {
    let files: string[] = [];
    try {
        files = fs
            .readdirSync(QUEUE_DIR)
            .filter((f) => f.endsWith(".json"))
            .sort();
    } catch {
        return;
    }
    for (const f of files) {
        const job = JSON.parse(fs.readFileSync(path.join(QUEUE_DIR, f), "utf8")) as { class: string; args: unknown[] };
        if (job.class === "Admin::DistributeAnnouncementNotificationWorker") {
            const [announcement] = (await c.query(`SELECT id FROM announcements WHERE id = $1`, [job.args[0]])).rows;
            // Announcement#scope_for_notification: User.confirmed.joins(:account).merge(Account.without_suspended)
            const users = announcement
                ? (
                      await c.query(
                          `SELECT u.email FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.confirmed_at IS NOT NULL AND a.suspended_at IS NULL ORDER BY u.id`,
                      )
                  ).rows
                : [];
            const at = new Date().toISOString();
            fs.appendFileSync(MAIL_LOG, users.map((u) => `${at} announcement_published ${u.email} announcement:${job.args[0]}\n`).join(""));
            log(`${job.class} announcement=${job.args[0]} mails=${users.length}`);
        } else if (job.class === "ActivityPub::MoveDistributionWorker") {
            // One Move per inbox of the moved account's followers and of those who block it (push_bulk).
            const [migration] = (await c.query(`SELECT account_id FROM account_migrations WHERE id = $1`, [job.args[0]])).rows;
            const inboxes: string[] = migration ? (await c.query(MOVE_INBOXES_SQL, [migration.account_id])).rows.map((r) => r.inbox) : []; // rescue ActiveRecord::RecordNotFound
            updateState((st) => pushDeliveries(st, "Move", inboxes));
            log(`${job.class} migration=${job.args[0]} deliveries=${inboxes.length}`);
        } else {
            log(`unknown job ${job.class}`);
        }
        fs.rmSync(path.join(QUEUE_DIR, f));
    }
}

async function main(): Promise<void> {
    const env = railsEnv();
    const cfg = simConfig();
    const selfDestruct = selfDestructAtStart(env);
    const logFile = path.join(SIMDIR, "sidekiq.log");
    const log = (s: string) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${s}\n`);
    let stopping = false;
    process.on("SIGTERM", () => {
        stopping = true;
    });
    process.on("SIGINT", () => {
        stopping = true;
    });
    log(`start pid=${process.pid} concurrency=25 self_destruct=${selfDestruct}`);
    const c = await db(env);
    // The schedule, as loaded at start.
    const replaced = selfDestruct && versionAtLeast(cfg.mastodonVersion, 4, 3);
    const vacuumAt = { minute: Math.floor(Math.random() * 60), hour: 3 + Math.floor(Math.random() * 3) };
    const schedule: Record<string, { next?: Date; run: () => Promise<string> }> = replaced
        ? { self_destruct_scheduler: { run: async () => "Scheduler::SelfDestructScheduler runs on every tick (below)" } }
        : { vacuum_scheduler: { next: nextDaily(vacuumAt.minute, vacuumAt.hour, new Date()), run: () => vacuumScheduler(c, env, log) } };
    log(`schedule ${replaced ? "self_destruct_scheduler every 1m" : `vacuum_scheduler cron '${vacuumAt.minute} ${vacuumAt.hour} * * *'`}`);
    const runSchedule = async () => {
        for (const [name, job] of Object.entries(schedule)) {
            if (job.next && job.next <= new Date()) {
                job.next = nextDaily(vacuumAt.minute, vacuumAt.hour, new Date());
                log(`scheduled ${name}: ${await job.run()}`);
            }
        }
        let asked: string[] = [];
        try {
            asked = fs.readdirSync(ENQUEUE_DIR).filter((f) => !f.endsWith(".result"));
        } catch {
            return;
        }
        for (const name of asked) {
            const job = schedule[name];
            const result = job
                ? { ran: true, message: await job.run() }
                : { ran: false, message: `${name} is not in Sidekiq's schedule (${Object.keys(schedule).join(", ")})` };
            log(`enqueue now ${name}: ${result.message}`);
            fs.writeFileSync(path.join(ENQUEUE_DIR, `${name}.result`), JSON.stringify(result));
            fs.rmSync(path.join(ENQUEUE_DIR, name), { force: true });
        }
    };
    while (!stopping) {
        const started = Date.now();
        try {
            await runSchedule();
            await workQueue(c, log);
            await tick(c, env, cfg.mastodonVersion, selfDestruct, log);
        } catch (e) {
            log(`error ${(e as Error).message}`);
        }
        const wait = cfg.sidekiqTickMs - (Date.now() - started);
        for (let t = 0; t < wait && !stopping; t += 50) await sleep(Math.min(50, wait - t));
    }
    log(`stop pid=${process.pid}`);
    await c.end();
    process.exit(0);
}

/** Admin::AccountDeletionWorker → DeleteAccountService (reserve_username: true): the account's local data
 *  goes (statuses, archives with their files, the user); the suspended account row stays. */
async function purgeAccount(c: import("pg").Client, env: Record<string, string>, accountId: string): Promise<number> {
    const backups = await c.query(`SELECT b.id, b.dump_file_name FROM backups b JOIN users u ON u.id = b.user_id WHERE u.account_id = $1`, [accountId]);
    for (const b of backups.rows) await deleteBackup(env, b.id, b.dump_file_name);
    await c.query("BEGIN");
    await c.query(`DELETE FROM statuses WHERE account_id = $1`, [accountId]);
    await c.query(`DELETE FROM users WHERE account_id = $1`, [accountId]);
    await c.query(`UPDATE accounts SET note = '', display_name = '', updated_at = now() WHERE id = $1`, [accountId]);
    await c.query(`DELETE FROM account_deletion_requests WHERE account_id = $1`, [accountId]);
    await c.query("COMMIT");
    return 1;
}

async function tick(c: import("pg").Client, env: Record<string, string>, version: string, selfDestruct: boolean, log: (s: string) => void): Promise<void> {
    // BackupWorker
    const pending = await c.query(`SELECT id FROM backups WHERE processed = false ORDER BY id`);
    let backups = 0;
    for (const b of pending.rows) {
        if (await processBackup(c, b.id, env)) backups++;
    }

    // SelfDestructScheduler, or the normal schedule's SuspendedUserCleanupScheduler
    let marked = 0;
    let withRequest = 0;
    let purged = 0;
    let deletes: string[] = [];
    let deletedAccounts = 0;
    if (selfDestruct) {
        deletes = (await c.query(INBOXES_SQL)).rows.map((r) => r.inbox);
        const era47 = versionAtLeast(version, 4, 7);
        // 4.7: Account#update!(requested_deletion_at:) then deletion_request&.destroy; before: suspended_at only
        const mark = era47 ? "requested_deletion_at = now()" : "suspended_at = now(), suspension_origin = 0";
        const notDeleted = era47 ? "requested_deletion_at IS NULL" : "suspended_at IS NULL";
        const requested = era47 ? "" : "AND a.suspended_at IS NOT NULL";
        await c.query("BEGIN");
        const first = await c.query(
            `UPDATE accounts SET ${mark}, updated_at = now()
       WHERE id IN (SELECT id FROM accounts WHERE domain IS NULL AND ${notDeleted} ORDER BY id LIMIT ${MAX_ACCOUNT_DELETIONS_PER_JOB})
       RETURNING id`,
        );
        if (era47) await c.query(`DELETE FROM account_deletion_requests WHERE account_id = ANY($1::bigint[])`, [first.rows.map((r) => r.id)]);
        const second = await c.query(
            `SELECT DISTINCT a.id FROM accounts a JOIN account_deletion_requests r ON r.account_id = a.id
       WHERE a.domain IS NULL ${requested} ORDER BY a.id LIMIT ${MAX_ACCOUNT_DELETIONS_PER_JOB}`,
        );
        const ids = second.rows.map((r) => r.id);
        if (ids.length) {
            await c.query(`UPDATE accounts SET ${mark}, updated_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
            await c.query(`DELETE FROM account_deletion_requests WHERE account_id = ANY($1::bigint[])`, [ids]);
        }
        await c.query("COMMIT");
        marked = first.rows.length;
        withRequest = ids.length;
        deletedAccounts = marked + withRequest;
    } else {
        const due = await c.query(
            `SELECT account_id FROM account_deletion_requests WHERE created_at < now() - interval '${DELAY_TO_DELETION_DAYS} days' ORDER BY id LIMIT ${MAX_DELETIONS_PER_JOB}`,
        );
        for (const r of due.rows) purged += await purgeAccount(c, env, r.account_id);
    }

    // DeliveryWorker: the retries that are due, then the push queue in its order (its flaky deliveries first)
    let enqueued = 0;
    const s = updateState((st) => {
        st.tick += 1;
        enqueued = pushDeliveries(st, "Delete", deletes, deletedAccounts);
        let budget = DELIVERIES_PER_TICK;
        for (const r of st.retry) {
            if (r.due <= st.tick && budget > 0) {
                const n = Math.min(r.n, budget);
                r.n -= n;
                budget -= n;
                st.delivered += n;
            }
        }
        st.retry = st.retry.filter((r) => r.n > 0);
        for (const batch of st.queue) {
            if (budget === 0) break;
            const work = Math.min(batch.n, budget);
            const failing = Math.min(batch.flaky, work);
            batch.n -= work;
            batch.flaky -= failing;
            budget -= work;
            st.delivered += work - failing;
            st.failed += failing;
            if (failing > 0) st.retry.push({ due: st.tick + RETRY_AFTER_TICKS, n: failing, activity: batch.activity });
        }
        st.queue = st.queue.filter((b) => b.n > 0);
    });
    log(
        `tick=${s.tick} backups=${backups} self_destruct=${selfDestruct} deleted=${marked} deletion_requests=${withRequest} purged=${purged} ` +
            `enqueued_now=${enqueued} enqueued=${enqueuedSize(s)} retry=${retrySize(s)} delivered=${s.delivered}`,
    );
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
