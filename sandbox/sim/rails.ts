// bin/rails stand-in: only `bin/rails runner FILE`. The script is recognised by its
// basename (the closure ships these files); it reads one JSON object on stdin and
// prints one JSON line. Costs one Rails boot.
import * as fs from "node:fs";
import * as path from "node:path";
import {
    Activity,
    db,
    enqueuedSize,
    isSelfDestruct,
    performAsync,
    queuedJobs,
    railsBoot,
    railsEnv,
    readState,
    retrySize,
    selfDestructValue,
    simConfig,
} from "./common";
import type { Client } from "pg";

type Handler = (c: Client, input: Record<string, unknown>, env: Record<string, string>) => Promise<unknown>;

const SCRIPTS: Record<string, Handler> = {
    "announce.rb": async (c, input) => {
        const text = input.text;
        if (typeof text !== "string" || text.trim() === "") throw new Error("Validation failed: Text can't be blank");
        const scheduledAt = input.scheduled_at == null ? null : String(input.scheduled_at);
        const r =
            scheduledAt === null
                ? await c.query(
                      `INSERT INTO announcements (text, published, published_at, created_at, updated_at) VALUES ($1, true, now(), now(), now()) RETURNING id`,
                      [text],
                  )
                : await c.query(
                      `INSERT INTO announcements (text, published, scheduled_at, created_at, updated_at) VALUES ($1, false, $2::timestamptz AT TIME ZONE 'UTC', now(), now()) RETURNING id`,
                      [text, scheduledAt],
                  );
        return { id: Number(r.rows[0].id) };
    },
    "withdraw_announcement.rb": async (c, input) => {
        const r = await c.query(`DELETE FROM announcements WHERE id = $1`, [Number(input.id)]);
        return { deleted: (r.rowCount ?? 0) > 0 };
    },
    "request_archives.rb": async (c, input) => {
        const days = Number(input.recent_days ?? 7);
        const eligible = await c.query(
            `SELECT u.id, EXISTS (SELECT 1 FROM backups b WHERE b.user_id = u.id AND b.created_at > now() - make_interval(days => $1)) AS recent
         FROM users u JOIN accounts a ON a.id = u.account_id
        WHERE a.domain IS NULL AND a.suspended_at IS NULL AND NOT a.memorial AND u.confirmed_at IS NOT NULL ORDER BY u.id`,
            [days],
        );
        const todo = eligible.rows.filter((r) => !r.recent).map((r) => r.id);
        if (todo.length) {
            await c.query(`INSERT INTO backups (user_id, processed, created_at, updated_at) SELECT id, false, now(), now() FROM unnest($1::bigint[]) AS id`, [
                todo,
            ]);
        }
        return { requested: todo.length, skipped: eligible.rows.length - todo.length };
    },
    "self_destruct_value.rb": async (_c, _input, env) => ({ value: selfDestructValue(env.SECRET_KEY_BASE, env.LOCAL_DOMAIN), enabled: isSelfDestruct(env) }),
    // Deliveries are in sidekiq.json (it stands in for Redis), the jobs Rails enqueued in queue/.
    "sidekiq_deliveries.rb": async () => {
        const s = readState();
        const of = (activity: Activity) => ({ queued: enqueuedSize(s, activity), retrying: retrySize(s, activity) });
        return { delete: of("Delete"), move: of("Move"), move_distributions: queuedJobs("ActivityPub::MoveDistributionWorker") };
    },
    // Admin::Announcements::DistributionsController#create's work (4.4+): touch, then the worker.
    "distribute_announcement.rb": async (c, input) => {
        const [major, minor] = simConfig().mastodonVersion.split(".").map(Number);
        if (major < 4 || (major === 4 && minor < 4)) throw new Error("uninitialized constant Admin::DistributeAnnouncementNotificationWorker (NameError)");
        const [a] = (await c.query(`SELECT id, published, notification_sent_at FROM announcements WHERE id = $1`, [Number(input.id)])).rows;
        if (!a) throw new Error(`Couldn't find Announcement with 'id'=${input.id} (ActiveRecord::RecordNotFound)`);
        if (!a.published) throw new Error(`announcement ${a.id} is not published: only a published announcement can be e-mailed`);
        let sentAt: Date = a.notification_sent_at;
        const sentNow = sentAt === null;
        if (sentNow) {
            sentAt = (
                await c.query(`UPDATE announcements SET notification_sent_at = now(), updated_at = now() WHERE id = $1 RETURNING notification_sent_at`, [a.id])
            ).rows[0].notification_sent_at;
            performAsync("Admin::DistributeAnnouncementNotificationWorker", [Number(a.id)]);
        }
        const [n] = (
            await c.query(
                `SELECT count(*)::int AS n FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.confirmed_at IS NOT NULL AND a.suspended_at IS NULL`,
            )
        ).rows;
        return { sent_at: new Date(sentAt).toISOString(), recipients: n.n, sent_now: sentNow };
    },
};

async function readStdin(): Promise<string> {
    if (process.stdin.isTTY) return "";
    const chunks: Buffer[] = [];
    for await (const ch of process.stdin) chunks.push(ch as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<number> {
    const args = process.argv.slice(2);
    await railsBoot(`rails ${args.join(" ")}`);
    if (args[0] !== "runner" && args[0] !== "r") {
        process.stderr.write(`sandbox: bin/rails supports only "runner FILE" (got: ${args.join(" ") || "nothing"})\n`);
        return 1;
    }
    const file = args[1];
    if (!file) {
        process.stderr.write("Run `bin/rails runner --help` for usage.\n");
        return 1;
    }
    const base = path.basename(file);
    if (!fs.existsSync(file)) {
        process.stderr.write(
            `Please specify a valid ruby command or the path of a script to run.\nRun 'bin/rails runner -h' for help.\n\n${file}: No such file\n`,
        );
        return 1;
    }
    const handler = SCRIPTS[base];
    if (!handler) {
        process.stderr.write(`sandbox: unknown runner script "${base}" (the sandbox simulates: ${Object.keys(SCRIPTS).join(", ")})\n`);
        return 1;
    }
    const raw = (await readStdin()).trim();
    let input: Record<string, unknown> = {};
    if (raw) {
        try {
            input = JSON.parse(raw) as Record<string, unknown>;
        } catch (e) {
            process.stderr.write(`JSON::ParserError: ${(e as Error).message}\n`);
            return 1;
        }
    }
    const env = railsEnv();
    const c = await db(env);
    try {
        const out = await handler(c, input, env);
        process.stdout.write(JSON.stringify(out) + "\n");
        return 0;
    } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        return 1;
    } finally {
        await c.end();
    }
}

main().then(
    (code) => process.exit(code),
    (e) => {
        console.error(e);
        process.exit(1);
    },
);
