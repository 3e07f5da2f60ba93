// A local account moves away: what Settings::MigrationsController#create does (AccountMigration's validations,
// with config/locales/en.yml's messages, migrations.errors.*), then MoveService#call
// (app/services/move_service.rb): the account's moved_to_account_id, and ActivityPub::MoveDistributionWorker
// enqueued on the push queue, which the sandbox's Sidekiq runs (a Move per inbox of the account's followers
// and blockers). MoveWorker and UpdateDistributionWorker are not simulated (local follows, a profile Update).
// The sandbox has no successor server yet: the target's actor is given on the command line (its alsoKnownAs),
// and stored as ResolveAccountService stores a remote account.
// Usage: move.js USERNAME TARGET_USERNAME@TARGET_DOMAIN [ALSO_KNOWN_AS_URI...]; prints the migration's id.
import { db, performAsync, railsEnv } from "./common";

async function main(): Promise<void> {
    const [username, acct, ...alsoKnownAs] = process.argv.slice(2);
    const [targetUsername, targetDomain] = (acct ?? "").replace(/^@/, "").split("@");
    if (!username || !targetUsername || !targetDomain) throw new Error("usage: move.js USERNAME TARGET_USERNAME@TARGET_DOMAIN [ALSO_KNOWN_AS_URI...]");
    const env = railsEnv();
    const c = await db(env);
    try {
        const [account] = (await c.query(`SELECT id, moved_to_account_id FROM accounts WHERE domain IS NULL AND lower(username) = lower($1)`, [username])).rows;
        if (!account) throw new Error(`no local account ${username}`);
        const uri = `https://${targetDomain}/users/${targetUsername}`;
        const [target] = (
            await c.query(
                `INSERT INTO accounts (username, domain, uri, url, inbox_url, shared_inbox_url, protocol, actor_type, also_known_as, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, 'Person', $7, now(), now())
         ON CONFLICT (lower(username), COALESCE(lower(domain), '')) DO UPDATE SET also_known_as = EXCLUDED.also_known_as, updated_at = now()
         RETURNING id, also_known_as`,
                [targetUsername, targetDomain, uri, `https://${targetDomain}/@${targetUsername}`, `${uri}/inbox`, `https://${targetDomain}/inbox`, alsoKnownAs],
            )
        ).rows;
        if (!(target.also_known_as as string[]).includes(`https://${env.LOCAL_DOMAIN}/users/${username}`))
            throw new Error("Acct is not an alias of this account");
        if (account.moved_to_account_id === target.id) throw new Error("Acct is the same account you have already moved to");
        const cooldown = await c.query(`SELECT 1 FROM account_migrations WHERE account_id = $1 AND created_at >= now() - interval '30 days'`, [account.id]);
        if (cooldown.rows.length) throw new Error("You are on cooldown");
        await c.query("BEGIN");
        const [followers] = (await c.query(`SELECT count(*)::int AS n FROM follows WHERE target_account_id = $1`, [account.id])).rows;
        const [migration] = (
            await c.query(
                `INSERT INTO account_migrations (account_id, acct, followers_count, target_account_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, now(), now()) RETURNING id`,
                [account.id, `${targetUsername}@${targetDomain}`, followers.n, target.id],
            )
        ).rows;
        await c.query(`UPDATE accounts SET moved_to_account_id = $1, updated_at = now() WHERE id = $2`, [target.id, account.id]);
        await c.query("COMMIT");
        performAsync("ActivityPub::MoveDistributionWorker", [Number(migration.id)]);
        console.log(migration.id);
    } finally {
        await c.end();
    }
}

main().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
});
