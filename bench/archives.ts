// Benchmark 2: Rails/tootctl starts to request an archive for every user. The closure's way is one
// `bin/rails runner request_archives.rb` for all (lib/host/reads.ts railsRunner, the ArchiveRequests step's
// call); the naive way is one `tootctl accounts backup USERNAME` per account, a shell loop over SSH.
// Boots are counted from the sandbox's /var/lib/mastodon-sim/boots.
import { inMastodon } from "../lib/mastodon/deployment";
import { HostAccess } from "../lib/host/access";
import { railsRunner } from "../lib/host/reads";
import { RemoteHost } from "../lib/host/ssh";
import type { Sandbox } from "../sandbox/client";
import { accessFor, bootCount, timed, withProgress } from "./common";

export interface ArchiveRun {
    accounts: number;
    /** Simulated Rails boot (the sandbox's railsBootMs) during the measured runs. */
    bootMs: number;
    closure: { ms: number; boots: number; requested: number; skipped: number };
    /** The naive loop as run: over every account, or over a sample of them. */
    naive: { ms: number; boots: number; accountsRun: number; backupsCreated: number };
}

async function maxBackupId(sandbox: Sandbox): Promise<number> {
    return Number((await sandbox.sql<{ id: string | null }>("SELECT max(id) AS id FROM backups"))[0].id ?? 0);
}

/** The naive loop over SSH: one tootctl (one Rails boot) per username, usernames on stdin. */
export function naiveLoop(host: RemoteHost, access: HostAccess, usernames: string[]): Promise<unknown> {
    // u is exported: the Mastodon user's shell sees it (runuser keeps the environment).
    return host.run(
        `set -e; while IFS= read -r u; do export u; ${inMastodon(access.deployment, 'bin/tootctl accounts backup "$u"')} < /dev/null > /dev/null; done`,
        {
            stdin: usernames.join("\n") + "\n",
            label: "tootctl accounts backup, one call per account",
        },
    );
}

/**
 * Runs the naive loop (on `sample` accounts when given, else all local users), removes the backups it
 * made, then the closure's one runner call (whose requests stay, as on a real server).
 */
export async function archiveBench(sandbox: Sandbox, accounts: number, bootMs: number, sample?: number): Promise<ArchiveRun> {
    const access = accessFor(sandbox.info);
    const usernames = (
        await sandbox.sql<{ username: string }>(
            `SELECT a.username FROM accounts a JOIN users u ON u.account_id = a.id WHERE a.domain IS NULL ORDER BY a.id ${sample ? `LIMIT ${sample}` : ""}`,
        )
    ).map((r) => r.username);

    const before = await maxBackupId(sandbox);
    const b0 = await bootCount(sandbox);
    const naive = await withProgress(
        `naive loop, ${usernames.length} × tootctl accounts backup`,
        () => timed(() => RemoteHost.with(access.ssh, (h) => naiveLoop(h, access, usernames))),
        async () => `${(await bootCount(sandbox)) - b0}/${usernames.length} boots`,
    );
    const naiveBoots = (await bootCount(sandbox)) - b0;
    const created = await sandbox.sql<{ n: number }>("SELECT count(*)::int AS n FROM backups WHERE id > $1", [before]);
    await sandbox.sql("DELETE FROM backups WHERE id > $1", [before]);

    const b1 = await bootCount(sandbox);
    const closure = await withProgress("closure, one bin/rails runner request_archives.rb", () =>
        timed(() => RemoteHost.with(access.ssh, (h) => railsRunner(h, access, "request_archives.rb", { recent_days: 6 }))),
    );
    const closureBoots = (await bootCount(sandbox)) - b1;
    return {
        accounts,
        bootMs,
        closure: { ms: closure.ms, boots: closureBoots, requested: Number(closure.value.requested), skipped: Number(closure.value.skipped) },
        naive: { ms: naive.ms, boots: naiveBoots, accountsRun: usernames.length, backupsCreated: created[0].n },
    };
}
