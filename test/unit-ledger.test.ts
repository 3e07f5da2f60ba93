// The ledger of who has left (lib/rules/ledger.ts): where each user stands, the counts, the text kept on the
// host and the counts read back from it, and archive downloads read from nginx's access log.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AccessLogView, accessLogView, countsOfLedger, downloadsOf, earlierLedger, LedgerUser, renderLedger } from "../lib/rules/ledger";
import { accessLogOf, accessLogOutput, accessLogScript, DEFAULT_ACCESS_LOG } from "../lib/host/ledger";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const user = (username: string, extra: Partial<LedgerUser> = {}): LedgerUser => ({ username, archiveIds: [], signedInSinceAnnouncement: false, ...extra });
/** One archive, requested at `at`. */
const requested = (at: string) => ({ firstArchiveRequestedAt: at, lastArchiveRequestedAt: at });
/** Whether `u` downloaded an archive, as the log `l` tells. */
const downloaded = (u: LedgerUser, l: AccessLogView) => downloadsOf(l)(u);
const log = { from: "2026-12-01T00:00:00.000Z", downloadedArchiveIds: ["12"] };

describe("the ledger of who has left", () => {
    test("downloaded: yes from the log, no without an archive or when the log covers it, unknown when the log begins after it or is missing", () => {
        assert.equal(downloaded(user("a", { archiveIds: ["11", "12"], ...requested("2026-11-20T00:00:00.000Z") }), log), "yes");
        assert.equal(downloaded(user("b"), log), "no");
        assert.equal(downloaded(user("c", { archiveIds: ["13"], ...requested("2026-12-02T00:00:00.000Z") }), log), "no");
        assert.equal(
            downloaded(user("d", { archiveIds: ["14"], ...requested("2026-11-30T23:59:59.000Z") }), log),
            "unknown",
            "requested before the log begins",
        );
        assert.equal(
            downloaded(user("e", { archiveIds: ["13"], ...requested("2026-12-02T00:00:00.000Z") }), { downloadedArchiveIds: [] }),
            "unknown",
            "no log",
        );
    });

    const users = [
        user("zoe", { movedTo: "zoe@successor.example", movedAt: "2026-12-03T10:00:00.000Z", archiveIds: ["12"], ...requested("2026-12-02T00:00:00.000Z") }),
        user("alice", { archiveIds: ["12"], ...requested("2026-12-02T00:00:00.000Z") }),
        user("bob", { signedInSinceAnnouncement: true }),
        user("carol", { archiveIds: ["9"], ...requested("2026-11-01T00:00:00.000Z") }),
        user("dave"),
    ];

    test("counts, read back from the ledger's text: each user counted once by where they stand, and by each thing they did", () => {
        assert.deepEqual(countsOfLedger(renderLedger("social.example", "2026-12-01", users, log)), {
            users: 5,
            moved: 1,
            withArchive: 3,
            downloaded: 2,
            downloadUnknown: 1,
            signedInSinceAnnouncement: 1,
            nothing: 1,
        });
    });

    test("the text: a header, one line per user by name, whatever order the database gives", () => {
        const text = renderLedger("social.example", "2026-12-01", users, log);
        const lines = text.trimEnd().split("\n");
        assert.match(
            lines[0],
            /^# Who has left social\.example: its local users who can sign in, and what they did since the closure was announced on 2026-12-01\.$/,
        );
        assert.equal(lines[2], "username\tstatus\tmoved_to\tmoved_at\tarchive_requested_at\tdownloaded\tsigned_in_since_announcement");
        assert.deepEqual(lines.slice(3), [
            "alice\tdownloaded\t-\t-\t2026-12-02T00:00:00.000Z\tyes\tno",
            "bob\tsigned-in\t-\t-\t-\t-\tyes",
            "carol\tdownload-unknown\t-\t-\t2026-11-01T00:00:00.000Z\tunknown\tno",
            "dave\tnothing\t-\t-\t-\t-\tno",
            "zoe\tmoved\tzoe@successor.example\t2026-12-03T10:00:00.000Z\t2026-12-02T00:00:00.000Z\tyes\tno",
        ]);
        assert.equal(renderLedger("social.example", "2026-12-01", [...users].reverse(), log), text, "the same whatever order the database gives");
        assert.equal(countsOfLedger("something else\n"), undefined);
        const rotatedLater = { ...log, from: "2026-11-15T00:00:00.000Z" };
        assert.equal(renderLedger("social.example", "2026-12-01", users, rotatedLater), text, "where the log begins changes nothing by itself");
    });

    test("what the ledger written before said stays: a download the log no longer holds, and what it could not tell", () => {
        const before = renderLedger("social.example", "2026-12-01", users, log);
        assert.deepEqual(earlierLedger(before), { downloaded: ["alice", "zoe"], unknown: ["carol"] });
        const rotated = { from: "2026-12-06T00:00:00.000Z", downloadedArchiveIds: [] };
        assert.equal(downloaded(users[1], rotated), "unknown", "alice's download was rotated away");
        assert.equal(downloaded(users[1], { ...rotated, earlier: earlierLedger(before) }), "yes");
        // carol's old archive is replaced by one requested after the log began: her earlier download is still unknown.
        const carolAgain = user("carol", { archiveIds: ["20"], ...requested("2026-12-03T00:00:00.000Z") });
        assert.equal(downloaded(carolAgain, log), "no");
        assert.equal(downloaded(carolAgain, { ...log, earlier: earlierLedger(before) }), "unknown");
        const again = renderLedger("social.example", "2026-12-01", [...users.slice(0, 3), carolAgain, users[4]], {
            ...rotated,
            earlier: earlierLedger(before),
        });
        assert.equal(again.split("\n")[3], "alice\tdownloaded\t-\t-\t2026-12-02T00:00:00.000Z\tyes\tno");
        assert.equal(again.split("\n")[5], "carol\tdownload-unknown\t-\t-\t2026-12-03T00:00:00.000Z\tunknown\tno");
        assert.deepEqual(earlierLedger(undefined), { downloaded: [], unknown: [] });
    });

    test("the access log: downloads through the controller (302, 200) or of the file (200, 206); failures and other paths are not", () => {
        const line = (path: string, status: number, time = "07/Dec/2026:10:00:00 +0000") =>
            `10.0.0.1 - - [${time}] "GET ${path} HTTP/1.1" ${status} 12 "-" "Mozilla"`;
        const view = accessLogView(line("/", 200, "01/Dec/2026:10:00:00 +0100"), [
            line("/backups/12/download", 302),
            line("/backups/13/download", 401),
            line("/system/backups/dumps/000/001/014/original/archive-2026.zip", 206),
            line("/system/backups/dumps/000/000/015/original/archive-2026.zip", 404),
            `10.0.0.1 - - [07/Dec/2026:10:00:00 +0000] "HEAD /backups/16/download?x=1 HTTP/2.0" 200 0 "-" "-"`,
        ]);
        assert.deepEqual(view, { from: "2026-12-01T09:00:00.000Z", downloadedArchiveIds: ["12", "16", "1014"] });
        assert.deepEqual(accessLogView("a line without a time", []), { downloadedArchiveIds: [] }, "a format without the time: the log's start is unknown");
        assert.deepEqual(accessLogView(undefined, []), { downloadedArchiveIds: [] });
    });

    test("the access log is the site's own, else nginx's default; none when the site turns it off", () => {
        assert.equal(accessLogOf("server {\n  listen 443 ssl;\n}\n"), DEFAULT_ACCESS_LOG);
        assert.equal(accessLogOf("server {\n  access_log /var/log/nginx/mastodon.log combined;\n}\n"), "/var/log/nginx/mastodon.log");
        assert.equal(accessLogOf("server {\n  access_log off;\n}\n"), undefined);
    });

    test("the access log read on the host: the log and its rotations (plain and gzipped), oldest first; none when there is none", () => {
        const dir = mkdtempSync(join(tmpdir(), "ledger-log-"));
        try {
            const log = join(dir, "access.log");
            const line = (time: string, path: string, status: number) => `10.0.0.1 - - [${time}] "GET ${path} HTTP/1.1" ${status} 1 "-" "-"\n`;
            writeFileSync(
                `${log}.2.gz`,
                gzipSync(line("01/Dec/2026:10:00:00 +0100", "/", 200) + line("01/Dec/2026:10:00:01 +0100", "/backups/12/download", 302)),
            );
            writeFileSync(`${log}.1`, line("07/Dec/2026:10:00:00 +0000", "/system/backups/dumps/000/000/013/original/archive.zip", 206));
            writeFileSync(log, line("08/Dec/2026:10:00:00 +0000", "/users/alice", 410));
            // logrotate's order: the newest is the plain log, the oldest the highest number.
            utimesSync(`${log}.2.gz`, new Date("2026-12-02"), new Date("2026-12-02"));
            utimesSync(`${log}.1`, new Date("2026-12-07"), new Date("2026-12-07"));
            const read = (path: string) => accessLogOutput(execFileSync("bash", ["-c", accessLogScript(path)], { encoding: "utf8" }).split("\n"));
            assert.deepEqual(read(log), { from: "2026-12-01T09:00:00.000Z", downloadedArchiveIds: ["12", "13"] });
            assert.deepEqual(read(join(dir, "none.log")), { downloadedArchiveIds: [] });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
