// Benchmark 4: the closure's verified dump (lib/host/steps/dump.ts databaseDump.apply: pg_dump -Fc, then
// pg_restore --list, sha256sum, a .sha256 file and a manifest written over a second SSH command)
// against `pg_dump -Fc` alone, over the same kind of SSH connection to the same database.
import { HostAccess } from "../lib/host/access";
import { databaseDump } from "../lib/host/steps/dump";
import { RemoteHost } from "../lib/host/ssh";
import { shq } from "../lib/mastodon/shell";
import type { Sandbox } from "../sandbox/client";
import { accessFor, median, now, timed } from "./common";

export interface DumpRun {
    trials: number;
    bytes: number;
    tocEntries: number;
    dbSize: string;
    closureMs: number[];
    plainMs: number[];
    /** Timed on the host, inside one script, on one plain dump file (medians, ms). */
    parts: { pgDump: number; restoreList: number; sha256: number };
    manifestWriteMs: number[];
}

const PLAIN_DIR = "/var/backups/bench-plain";
const CLOSURE_DIR = "/var/backups/bench-closure";

function plainDump(host: RemoteHost, access: HostAccess, file: string): Promise<unknown> {
    const db = access.database;
    return host.run(
        `set -euo pipefail; umask 077; IFS= read -r PGPASSWORD; export PGPASSWORD; mkdir -p ${shq(PLAIN_DIR)}
pg_dump -Fc -h ${shq(db.host)} -p ${db.port} -U ${shq(db.user)} -d ${shq(db.name)} -f ${shq(file)}`,
        { stdin: `${db.password}\n`, label: "plain pg_dump -Fc" },
    );
}

/** The closure's extra commands, each timed on the host (no SSH round trip in the figures). */
async function partsOnHost(host: RemoteHost, access: HostAccess, file: string): Promise<{ pgDump: number; restoreList: number; sha256: number }> {
    const db = access.database;
    const r = await host.run(
        `set -euo pipefail; umask 077; IFS= read -r PGPASSWORD; export PGPASSWORD; f=${shq(file)}
t0=$(date +%s%N); pg_dump -Fc -h ${shq(db.host)} -p ${db.port} -U ${shq(db.user)} -d ${shq(db.name)} -f "$f"
t1=$(date +%s%N); pg_restore --list "$f" | grep -cv '^;' > /dev/null
t2=$(date +%s%N); sha256sum "$f" > /dev/null
t3=$(date +%s%N); echo "$t0 $t1 $t2 $t3"`,
        { stdin: `${db.password}\n`, label: "time the dump's parts" },
    );
    const [t0, t1, t2, t3] = r.stdout.trim().split("\n").pop()!.split(" ").map(Number);
    return { pgDump: (t1 - t0) / 1e6, restoreList: (t2 - t1) / 1e6, sha256: (t3 - t2) / 1e6 };
}

/**
 * Ten statuses per local account, so the dump is not trivially small: the seed has only a handful. Text
 * partly random (md5), so compression does not make the dump vanish. Benchmark data, not Mastodon's.
 */
export async function padStatuses(sandbox: Sandbox, perAccount: number): Promise<number> {
    await sandbox.sql(
        `INSERT INTO statuses (uri, text, created_at, updated_at, visibility, local, account_id, language)
         SELECT 'https://social.example/users/' || a.username || '/statuses/bench' || g,
                'Toot ' || g || ' by ' || a.username || ': ' || md5(random()::text) || ' ' || md5(random()::text) || ' #closing',
                now() - (g || ' hours')::interval, now(), 0, true, a.id, 'en'
           FROM accounts a, generate_series(1, $1::int) g WHERE a.domain IS NULL`,
        [perAccount],
    );
    await sandbox.sql("ANALYZE statuses");
    return Number((await sandbox.sql<{ n: string }>("SELECT count(*) AS n FROM statuses"))[0].n);
}

export async function dumpBench(sandbox: Sandbox, trials: number): Promise<DumpRun> {
    const access = accessFor(sandbox.info);
    const closureMs: number[] = [];
    const plainMs: number[] = [];
    const manifestWriteMs: number[] = [];
    const parts: { pgDump: number; restoreList: number; sha256: number }[] = [];
    let bytes = 0;
    let tocEntries = 0;
    const dbSize = (await sandbox.sql<{ s: string }>("SELECT pg_size_pretty(pg_database_size('mastodon_production')) AS s"))[0].s;
    for (let i = 0; i < trials; i++) {
        // Alternate which goes first, so neither always meets a warm cache.
        const order = i % 2 === 0 ? ["plain", "closure"] : ["closure", "plain"];
        for (const which of order) {
            if (which === "plain") {
                plainMs.push((await timed(() => RemoteHost.with(access.ssh, (h) => plainDump(h, access, `${PLAIN_DIR}/plain-${i}.dump`)))).ms);
            } else {
                // The dump step names files by the second; a pause keeps each trial's file apart.
                await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
                const { ms, value } = await timed(() =>
                    RemoteHost.with(access.ssh, (h) => databaseDump.apply(h, access, { dir: CLOSURE_DIR, retentionDays: 365, intact: true })),
                );
                closureMs.push(ms);
                bytes = value.bytes;
                tocEntries = value.tocEntries;
            }
        }
        await RemoteHost.with(access.ssh, async (h) => {
            parts.push(await partsOnHost(h, access, `${PLAIN_DIR}/parts-${i}.dump`));
            const t0 = now();
            await h.writeFile(`${PLAIN_DIR}/parts-${i}.manifest.json`, JSON.stringify({ bench: true, i }) + "\n", {
                owner: "root",
                mode: "600",
                label: "manifest-like write",
            });
            manifestWriteMs.push(now() - t0);
        });
    }
    await sandbox.exec(`rm -rf ${PLAIN_DIR} ${CLOSURE_DIR}`);
    return {
        trials,
        bytes,
        tocEntries,
        dbSize,
        closureMs,
        plainMs,
        parts: { pgDump: median(parts.map((p) => p.pgDump)), restoreList: median(parts.map((p) => p.restoreList)), sha256: median(parts.map((p) => p.sha256)) },
        manifestWriteMs,
    };
}
