// Unit tests of what the closure reads from Mastodon's settings (lib/mastodon/site-settings.ts) and decides
// about archives, their retention and the announcement e-mail (lib/rules/gates.ts, lib/rules/plan.ts, lib/rules/notice.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defaultSettings, resolveMastodonSettings, resolveSetting, rowFromSql, settingRowValue } from "../lib/mastodon/site-settings";
import { archiveDownloads, archiveRecentDays, archivesVacuumed, checkArchiveRetention, downloadGraceDays } from "../lib/rules/archives";
import { evaluateGate } from "../lib/rules/gates";
import { HostFacts } from "../lib/rules/facts";
import { planClosure } from "../lib/rules/plan";
import { announcementText } from "../lib/rules/notice";
import type { Settings } from "../lib/rules/settings";
import { Stage } from "../lib/rules/stages";
import { IDLE_DATABASE, testFacts } from "./support/facts";
import { testSettings } from "./support/settings";

/** config/settings.yml as upstream writes it (abridged), with the production section merging the defaults. */
const settingsYml = (registrations: string, retention: number | "" = 7, productionExtra = "") =>
    `# This file contains default values, and does not need to be edited.\n\ndefaults: &defaults\n  site_title: Mastodon\n` +
    `  registrations_mode: '${registrations}'\n  backups_retention_period: ${retention}\n\ndevelopment:\n  <<: *defaults\n\n` +
    `test:\n  <<: *defaults\n\nproduction:\n  <<: *defaults\n${productionExtra}`;

const settings = (extra: Record<string, string> = {}): Settings => testSettings((extra.stage as Stage | undefined) ?? "closed", extra);

/** A 4.4 host at announced, archives kept 7 days, `db` over its database figures. */
function facts(db: Partial<NonNullable<HostFacts["database"]>> = {}, extra: Partial<HostFacts> = {}): HostFacts {
    return testFacts("announced", { mastodonVersion: "4.4.0", database: { ...IDLE_DATABASE, backupsRetentionDays: 7, ...db }, ...extra });
}

describe("Mastodon's settings, resolved as Setting.[] does", () => {
    test("no row: the production default of config/settings.yml, which differs between 4.2 and 4.3", () => {
        assert.deepEqual(resolveMastodonSettings({}, settingsYml("open")), { registrationsMode: "open", backupsRetentionDays: 7 }, "4.2");
        assert.deepEqual(resolveMastodonSettings({}, settingsYml("none")), { registrationsMode: "none", backupsRetentionDays: 7 }, "4.3+");
    });

    test("a row wins over the default, YAML-decoded as Setting#value", () => {
        const r = resolveMastodonSettings({ registrations_mode: "--- approved\n", backups_retention_period: "--- 30\n" }, settingsYml("none"));
        assert.deepEqual(r, { registrationsMode: "approved", backupsRetentionDays: 30 });
        assert.equal(settingRowValue("--- 'open'\n"), "open");
        assert.equal(settingRowValue('--- "none"\n...\n'), "none");
    });

    test("a fork's defaults count: production overrides merged over the defaults", () => {
        const glitchLike = settingsYml("none", 7, "  registrations_mode: 'approved'\n  backups_retention_period: 14\n");
        assert.deepEqual(defaultSettings(glitchLike).registrations_mode, "approved");
        assert.deepEqual(resolveMastodonSettings({}, glitchLike), { registrationsMode: "approved", backupsRetentionDays: 14 });
    });

    test("a settings.yml that is not YAML is refused by its line, without quoting it", () => {
        const secret = "s3cr3t-Zq8vN2pW7xK4mR";
        assert.throws(
            () => defaultSettings(`defaults: &defaults\n  a: 1\n  b: [${secret}\n`),
            (e: Error) => /^config\/settings\.yml is not YAML \(line \d+\)$/.test(e.message) && !e.message.includes(secret),
        );
    });

    test("a blank or zero retention means no vacuum; a row without a value is nil, not the default", () => {
        assert.equal(resolveMastodonSettings({}, settingsYml("none", "")).backupsRetentionDays, undefined);
        assert.equal(resolveMastodonSettings({ backups_retention_period: "--- 0\n" }, settingsYml("none")).backupsRetentionDays, undefined);
        assert.equal(resolveMastodonSettings({ backups_retention_period: null }, settingsYml("none")).backupsRetentionDays, undefined);
        assert.equal(resolveSetting("registrations_mode", null, { registrations_mode: "open" }), null);
        assert.equal(resolveMastodonSettings({ registrations_mode: null }, settingsYml("open")).registrationsMode, "none");
    });

    test("the SQL column tells no row (NULL) from a row without a value ('')", () => {
        assert.equal(rowFromSql(null), undefined);
        assert.equal(rowFromSql(""), null);
        assert.equal(rowFromSql("--- open\n"), "--- open\n");
    });
});

describe("archive retention and the download grace", () => {
    test("the grace defaults to one day less than the retention, 7 days when nothing is vacuumed", () => {
        assert.equal(downloadGraceDays(settings(), facts({ backupsRetentionDays: 7 })), 6);
        assert.equal(downloadGraceDays(settings(), facts({ backupsRetentionDays: 30 })), 29);
        assert.equal(downloadGraceDays(settings(), facts({ backupsRetentionDays: undefined })), 7);
        assert.equal(downloadGraceDays(settings({ downloadGraceDays: "3" }), facts()), 3);
    });

    test("entering closed with a grace that outlasts the retention is refused with both numbers", () => {
        const r = checkArchiveRetention("closed", facts(), settings({ downloadGraceDays: "7" }));
        assert.ok(r.refusal, "refused");
        assert.match(r.refusal!, /downloadGraceDays is 7 day\(s\) but the server's user archive retention period \(backups_retention_period\) is 7 day\(s\)/);
        assert.match(r.refusal!, /at least 8 .*at most 6/);
        assert.equal(checkArchiveRetention("closed", facts(), settings({ downloadGraceDays: "6" })).refusal, undefined, "6 fits in 7");
        assert.equal(checkArchiveRetention("closed", facts(), settings()).refusal, undefined, "the default fits");
        assert.equal(
            checkArchiveRetention("closed", facts({ backupsRetentionDays: undefined }), settings({ downloadGraceDays: "90" })).refusal,
            undefined,
            "no vacuum",
        );
    });

    test("checked when closed or self-destructing is entered, not on later runs nor at other stages", () => {
        const long = settings({ downloadGraceDays: "10" });
        assert.ok(checkArchiveRetention("self-destructing", facts({}, { currentStage: "closed" }), long).refusal);
        assert.equal(checkArchiveRetention("closed", facts({}, { currentStage: "closed" }), long).refusal, undefined);
        assert.equal(checkArchiveRetention("announced", facts({}, { currentStage: "operating" }), long).refusal, undefined);
    });

    test("4.3+ self-destruct mode stops the vacuums; legacy self-destruct does not", () => {
        assert.equal(archivesVacuumed(facts()), true);
        assert.equal(archivesVacuumed(facts({}, { selfDestructEnabled: true })), false);
        assert.equal(archivesVacuumed(facts({}, { selfDestructEnabled: true, legacySelfDestruct: true, mastodonVersion: "4.2.10" })), true);
    });

    test("the grace gate counts the derived grace", () => {
        const f = facts({ lastArchiveFinishedAt: "2026-06-01T00:00:00Z" });
        const g = evaluateGate("downloadGracePassed", f, settings(), new Date("2026-06-03T00:00:00Z"));
        assert.equal(g.ok, false);
        assert.match(g.figure, /4 day\(s\) of the 6-day download grace left \(holds on 2026-06-07\)/);
        assert.equal(evaluateGate("downloadGracePassed", f, settings(), new Date("2026-06-07T00:00:00Z")).ok, true);
    });

    test("a recent archive is kept only if it outlives the grace", () => {
        assert.equal(archiveRecentDays(settings(), facts({ backupsRetentionDays: 7 })), 0, "7-day retention, 6-day grace: everyone gets a new one");
        assert.equal(archiveRecentDays(settings({ downloadGraceDays: "7" }), facts({ backupsRetentionDays: 30 })), 6, "Mastodon's own 6 days");
        assert.equal(archiveRecentDays(settings({ downloadGraceDays: "25" }), facts({ backupsRetentionDays: 30 })), 4);
        assert.equal(archiveRecentDays(settings(), facts({ backupsRetentionDays: undefined })), 6);
    });

    test("the outputs count how many users can download until each day, naming none", () => {
        const users = [
            { username: "alice", requestedAt: "2026-06-01T10:00:00.000Z" },
            { username: "bob", requestedAt: "2026-06-01T11:00:00.000Z" },
            { username: "carol", requestedAt: "2026-05-30T09:00:00.000Z" },
            { username: "dave" },
        ];
        const d = archiveDownloads(facts({ latestArchiveByUser: users }))!;
        assert.deepEqual(d.until, { "2026-06-08": 2, "2026-06-06": 1 });
        assert.equal(d.withoutArchive, 1);
        assert.match(d.kept, /7 day\(s\) after each archive was requested/);
        const sd = archiveDownloads(facts({ latestArchiveByUser: users }, { selfDestructEnabled: true }))!;
        assert.deepEqual(sd.until, { "until the host goes dormant": 3 });
        assert.match(sd.kept, /self-destruct mode stopped the vacuums/);
        assert.ok(!JSON.stringify([d, sd]).match(/alice|bob|carol|dave/), `a username in ${JSON.stringify([d, sd])}`);
    });
});

describe("the announcement e-mail", () => {
    const plan = (stage: Stage, f: HostFacts, extra: Record<string, string> = {}) =>
        planClosure(settings({ stage, emailAnnouncement: "true", confirmSelfDestruct: "social.example", ...extra }), f, new Date("2026-06-01T00:00:00Z"));

    test("off by default; on from announced, on 4.4+", () => {
        assert.equal(planClosure(settings({ stage: "announced" }), facts(), new Date()).emailAnnouncement, false);
        assert.equal(plan("announced", facts({}, { currentStage: "operating" })).emailAnnouncement, true);
        assert.equal(plan("operating", facts({}, { currentStage: "operating" })).emailAnnouncement, false);
        assert.deepEqual(plan("announced", facts({}, { currentStage: "operating" })).refusals, []);
    });

    test("refused before 4.4, naming the version", () => {
        const p = plan("announced", facts({}, { mastodonVersion: "4.3.2", currentStage: "operating" }));
        assert.match(p.refusals.join("\n"), /emailAnnouncement needs Mastodon 4\.4 or later .* this host runs 4\.3\.2/);
    });

    test("self-destruct is refused while the e-mail was never sent; kept once sent", () => {
        const unsent = plan("self-destructing", facts({}, { currentStage: "closed" }));
        assert.match(unsent.refusals.join("\n"), /never e-mailed.*run up at stage "closed" with emailAnnouncement set first/);
        const sent = plan("self-destructing", facts({}, { currentStage: "closed", announcementEmailedAt: "2026-05-01T00:00:00Z" }));
        assert.deepEqual(sent.refusals, []);
        assert.equal(sent.emailAnnouncement, true, "declared again, so the step keeps its record and sends nothing");
        const late = plan(
            "dormant",
            facts({}, { currentStage: "self-destructing", selfDestructEnabled: true, reachedAt: { "self-destructing": "2026-05-01T00:00:00Z" } }),
        );
        assert.match(late.refusals.join("\n"), /self-destruct has begun suspending/);
    });
});

describe("the announcement says how archives come", () => {
    const n = { domain: "social.example", closingDate: "2026-06-01", language: "en" as const };
    test("with requestArchives: prepared at the closing date and sent by e-mail, no request needed", () => {
        const t = announcementText({ ...n, archivesByEmail: true });
        assert.match(t, /On the closing date an archive of your account .* is prepared for you, and you get an e-mail with a link to download it/);
        assert.doesNotMatch(t, /Request your archive/);
        const ja = announcementText({ ...n, language: "ja", archivesByEmail: true });
        assert.match(ja, /メールでお送りします/);
    });
    test("without: users request their own", () => {
        assert.match(announcementText(n), /"Request your archive"/);
    });
});
