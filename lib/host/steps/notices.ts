// What tells users the server closes: the announcement and its reminders, the announcement e-mailed once per
// host, and the announcement posted as a public status.
import { shq } from "../../mastodon/shell";
import { HostAccess } from "../access";
import { queryOrUndefined, railsRunner } from "../reads";
import { EMAIL_RECORD, EmailRecord } from "../records";
import { RemoteHost } from "../ssh";
import { Step, unchanged } from "./step";

export interface AnnouncementParams {
    text: string;
    /** ISO time; null publishes at once. */
    scheduledAt: string | null;
}

/** Text of a row the closure made that is no longer on the host. */
export const MISSING_ROW = "(not on the host any more)";

/** A reminder whose time has passed when it is first made is skipped (announcementId 0), never
 *  published late: "closes in 30 days" four days before closing would mislead. */
export const announcement: Step<AnnouncementParams, { announcementId: number }> = {
    async apply(host, access, p, previous) {
        if (previous?.announcementId) await railsRunner(host, access, "withdraw_announcement.rb", { id: previous.announcementId });
        if (p.scheduledAt !== null && new Date(p.scheduledAt) <= new Date()) return { announcementId: 0 };
        const r = await railsRunner(host, access, "announce.rb", { text: p.text, scheduled_at: p.scheduledAt });
        return { announcementId: Number(r.id) };
    },
    async read(host, access, p, result) {
        if (!result.announcementId) return { params: p, result };
        const rows = await queryOrUndefined<{ text: string }>(host, access, "SELECT text FROM announcements WHERE id = $1", [result.announcementId]);
        if (!rows) return { params: p, result };
        return { params: { ...p, text: rows[0]?.text ?? MISSING_ROW }, result };
    },
    async undo(host, access, _p, outputs) {
        if (outputs.announcementId) await railsRunner(host, access, "withdraw_announcement.rb", { id: outputs.announcementId });
    },
};

/** The main announcement e-mailed to every confirmed user of an unsuspended account (4.4+), once per host:
 *  the host's record (EMAIL_RECORD) says it was sent, so a later announcement (a moved date, a new text, a
 *  second closure after moving back) is not e-mailed again; moving back cannot call an e-mail back. */
export const announcementEmail: Step<{ announcementId: number }, EmailRecord> = {
    async apply(host, access, p, previous) {
        if (previous) return previous;
        const recorded = await host.readFile(EMAIL_RECORD, "read the announcement e-mail record");
        if (recorded) return JSON.parse(recorded) as EmailRecord;
        const r = await railsRunner(host, access, "distribute_announcement.rb", { id: p.announcementId });
        const sent: EmailRecord = { sentAt: String(r.sent_at), recipients: Number(r.recipients), announcementId: p.announcementId };
        await host.writeFile(EMAIL_RECORD, JSON.stringify(sent, null, 2) + "\n", { owner: "root", mode: "644", label: "record the announcement e-mail" });
        return sent;
    },
    // The e-mails are out: nothing on the host to read back or take back.
    read: unchanged,
    async undo() {},
};

// --- public status -------------------------------------------------------------------------------------

export interface PublicStatusParams {
    text: string;
    domain: string;
    /** The Rails backend as the vhost names it, e.g. 127.0.0.1:3000: called on the host, as nginx would. */
    backend: string;
}

/** A Mastodon API call from the host to its own backend; the token goes on stdin, never in argv. */
async function statusesApi(host: RemoteHost, access: HostAccess, p: PublicStatusParams, method: "POST" | "DELETE", path: string, body = ""): Promise<any> {
    if (!access.statusToken) throw new Error("statusToken is not set");
    // From the proxy host: the backend is named as nginx reaches it.
    const proxy = await host.on("proxy");
    const r = await proxy.run(
        `set -euo pipefail; IFS= read -r token; h=$(mktemp); trap 'rm -f "$h"' EXIT
printf 'Authorization: Bearer %s\n' "$token" > "$h"
curl -sS --fail-with-body -X ${method} -H @"$h" -H ${shq(`Host: ${p.domain}`)} -H 'X-Forwarded-Proto: https' \
  -H 'Content-Type: application/json' --data-binary @- ${shq(`http://${p.backend}${path}`)}`,
        { stdin: `${access.statusToken}\n${body}`, label: `${method} ${path}` },
    );
    return JSON.parse(r.stdout);
}

/** The announcement also posted as a public status (POST /api/v1/statuses); deleted on the way back. */
export const publicStatus: Step<PublicStatusParams, { statusId: string }> = {
    async apply(host, access, p, previous) {
        if (previous) await statusesApi(host, access, p, "DELETE", `/api/v1/statuses/${previous.statusId}`).catch(() => undefined);
        const r = await statusesApi(host, access, p, "POST", "/api/v1/statuses", JSON.stringify({ status: p.text, visibility: "public" }));
        return { statusId: String(r.id) };
    },
    async read(host, access, p, result) {
        const rows = await queryOrUndefined<{ text: string }>(host, access, "SELECT text FROM statuses WHERE id = $1 AND deleted_at IS NULL", [
            result.statusId,
        ]);
        if (!rows) return { params: p, result };
        return { params: { ...p, text: rows[0]?.text ?? MISSING_ROW }, result };
    },
    async undo(host, access, p, outputs) {
        await statusesApi(host, access, p, "DELETE", `/api/v1/statuses/${outputs.statusId}`);
    },
};
