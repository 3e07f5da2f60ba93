// What the ledger of who has left is read from on the host (lib/rules/ledger.ts decides it): Mastodon's own
// tables, and nginx's access log on the proxy for archive downloads. The list is written on the host only
// (LEDGER_PATH, mode 600): usernames never leave it.
import { createHash } from "node:crypto";
import type { Client } from "pg";
import type { LedgerFacts } from "../rules/facts";
import { AccessLogView, accessLogView, countsOfLedger, LedgerUser, renderLedger, earlierLedger } from "../rules/ledger";
import { shq } from "../mastodon/shell";
import { STATE_DIR } from "./records";

export const LEDGER_PATH = `${STATE_DIR}/ledger.tsv`;

/** Where nginx logs requests unless the site says otherwise (Debian's and upstream's nginx.conf). */
export const DEFAULT_ACCESS_LOG = "/var/log/nginx/access.log";

/** The site's own access log (its first `access_log` that is not `off`), else nginx's default; none when the
 *  site turns logging off. */
export function accessLogOf(site: string): string | undefined {
    const logs = [...site.matchAll(/^\s*access_log\s+([^\s;]+)/gm)].map((m) => m[1].replace(/^["']|["']$/g, ""));
    if (logs.length === 0) return DEFAULT_ACCESS_LOG;
    return logs.find((l) => l !== "off");
}

/**
 * A shell snippet printing the access log's oldest line ("first ..."), then every line that asks for an
 * archive ("hit ..."), from the log and its rotations (logrotate's .1, .2.gz, ...), oldest first. grep, not
 * awk, goes through the logs: they can be gigabytes.
 */
export function accessLogScript(log: string): string {
    const hits = `'"(GET|HEAD) /(backups/[0-9]+/download|system/backups/dumps/)'`;
    return [
        `files=$(ls -1tr ${shq(log)} ${shq(log)}.* 2>/dev/null || true)`,
        `oldest=$(printf '%s\\n' "$files" | head -n 1)`,
        `if [ -n "$oldest" ]; then printf 'first '; zcat -f -- "$oldest" | head -n 1; fi`,
        `for f in $files; do zcat -f -- "$f"; done | { grep -E ${hits} || true; } | sed 's/^/hit /'`,
    ].join("\n");
}

/** accessLogScript's output, as the rules read it. */
export function accessLogOutput(lines: string[]): AccessLogView {
    const first = lines.find((l) => l.startsWith("first "))?.slice("first ".length);
    return accessLogView(
        first,
        lines.filter((l) => l.startsWith("hit ")).map((l) => l.slice("hit ".length)),
    );
}

/** Local users who can sign in (as rails/request_archives.rb picks them), with what they did to leave. */
const LEDGER_SQL = `
SELECT a.username,
       (SELECT t.username || '@' || t.domain FROM accounts t WHERE t.id = a.moved_to_account_id) AS moved_to,
       (SELECT max(m.created_at) FROM account_migrations m WHERE m.account_id = a.id) AS moved_at,
       coalesce((SELECT json_agg(b.id ORDER BY b.id) FROM backups b WHERE b.user_id = u.id), '[]') AS archive_ids,
       (SELECT min(b.created_at) FROM backups b WHERE b.user_id = u.id) AS first_archive,
       (SELECT max(b.created_at) FROM backups b WHERE b.user_id = u.id) AS last_archive,
       coalesce(u.current_sign_in_at >= $1::timestamp, false) AS signed_in
  FROM users u JOIN accounts a ON a.id = u.account_id
 WHERE a.domain IS NULL AND u.confirmed_at IS NOT NULL AND a.suspended_at IS NULL AND NOT a.memorial`;

export async function ledgerUsers(db: Client, announcedAt: string): Promise<LedgerUser[]> {
    const rows = (await db.query(LEDGER_SQL, [announcedAt])).rows;
    return rows.map((r) => ({
        username: r.username,
        ...(r.moved_to ? { movedTo: r.moved_to, ...(r.moved_at ? { movedAt: new Date(r.moved_at).toISOString() } : {}) } : {}),
        archiveIds: (r.archive_ids as number[]).map(String),
        ...(r.first_archive ? { firstArchiveRequestedAt: new Date(r.first_archive).toISOString() } : {}),
        ...(r.last_archive ? { lastArchiveRequestedAt: new Date(r.last_archive).toISOString() } : {}),
        signedInSinceAnnouncement: r.signed_in === true,
    }));
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** A ledger's text as the facts hold it (its sha256 and counts), or undefined when it is not one. */
export function ledgerFactsOf(text: string | undefined): LedgerFacts | undefined {
    const counts = text === undefined ? undefined : countsOfLedger(text);
    return counts && { digest: sha256(text!), counts };
}

/** The ledger's text as the host shows it now: Mastodon's tables, the access log's lines as accessLogScript
 *  printed them (none when the site logs nothing), and what the ledger written before (`previous`) said. */
export async function ledgerTextOf(
    db: Client,
    domain: string,
    readFrom: NonNullable<LedgerFacts["readFrom"]>,
    logLines: string[],
    previous: string | undefined,
): Promise<string> {
    const log = readFrom.accessLog ? accessLogOutput(logLines) : { downloadedArchiveIds: [] };
    const users = await ledgerUsers(db, readFrom.announcedOn);
    return renderLedger(domain, readFrom.announcedOn, users, { ...log, earlier: earlierLedger(previous) });
}
