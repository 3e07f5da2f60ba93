// Unit tests of lib/rules/notice.ts: the announcement in English and Japanese, the operator's own text, and the
// reminders' dates.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { announcementText, NoticeInput, reminders } from "../lib/rules/notice";
import { parseSettings, SECRET_KEYS } from "../lib/rules/settings";

const base: NoticeInput = { domain: "social.example", closingDate: "2026-06-01", language: "en" };

describe("announcementText", () => {
    test("en without successor: domain, date, export instructions, no successor sentence", () => {
        const t = announcementText(base);
        assert.ok(t.startsWith("social.example will close on 2026-06-01. Please export your data now:"), t);
        assert.ok(t.includes("Request your archive"));
        assert.ok(!t.includes("move to"));
        assert.ok(!/\{\w+\}/.test(t), "no placeholder left");
    });

    test("en with successor: the successor without https://", () => {
        const t = announcementText({ ...base, successor: "https://next.example" });
        assert.ok(t.startsWith("social.example will close on 2026-06-01. You are welcome to move to next.example: "), t);
        assert.ok(!t.includes("https://"));
        assert.ok(!/\{\w+\}/.test(t));
        assert.equal(announcementText({ ...base, successor: "next.example" }), t, "domain or URL give the same text");
    });

    test("ja without and with successor", () => {
        const t = announcementText({ ...base, language: "ja" });
        assert.ok(t.startsWith("social.example は 2026-06-01 に閉鎖します。今のうちにデータをエクスポートしてください"), t);
        assert.ok(!t.includes("移転先"));
        const s = announcementText({ ...base, language: "ja", successor: "https://next.example" });
        assert.ok(s.startsWith("social.example は 2026-06-01 に閉鎖します。移転先として next.example をおすすめします"), s);
        assert.ok(!/\{\w+\}/.test(s));
        assert.notEqual(s, announcementText({ ...base, successor: "https://next.example" }), "ja differs from en");
    });

    test("the operator's own text wins, with its placeholders filled", () => {
        const own = "Closing {domain} on {closingDate}; join us at {successor}. {unknown} stays.";
        for (const language of ["en", "ja"] as const) {
            const t = announcementText({ ...base, language, successor: "https://next.example", ownText: own });
            assert.equal(t, "Closing social.example on 2026-06-01; join us at https://next.example. {unknown} stays.");
        }
        assert.equal(announcementText({ ...base, ownText: "Bye from {domain}{successor}." }), "Bye from social.example.");
    });
});

describe("reminders", () => {
    const announcedEarly = new Date("2026-01-01T00:00:00Z");

    test("09:00 UTC N days before the closing date, one per day given, with the text", () => {
        const r = reminders(base, [30, 7, 1], announcedEarly);
        assert.deepEqual(
            r.map((x) => [x.daysBefore, x.scheduledAt]),
            [
                [30, "2026-05-02T09:00:00.000Z"],
                [7, "2026-05-25T09:00:00.000Z"],
                [1, "2026-05-31T09:00:00.000Z"],
            ],
        );
        assert.equal(r[1].text, "Reminder: social.example closes in 7 day(s), on 2026-06-01. Export your data now (Preferences > Import and export).");
        assert.equal(
            reminders({ ...base, language: "ja" }, [7], announcedEarly)[0].text,
            "お知らせ: social.example の閉鎖まであと 7 日です(2026-06-01)。今のうちにデータをエクスポートしてください(ユーザー設定 > インポートとエクスポート)。",
        );
    });

    test("across month and year boundaries, and a leap day", () => {
        const r = reminders({ ...base, closingDate: "2028-03-01" }, [1, 365], new Date("2020-01-01T00:00:00Z"));
        assert.deepEqual(
            r.map((x) => x.scheduledAt),
            ["2028-02-29T09:00:00.000Z", "2027-03-02T09:00:00.000Z"],
        );
        const jan = reminders({ ...base, closingDate: "2027-01-03" }, [7], new Date("2020-01-01T00:00:00Z"));
        assert.equal(jan[0].scheduledAt, "2026-12-27T09:00:00.000Z");
    });

    test("with the settings' reminderDaysBefore (any order given) they come out chronologically", () => {
        const values: Record<string, string> = {
            stage: "announced",
            host: "h",
            domain: "social.example",
            sshHostKey: "ssh-ed25519 AAAA",
            sshPrivateKey: "k",
            databasePassword: "p",
            closingDate: "2026-06-01",
            reminderDaysBefore: "1,14,60,7",
        };
        const s = parseSettings({ get: (k) => values[k], isSecret: (k) => (SECRET_KEYS as readonly string[]).includes(k) });
        const r = reminders(base, s.reminderDaysBefore, announcedEarly);
        const times = r.map((x) => x.scheduledAt);
        assert.deepEqual(times, [...times].sort());
        assert.deepEqual(
            r.map((x) => x.daysBefore),
            [60, 14, 7, 1],
        );
    });

    test("those due before the closure was announced are dropped", () => {
        // Announced 10 days before the closing date at noon: the 30-day reminder is past.
        const r = reminders(base, [30, 7, 1], new Date("2026-05-22T12:00:00Z"));
        assert.deepEqual(
            r.map((x) => x.daysBefore),
            [7, 1],
        );
        // Exactly at a reminder's time: that one is dropped too (not strictly later).
        assert.deepEqual(
            reminders(base, [30, 7, 1], new Date("2026-05-25T09:00:00Z")).map((x) => x.daysBefore),
            [1],
        );
        // A minute before it: kept.
        assert.deepEqual(
            reminders(base, [30, 7, 1], new Date("2026-05-25T08:59:00Z")).map((x) => x.daysBefore),
            [7, 1],
        );
        // Announced on the last day: none.
        assert.deepEqual(reminders(base, [30, 7, 1], new Date("2026-05-31T10:00:00Z")), []);
    });

    test("the same announcedAt gives the same set on every run (now plays no part)", () => {
        // Announced 2026-05-10: the 30-day reminder (2026-05-02) was already past then; the other two are kept,
        // although today is after the closing date (a set that looked at the clock would be empty).
        const at = new Date("2026-05-10T00:00:00Z");
        assert.ok(Date.now() > Date.parse("2026-06-01T00:00:00Z"), "this test assumes a clock past the closing date");
        assert.deepEqual(
            reminders(base, [30, 7, 1], at).map((r) => [r.daysBefore, r.scheduledAt]),
            [
                [7, "2026-05-25T09:00:00.000Z"],
                [1, "2026-05-31T09:00:00.000Z"],
            ],
        );
    });
});
