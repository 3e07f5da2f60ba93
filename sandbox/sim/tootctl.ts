// bin/tootctl stand-in. Every call boots "Rails" first (railsBootMs, one line in
// /var/lib/mastodon-sim/boots). Messages follow lib/mastodon/cli/*.rb.
import type { Client } from "pg";
import { versionAtLeast } from "../../lib/mastodon/version";
import {
    db,
    enqueuedSize,
    INBOXES_SQL,
    isSelfDestruct,
    pushDeliveries,
    railsBoot,
    railsEnv,
    readState,
    retrySize,
    selfDestructValue,
    simConfig,
    updateState,
} from "./common";

class Exit extends Error {
    constructor(public code: number) {
        super(`exit ${code}`);
    }
}

function say(s: string): void {
    process.stdout.write(s + "\n");
}
function fail(msg: string): never {
    process.stderr.write(msg + "\n");
    throw new Exit(1);
}

// ---------------------------------------------------------------- prompts (stdin may be piped)
let stdinLines: string[] | null = null;
let stdinDone = false;
const waiters: (() => void)[] = [];
function startStdin(): void {
    if (stdinLines) return;
    stdinLines = [];
    let buf = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
            stdinLines!.push(buf.slice(0, i).replace(/\r$/, ""));
            buf = buf.slice(i + 1);
        }
        waiters.splice(0).forEach((w) => w());
    });
    process.stdin.on("end", () => {
        if (buf) stdinLines!.push(buf);
        buf = "";
        stdinDone = true;
        waiters.splice(0).forEach((w) => w());
    });
}
async function readLine(): Promise<string | null> {
    startStdin();
    for (;;) {
        if (stdinLines!.length) return stdinLines!.shift()!;
        if (stdinDone) return null;
        await new Promise<void>((r) => waiters.push(r));
    }
}
async function ask(question: string): Promise<string | null> {
    process.stdout.write(question + " ");
    const a = await readLine();
    process.stdout.write("\n");
    return a;
}
/** TTY::Prompt#no?: default answer is "no"; returns true unless the answer is yes. */
async function no(question: string): Promise<boolean> {
    const a = await ask(`${question} (y/N)`);
    return !(a !== null && /^\s*(y|yes)\s*$/i.test(a));
}

// ---------------------------------------------------------------- commands
/** Account#suspend! (app/models/account.rb at v4.2.0): a new AccountDeletionRequest (has_one with
 *  dependent: :destroy, so an earlier one is replaced: due 30 days from now), then suspended_at. */
async function suspendWithDeletionRequest(c: Client, ids: string[]): Promise<void> {
    await c.query("BEGIN");
    await c.query(`DELETE FROM account_deletion_requests WHERE account_id = ANY($1::bigint[])`, [ids]);
    await c.query(`INSERT INTO account_deletion_requests (account_id, created_at, updated_at) SELECT id, now(), now() FROM unnest($1::bigint[]) AS id`, [ids]);
    await c.query(`UPDATE accounts SET suspended_at = now(), suspension_origin = 0, updated_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
    await c.query("COMMIT");
}

/** What `tootctl self-destruct` counts as pending in self-destruct mode (lib/mastodon/cli/federation.rb):
 *  Account.local.without_suspended.count + Account.local.suspended.joins(:deletion_request).count, where
 *  4.7's without_suspended also leaves out accounts with requested_deletion_at (Account::Suspensions). */
function pendingSql(version: string): string {
    const withoutSuspended = versionAtLeast(version, 4, 7) ? "suspended_at IS NULL AND requested_deletion_at IS NULL" : "suspended_at IS NULL";
    return `SELECT (SELECT count(*) FROM accounts WHERE domain IS NULL AND ${withoutSuspended})
               + (SELECT count(*) FROM accounts a JOIN account_deletion_requests r ON r.account_id = a.id
                  WHERE a.domain IS NULL AND a.suspended_at IS NOT NULL) AS n`;
}

async function selfDestruct(env: Record<string, string>, version: string): Promise<void> {
    const domain = env.LOCAL_DOMAIN;
    if (versionAtLeast(version, 4, 3)) {
        if (isSelfDestruct(env)) {
            say("Self-destruct mode is already enabled for this Mastodon server");
            const c = await db(env);
            let pending = 0;
            try {
                pending = Number((await c.query(pendingSql(version))).rows[0].n);
            } finally {
                await c.end();
            }
            const st = readState();
            if (pending > 0) say(`${pending} accounts are still pending deletion.`);
            else if (enqueuedSize(st) > 0)
                say("Deletion notices are still being processed"); // Sidekiq::Stats#enqueued: every job
            else if (retrySize(st) > 0)
                say("At least one delivery attempt for each deletion notice has been made, but some have failed and are scheduled for retry");
            else say("Every deletion notice has been sent! You can safely delete all data and decomission your servers!");
            throw new Exit(0);
        }
        // Thor's ask/no? read a line; at the end of input the answer is nil.
        const typed = await ask("Type in the domain of the server to confirm:");
        if (typed?.trim() !== domain) fail("Domains do not match. Stopping self-destruct initiation.");
        say("This operation WILL NOT be reversible.");
        say("While the data won't be erased locally, the server will be in a BROKEN STATE afterwards.");
        say(
            "The deletion process itself may take a long time, and will be handled by Sidekiq, so do not shut it down until it has finished (you will be able to re-run this command to see the state of the self-destruct process).",
        );
        if (await no("Are you sure you want to proceed?")) fail("Operation cancelled. Self-destruct will not begin.");
        say(
            "To switch Mastodon to self-destruct mode, add the following variable to your evironment (e.g. by adding a line to your `.env.production`) and restart all Mastodon processes:",
        );
        say(`  SELF_DESTRUCT=${selfDestructValue(env.SECRET_KEY_BASE, domain)}`);
        say("You can re-run this command to see the state of the self-destruct process.");
        return;
    }
    // before 4.3 (lib/mastodon/cli/main.rb at v4.2.0): the command queues the deletions itself, in one run
    const typed = await ask("Type in the domain of the server to confirm:");
    if (typed === null || typed.trim() !== domain) throw new Exit(1);
    say("This operation WILL NOT be reversible. It can also take a long time.");
    say("While the data won't be erased locally, the server will be in a BROKEN STATE afterwards.");
    say("A running Sidekiq process is required. Do not shut it down until queues clear.");
    if (await no("Are you sure you want to proceed?")) throw new Exit(1);
    const c = await db(env);
    try {
        const inboxes: string[] = (await c.query(INBOXES_SQL)).rows.map((r) => r.inbox);
        // Setting.registrations_mode = 'none' (lib/mastodon/cli/main.rb at v4.2.0): a row is made when there is none.
        await c.query(
            `INSERT INTO settings (var, value, created_at, updated_at) VALUES ('registrations_mode', E'--- none\\n', now(), now())
       ON CONFLICT (var) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        );
        if (inboxes.length === 0) {
            // update_all: no Account#suspend!, so no deletion request
            await c.query(`UPDATE accounts SET suspended_at = now(), suspension_origin = 0 WHERE domain IS NULL AND suspended_at IS NULL`);
            say("It seems like your server has not federated with anything");
            say("You can shut it down and delete it any time");
            return;
        }
        say("Do NOT interrupt this process...");
        // Account.local.without_suspended.find_each, then Account.local.suspended.joins(:deletion_request).find_each:
        // the second query runs after the first loop, so it finds every account the first one just suspended too.
        const unsuspended = (await c.query(`SELECT id FROM accounts WHERE domain IS NULL AND suspended_at IS NULL ORDER BY id`)).rows.map((r) => r.id);
        await suspendWithDeletionRequest(c, unsuspended);
        const withRequest = (
            await c.query(
                `SELECT a.id FROM accounts a JOIN account_deletion_requests r ON r.account_id = a.id WHERE a.domain IS NULL AND a.suspended_at IS NOT NULL ORDER BY a.id`,
            )
        ).rows.map((r) => r.id);
        await suspendWithDeletionRequest(c, withRequest);
        const processed = unsuspended.length + withRequest.length;
        updateState((s) => pushDeliveries(s, "Delete", inboxes, processed));
        say(`Queued ${inboxes.length * processed} items into Sidekiq for ${processed} accounts`);
        say("Wait until Sidekiq processes all items, then you can shut everything down and delete the data");
    } finally {
        await c.end();
    }
}

async function registrations(env: Record<string, string>, mode: string | undefined): Promise<void> {
    const map: Record<string, string> = { open: "open", approved: "approved", close: "none" };
    if (!mode || !map[mode]) fail(`Could not find command "${mode ?? ""}" in "registrations" namespace.`);
    const c = await db(env);
    try {
        await c.query(
            `INSERT INTO settings (var, value, created_at, updated_at) VALUES ('registrations_mode', $1, now(), now())
       ON CONFLICT (var) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
            [`--- ${map[mode]}\n`],
        );
    } finally {
        await c.end();
    }
    say("OK");
}

async function accounts(env: Record<string, string>, args: string[]): Promise<void> {
    const sub = args[0];
    const username = args[1];
    if (sub !== "modify" && sub !== "backup") fail(`Could not find command "${sub ?? ""}" in "accounts" namespace.`);
    if (!username) fail(`"tootctl accounts ${sub}" was called with no arguments\nUsage: "tootctl accounts ${sub} USERNAME"`);
    const c = await db(env);
    try {
        const r = await c.query(
            `SELECT a.id, u.id AS user_id FROM accounts a LEFT JOIN users u ON u.account_id = a.id WHERE a.domain IS NULL AND lower(a.username) = lower($1)`,
            [username],
        );
        if (r.rows.length === 0 || r.rows[0].user_id === null) fail("No user with such username");
        const userId = r.rows[0].user_id;
        if (sub === "backup") {
            await c.query(`INSERT INTO backups (user_id, processed, created_at, updated_at) VALUES ($1, false, now(), now())`, [userId]);
            say("OK");
            return;
        }
        const flags = args.slice(2);
        if (flags.includes("--disable")) await c.query(`UPDATE users SET disabled = true, updated_at = now() WHERE id = $1`, [userId]);
        if (flags.includes("--enable")) await c.query(`UPDATE users SET disabled = false, updated_at = now() WHERE id = $1`, [userId]);
        if (flags.includes("--confirm")) await c.query(`UPDATE users SET confirmed_at = now() WHERE id = $1 AND confirmed_at IS NULL`, [userId]);
        if (flags.includes("--approve")) await c.query(`UPDATE users SET approved = true WHERE id = $1`, [userId]);
        say("OK");
    } finally {
        await c.end();
    }
}

const USAGE = `Commands:
  tootctl accounts SUBCOMMAND ...ARGS      # Manage accounts
  tootctl help [COMMAND]                   # Describe available commands or one specific command
  tootctl self-destruct                    # Erase the server from the federation
  tootctl settings SUBCOMMAND ...ARGS      # Manage dynamic settings
  tootctl version                          # Show version
`;

async function main(): Promise<number> {
    const args = process.argv.slice(2);
    await railsBoot(`tootctl ${args.join(" ")}`);
    const env = railsEnv();
    const version = simConfig().mastodonVersion;
    try {
        switch (args[0]) {
            case "version":
            case "--version":
            case "-v":
                say(version);
                return 0;
            case "self-destruct":
            case "self_destruct":
                await selfDestruct(env, version);
                return 0;
            case "settings":
                if (args[1] !== "registrations") fail(`Could not find command "${args[1] ?? ""}" in "settings" namespace.`);
                await registrations(env, args[2]);
                return 0;
            case "accounts":
                await accounts(env, args.slice(1));
                return 0;
            case undefined:
            case "help":
                say(USAGE);
                return 0;
            default:
                fail(`Could not find command "${args[0]}".`);
        }
    } catch (e) {
        if (e instanceof Exit) return e.code;
        throw e;
    }
}

main().then(
    (code) => process.exit(code),
    (e) => {
        console.error(e);
        process.exit(1);
    },
);
