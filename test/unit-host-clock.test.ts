// Unit tests of whose clock the rules go by (lib/rules/clock.ts): the skew the probe measures, the warning
// preview and up print, the closing date as a UTC day of the host's clock (lib/rules/notice.ts, the gate), and
// the database's times read as UTC.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CLOCK_SKEW_WARNING_MS, clockSkewMs, clockSkewWarning, hostNow } from "../lib/rules/clock";
import { decide } from "../lib/rules/decide";
import { checkClosingDate } from "../lib/rules/notice";
import { testFacts } from "./support/facts";
import { testSettings } from "./support/settings";
import { types as pgTypes } from "pg";
import { utcTimestamp } from "../lib/host/ssh";

const T = Date.parse("2026-05-31T23:00:00Z");

describe("clockSkewMs", () => {
    test("the host's whole second against the middle of the round trip", () => {
        // The host said T+3600 s while the runner read T and T+200 ms: an hour ahead, give or take the reading.
        const skew = clockSkewMs(T / 1000 + 3600, T, T + 200);
        assert.ok(Math.abs(skew - 3_600_400) <= 1, `skew ${skew}`);
        assert.ok(clockSkewMs(T / 1000 - 600, T, T + 100) < -599_000, "ten minutes behind");
    });

    test("within the reading's precision (a second, and half the round trip) the clocks agree: 0", () => {
        assert.equal(clockSkewMs(T / 1000, T, T + 40), 0);
        assert.equal(clockSkewMs(T / 1000 + 1, T, T + 40), 0, "a second is the reading, not the clock");
        assert.equal(clockSkewMs(T / 1000 - 1, T, T + 3000), 0, "a slow round trip widens what counts as the reading");
        assert.notEqual(clockSkewMs(T / 1000 + 10, T, T + 40), 0);
    });

    test("hostNow: the runner's clock moved by the skew", () => {
        assert.equal(hostNow(new Date(T), 90_000).toISOString(), "2026-05-31T23:01:30.000Z");
        assert.equal(hostNow(new Date(T), undefined).getTime(), T);
    });
});

describe("clockSkewWarning", () => {
    test("silent up to a few minutes, either way", () => {
        for (const ms of [undefined, 0, 59_000, -CLOCK_SKEW_WARNING_MS, CLOCK_SKEW_WARNING_MS]) assert.equal(clockSkewWarning(ms), undefined, String(ms));
    });

    test("beyond: how far, which way, which clock the closure goes by and what to do", () => {
        assert.equal(
            clockSkewWarning(CLOCK_SKEW_WARNING_MS + 60_000),
            "the host's clock is 6 min ahead of this machine's (date -u on the host, read over SSH): the closure goes by the host's clock " +
                "(the closing date, the grace periods, the reminders are the server's days), so check which one is wrong and set it right (timedatectl, NTP)",
        );
        assert.match(clockSkewWarning(-(26 * 3600 + 5 * 60) * 1000)!, /^the host's clock is 1 day\(s\) 2 h 5 min behind this machine's/);
        assert.match(clockSkewWarning(3 * 3600_000)!, /^the host's clock is 3 h ahead/);
    });

    test("decide prints it first, before a refusal of the closing date too", () => {
        const settings = testSettings("announced", { closingDate: "2026-05-01" });
        const d = decide({ settings, facts: testFacts("operating", { clockSkewMs: -2 * 3600_000 }), now: new Date(T), servicesRecord: "/r" });
        assert.ok(d.refusal, "a closing date in the past is refused");
        assert.match(d.logs[0]?.text ?? "", /^the host's clock is 2 h behind this machine's/, JSON.stringify(d.logs));
        const fine = decide({ settings, facts: testFacts("operating"), now: new Date(T), servicesRecord: "/r" });
        assert.ok(!fine.logs.some((l) => /host's clock/.test(l.text)), JSON.stringify(fine.logs));
    });
});

describe("the closing date is a UTC day of the host's clock", () => {
    test("the notice refusal says so, with the host's day", () => {
        const r = checkClosingDate("announced", testFacts("operating"), testSettings("announced", { closingDate: "2026-06-03" }), new Date(T));
        assert.equal(
            r.refusal,
            "closingDate 2026-06-03 is 3 day(s) away: announcing the closure needs it at least 7 day(s) ahead (minimumNoticeDays), so that users can " +
                "export their data; set a later closingDate (a day in UTC: today is 2026-05-31 in UTC by the host's clock)",
        );
    });

    test("the gate goes by the host's clock: an hour after the runner's midnight it holds on the host that is ahead", () => {
        const settings = testSettings("closed", { closingDate: "2026-06-01" });
        const facts = testFacts("announced", { clockSkewMs: 2 * 3600_000 });
        // 23:00 UTC on the runner, 01:00 UTC on the host: the host's day is the closing date.
        const byHost = decide({ settings, facts, now: hostNow(new Date(T), facts.clockSkewMs), servicesRecord: "/r" });
        assert.equal(byHost.refusal, undefined, byHost.refusal);
        const byRunner = decide({ settings, facts, now: new Date(T), servicesRecord: "/r" });
        assert.match(
            byRunner.refusal ?? "",
            /closingDateReached: 1 day\(s\) left until the closing date 2026-06-01: the gate opens at 2026-06-01 00:00 UTC by the host's clock \(now 2026-05-31 23:00 UTC there\)/,
        );
    });
});

describe("the database's times (lib/host/ssh.ts utcTimestamp)", () => {
    test("read as UTC, as Rails wrote them, whatever the runner's time zone", () => {
        const tz = process.env.TZ;
        process.env.TZ = "America/New_York";
        try {
            const text = "2026-06-01 10:00:00.123456";
            // node-pg's own reading takes the runner's zone: four hours off here.
            const byDefault = (pgTypes.getTypeParser(pgTypes.builtins.TIMESTAMP, "text") as (t: string) => Date)(text);
            assert.equal(byDefault.toISOString(), "2026-06-01T14:00:00.123Z", "node-pg's default in New York");
            assert.equal(utcTimestamp(text).toISOString(), "2026-06-01T10:00:00.123Z");
            assert.equal(utcTimestamp("2026-06-01 10:00:00").toISOString(), "2026-06-01T10:00:00.000Z");
            assert.equal(utcTimestamp("infinity"), Infinity);
        } finally {
            if (tz === undefined) delete process.env.TZ;
            else process.env.TZ = tz;
        }
    });
});
