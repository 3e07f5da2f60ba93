// Sidekiq stand-in (unit mastodon-sidekiq). Every tick:
//  - BackupWorker: processes pending backups (processed = false);
//  - in self-destruct mode (read at process start), Scheduler::SelfDestructScheduler:
//    suspends up to 50 unsuspended local accounts and up to 50 suspended ones with a
//    deletion request, enqueuing one Delete delivery per known inbox per account;
//  - ActivityPub::DeliveryWorker: works off a few hundred queued deliveries; deliveries
//    to FLAKY_DOMAIN fail once and go to the retry set, which succeeds later.
import * as fs from "node:fs";
import * as path from "node:path";
import { db, FLAKY_DOMAIN, INBOXES_SQL, isSelfDestruct, processBackup, railsEnv, retrySize, simConfig, SIMDIR, sleep, updateState } from "./common";

const MAX_ACCOUNT_DELETIONS_PER_JOB = 50;
const DELIVERIES_PER_TICK = 300;
const RETRY_AFTER_TICKS = 3;

async function main(): Promise<void> {
  const env = railsEnv();
  const cfg = simConfig();
  const selfDestruct = isSelfDestruct(env);
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
  while (!stopping) {
    const started = Date.now();
    try {
      await tick(c, env, selfDestruct, log);
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

async function tick(c: import("pg").Client, env: Record<string, string>, selfDestruct: boolean, log: (s: string) => void): Promise<void> {
  // BackupWorker
  const pending = await c.query(`SELECT id FROM backups WHERE processed = false ORDER BY id`);
  let backups = 0;
  for (const b of pending.rows) {
    if (await processBackup(c, b.id, env)) backups++;
  }

  // SelfDestructScheduler
  let suspended = 0;
  let deleted = 0;
  let enqueued = 0;
  let flakyEnqueued = 0;
  if (selfDestruct) {
    const inboxes: string[] = (await c.query(INBOXES_SQL)).rows.map((r) => r.inbox);
    const flaky = inboxes.filter((i) => i.includes(`://${FLAKY_DOMAIN}/`)).length;
    await c.query("BEGIN");
    const a = await c.query(
      `UPDATE accounts SET suspended_at = now(), suspension_origin = 0, updated_at = now()
       WHERE id IN (SELECT id FROM accounts WHERE domain IS NULL AND suspended_at IS NULL ORDER BY id LIMIT ${MAX_ACCOUNT_DELETIONS_PER_JOB})
       RETURNING id`,
    );
    const d = await c.query(
      `DELETE FROM account_deletion_requests WHERE id IN (
         SELECT r.id FROM account_deletion_requests r JOIN accounts a ON a.id = r.account_id
         WHERE a.domain IS NULL AND a.suspended_at IS NOT NULL AND NOT (a.id = ANY($1::bigint[]))
         ORDER BY r.id LIMIT ${MAX_ACCOUNT_DELETIONS_PER_JOB}) RETURNING account_id`,
      [a.rows.map((r) => r.id)],
    );
    await c.query("COMMIT");
    suspended = a.rows.length;
    deleted = d.rows.length;
    const accounts = suspended + deleted;
    enqueued = accounts * inboxes.length;
    flakyEnqueued = accounts * flaky;
  }

  // DeliveryWorker
  const s = updateState((st) => {
    st.tick += 1;
    st.enqueued += enqueued;
    // deliveries of this tick's flaky inboxes: remember them so they fail
    st.flakyQueued = (st.flakyQueued ?? 0) + flakyEnqueued;
    let budget = DELIVERIES_PER_TICK;
    // retries that are due
    for (const r of st.retry) {
      if (r.due <= st.tick && budget > 0) {
        const n = Math.min(r.n, budget);
        r.n -= n;
        budget -= n;
        st.delivered += n;
      }
    }
    st.retry = st.retry.filter((r) => r.n > 0);
    const work = Math.min(st.enqueued, budget);
    const failing = Math.min(st.flakyQueued, work);
    st.flakyQueued -= failing;
    st.enqueued -= work;
    st.delivered += work - failing;
    st.failed += failing;
    if (failing > 0) st.retry.push({ due: st.tick + RETRY_AFTER_TICKS, n: failing });
  });
  log(
    `tick=${s.tick} backups=${backups} self_destruct=${selfDestruct} suspended=${suspended} deletion_requests=${deleted} ` +
      `enqueued_now=${enqueued} enqueued=${s.enqueued} retry=${retrySize(s)} delivered=${s.delivered}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
