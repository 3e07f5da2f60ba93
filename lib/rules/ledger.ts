// The ledger of who has left: for each local user who can sign in, whether they moved their account away,
// have an archive and downloaded it, signed in since the closure was announced, or have done nothing yet.
// Decided here from what the host shows (lib/host/ledger.ts reads Mastodon's tables and nginx's access log);
// the list, with usernames, stays on the host (mode 600), and only its counts leave it (outputs, preview).

/** A local user who can sign in, as the database shows them. */
export interface LedgerUser {
    username: string;
    /** The account it moved to (acct), when it moved away, and when (its latest AccountMigration). */
    movedTo?: string;
    movedAt?: string;
    /** The user's archives (ids), when the first of those still there was requested, and the last: a request
     *  is made when the closure (or the user) asks, so it does not change while Sidekiq makes the archive. */
    archiveIds: string[];
    firstArchiveRequestedAt?: string;
    lastArchiveRequestedAt?: string;
    /** Signed in (current_sign_in_at) since the closure was announced. */
    signedInSinceAnnouncement: boolean;
}

/** What nginx's access log shows of archive downloads. */
export interface AccessLogView {
    /** The time of the oldest entry the log still holds; undefined when no log could be read (none
     *  written, `access_log off`, a format without the time). */
    from?: string;
    /** Archives with a successful download request (`/backups/:id/download`, or the file under `/system/`). */
    downloadedArchiveIds: string[];
    /** What the ledger written before on the host said: a download once seen stays counted when the log is
     *  rotated away, and what could not be told stays unknown when the archive it was about is gone. */
    earlier?: EarlierLedger;
}

export interface EarlierLedger {
    downloaded: string[];
    unknown: string[];
}

/** Whether the user downloaded an archive, or "unknown" where the log cannot tell (downloadsOf). */
export type Downloaded = "yes" | "no" | "unknown";

/** Where each user stands, the first that holds: moved, downloaded an archive, signed in, or nothing. */
export type LedgerStatus = "moved" | "downloaded" | "signed-in" | "download-unknown" | "nothing";

export interface LedgerCounts {
    /** Local users who can sign in. */
    users: number;
    moved: number;
    withArchive: number;
    downloaded: number;
    downloadUnknown: number;
    signedInSinceAnnouncement: number;
    /** Neither moved, nor downloaded an archive (as far as the log tells), nor signed in since the announcement. */
    nothing: number;
}

/** Whether each user downloaded an archive: the log shows it, or showed it to the ledger written before;
 *  "unknown" where the log cannot tell (none, or it begins after an archive of theirs was requested). The log's
 *  and the earlier ledger's lists are looked up once per user, not searched: a server has many users. */
export function downloadsOf(log: AccessLogView): (user: LedgerUser) => Downloaded {
    const ids = new Set(log.downloadedArchiveIds);
    const seen = new Set(log.earlier?.downloaded);
    const unknown = new Set(log.earlier?.unknown);
    return (user) => {
        if (seen.has(user.username) || user.archiveIds.some((id) => ids.has(id))) return "yes";
        if (unknown.has(user.username)) return "unknown";
        if (user.archiveIds.length === 0) return "no";
        if (!log.from || (user.firstArchiveRequestedAt !== undefined && user.firstArchiveRequestedAt < log.from)) return "unknown";
        return "no";
    };
}

function statusOf(user: LedgerUser, downloaded: Downloaded): LedgerStatus {
    if (user.movedTo) return "moved";
    if (downloaded === "yes") return "downloaded";
    if (user.signedInSinceAnnouncement) return "signed-in";
    return downloaded === "unknown" ? "download-unknown" : "nothing";
}

const COLUMNS = ["username", "status", "moved_to", "moved_at", "archive_requested_at", "downloaded", "signed_in_since_announcement"] as const;

/**
 * The ledger as the admin reads it on the host: a header, then one tab-separated line per user, by username.
 * It holds nothing that changes without the user doing something (no time it was read), so a run that finds
 * nothing new rewrites nothing.
 */
export function renderLedger(domain: string, announcedOn: string, users: LedgerUser[], log: AccessLogView): string {
    const downloaded = downloadsOf(log);
    const lines = [
        `# Who has left ${domain}: its local users who can sign in, and what they did since the closure was announced on ${announcedOn}.`,
        `# Archive downloads as nginx's access log shows them; "unknown" where it begins after an archive was requested. Counts only leave this host.`,
        COLUMNS.join("\t"),
        ...[...users]
            .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
            .map((u) => {
                const d = downloaded(u);
                return [
                    u.username,
                    statusOf(u, d),
                    u.movedTo ?? "-",
                    u.movedAt ?? "-",
                    u.lastArchiveRequestedAt ?? "-",
                    u.archiveIds.length || d !== "no" ? d : "-",
                    u.signedInSinceAnnouncement ? "yes" : "no",
                ].join("\t");
            }),
    ];
    return `${lines.join("\n")}\n`;
}

/** The rows of a ledger written on the host, by column; undefined when the text is not a ledger. */
function rowsOf(text: string): Record<(typeof COLUMNS)[number], string>[] | undefined {
    const rows = text.split("\n").filter((l) => l && !l.startsWith("#"));
    if (rows[0] !== COLUMNS.join("\t")) return undefined;
    return rows.slice(1).map((l) => Object.fromEntries(l.split("\t").map((v, i) => [COLUMNS[i], v])) as Record<(typeof COLUMNS)[number], string>);
}

/** What a ledger written before said of downloads (none when there is none). */
export function earlierLedger(text: string | undefined): EarlierLedger {
    const rows = (text === undefined ? undefined : rowsOf(text)) ?? [];
    const by = (d: Downloaded) => rows.filter((u) => u.downloaded === d).map((u) => u.username);
    return { downloaded: by("yes"), unknown: by("unknown") };
}

/** The counts of a ledger's text (the one counting: what the outputs say is what the list on the host says),
 *  or undefined when the text is not a ledger. */
export function countsOfLedger(text: string): LedgerCounts | undefined {
    const users = rowsOf(text);
    if (!users) return undefined;
    return {
        users: users.length,
        moved: users.filter((u) => u.moved_to !== "-").length,
        withArchive: users.filter((u) => u.archive_requested_at !== "-").length,
        downloaded: users.filter((u) => u.downloaded === "yes").length,
        downloadUnknown: users.filter((u) => u.downloaded === "unknown").length,
        signedInSinceAnnouncement: users.filter((u) => u.signed_in_since_announcement === "yes").length,
        nothing: users.filter((u) => u.status === "nothing").length,
    };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** nginx's $time_local, e.g. [08/Dec/2026:00:33:45 +0000]. */
const TIME_LOCAL = /\[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\]/;
/** The request and status of the combined format: "GET /path HTTP/1.1" 200. */
const REQUEST = /"(GET|HEAD) (\S+) HTTP\/[\d.]+" (\d{3}) /;
/** BackupsController#download, and the archive's file where Paperclip keeps it (:id_partition of the backup's id). */
const DOWNLOAD = /^\/backups\/(\d+)\/download(?:\?|$)/;
const ARCHIVE_FILE = /^\/system\/backups\/dumps\/(\d{3})\/(\d{3})\/(\d{3})\/original\//;

function timeOf(line: string): string | undefined {
    const m = TIME_LOCAL.exec(line);
    const month = m ? MONTHS.indexOf(m[2]) : -1;
    if (!m || month < 0) return undefined;
    const offset = (m[7] === "-" ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
    const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000;
    return new Date(utc).toISOString();
}

/**
 * The downloads in nginx's access log (combined format): `first` is its oldest line (the log's start), `hits`
 * the lines that ask for an archive. A download is a request for the archive's file answered 200 or 206,
 * or for `/backups/:id/download` answered by the redirect to it (302) or the file itself (200).
 */
export function accessLogView(first: string | undefined, hits: string[]): AccessLogView {
    const ids = new Set<string>();
    for (const line of hits) {
        const r = REQUEST.exec(line);
        if (!r) continue;
        const [, , path, status] = r;
        const viaController = DOWNLOAD.exec(path);
        if (viaController && ["200", "302"].includes(status)) ids.add(String(Number(viaController[1])));
        const file = ARCHIVE_FILE.exec(path);
        if (file && ["200", "206"].includes(status)) ids.add(String(Number(file.slice(1).join(""))));
    }
    const from = first === undefined ? undefined : timeOf(first);
    return { ...(from ? { from } : {}), downloadedArchiveIds: [...ids].sort((a, b) => Number(a) - Number(b)) };
}
