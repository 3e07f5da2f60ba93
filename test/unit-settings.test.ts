// Unit tests of lib/rules/settings/: every key's validation and default, with a fake RawConfig.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CLOUDFLARE_KEYS, DEFAULTS, isCalendarDate, OPTIONAL_SECRET_KEYS, parseSettings, RawConfig, SECRET_KEYS, SettingsError } from "../lib/rules/settings";
import { STAGES } from "../lib/rules/stages";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMmJ1cGvQ0f0g3Kf9gq0u3l1Y2rP6oZr2m6Ykq7yQX5d";
const AGE = "age1" + "q".repeat(58);

/** The keys every stage needs, with the secrets stored as secrets. */
function baseConfig(stage = "operating"): Record<string, string> {
    return {
        stage,
        host: "203.0.113.10",
        domain: "social.example",
        sshHostKey: HOST_KEY,
        sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----",
        databasePassword: "hunter2",
    };
}

function raw(values: Record<string, string | undefined>, plain: string[] = []): RawConfig {
    return {
        get: (k) => values[k],
        isSecret: (k) => ([...SECRET_KEYS, ...OPTIONAL_SECRET_KEYS] as readonly string[]).includes(k) && !plain.includes(k),
    };
}

/** The problems listed by the SettingsError thrown for `values` (fails when nothing is thrown). */
function problems(values: Record<string, string | undefined>, plain: string[] = []): string[] {
    try {
        parseSettings(raw(values, plain));
    } catch (err) {
        assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${err}`);
        const lines = err.message
            .split("\n")
            .slice(1)
            .map((l) => l.replace(/^\s*- /, ""));
        assert.ok(err.message.startsWith("invalid mastodon-closure settings:"));
        return lines;
    }
    assert.fail(`parseSettings accepted ${JSON.stringify(values)}`);
}

function onlyProblem(values: Record<string, string | undefined>, plain: string[] = []): string {
    const p = problems(values, plain);
    assert.equal(p.length, 1, `expected exactly one problem, got:\n${p.join("\n")}`);
    return p[0];
}

describe("parseSettings: required keys", () => {
    test("the base config is accepted at operating", () => {
        const s = parseSettings(raw(baseConfig()));
        assert.equal(s.stage, "operating");
        assert.equal(s.domain, "social.example");
        assert.equal(s.ssh.host, "203.0.113.10");
        assert.equal(s.ssh.hostKey, HOST_KEY);
    });

    for (const key of ["stage", "host", "domain", "sshHostKey", "sshPrivateKey", "databasePassword"]) {
        test(`missing ${key} is named in the error`, () => {
            const values = baseConfig();
            delete values[key];
            const p = onlyProblem(values);
            assert.match(p, new RegExp(`^${key} is required`));
        });
        test(`blank ${key} (whitespace only) counts as missing`, () => {
            const p = onlyProblem({ ...baseConfig(), [key]: "   " });
            assert.match(p, new RegExp(`^${key} is required`));
        });
    }

    test("missing stage lists the allowed stages", () => {
        const values = baseConfig();
        delete values.stage;
        assert.match(onlyProblem(values), new RegExp(STAGES.join(", ")));
    });

    test("missing secrets tell how to set them as secrets", () => {
        const values = baseConfig();
        delete values.sshPrivateKey;
        assert.match(onlyProblem(values), /pulumi config set --secret sshPrivateKey/);
    });
});

describe("parseSettings: secrets", () => {
    for (const key of SECRET_KEYS) {
        test(`${key} stored in plain text is rejected with the --secret hint`, () => {
            const p = onlyProblem(baseConfig(), [key]);
            assert.match(p, new RegExp(`^${key} is stored in plain text`));
            assert.ok(p.includes(`pulumi config set --secret ${key}`), p);
        });
    }
    test("both secrets in plain text: two problems", () => {
        const p = problems(baseConfig(), ["sshPrivateKey", "databasePassword"]);
        assert.equal(p.length, 2);
    });
});

describe("parseSettings: stage and dates", () => {
    test("unknown stage names the allowed list and the value", () => {
        const p = onlyProblem({ ...baseConfig(), stage: "closing" });
        assert.ok(p.includes(`stage must be one of ${STAGES.join(", ")}`), p);
        assert.ok(p.includes('"closing"'), p);
    });

    test("stage is case-sensitive", () => {
        assert.match(onlyProblem({ ...baseConfig(), stage: "Closed", closingDate: "2026-06-01" }), /^stage must be one of/);
    });

    for (const bad of [
        "2026-6-1",
        "01/06/2026",
        "2026/06/01",
        "20260601",
        "2026-06-01T00:00:00Z",
        "tomorrow",
        "2026-13-01",
        "2026-00-10",
        "2026-02-30",
        "2025-02-29",
        "2026-04-31",
        "2026-06-00",
    ]) {
        test(`closingDate "${bad}" is rejected`, () => {
            const p = onlyProblem({ ...baseConfig("announced"), closingDate: bad });
            assert.ok(p.startsWith("closingDate must be a date as YYYY-MM-DD"), p);
            assert.ok(p.includes(`"${bad}"`), p);
        });
    }

    test("real calendar dates are accepted (leap day included)", () => {
        for (const d of ["2028-02-29", "2026-12-31", "2026-01-01"]) {
            assert.equal(isCalendarDate(d), true, d);
            assert.equal(parseSettings(raw({ ...baseConfig("announced"), closingDate: d })).closingDate, d);
        }
        assert.equal(isCalendarDate("2026-02-30"), false);
        assert.equal(isCalendarDate("2100-02-29"), false);
    });

    test("closingDate is not required at operating", () => {
        assert.equal(parseSettings(raw(baseConfig("operating"))).closingDate, undefined);
    });

    for (const stage of STAGES.slice(1)) {
        test(`closingDate is required at ${stage}`, () => {
            const values = { ...baseConfig(stage), confirmSelfDestruct: "social.example" };
            const p = onlyProblem(values);
            assert.match(p, /^closingDate is required from stage "announced" on/);
        });
    }

    for (const stage of ["self-destructing", "dormant", "parked"]) {
        test(`confirmSelfDestruct missing at ${stage} is refused, naming the domain`, () => {
            const p = onlyProblem({ ...baseConfig(stage), closingDate: "2026-06-01" });
            assert.match(p, /^confirmSelfDestruct is required from stage "self-destructing" on/);
            assert.ok(p.includes('"social.example"'), p);
        });
        test(`confirmSelfDestruct not equal to the domain at ${stage} is refused`, () => {
            const p = onlyProblem({ ...baseConfig(stage), closingDate: "2026-06-01", confirmSelfDestruct: "social.example.org" });
            assert.match(p, /^confirmSelfDestruct must equal the server's domain "social.example"; got "social.example.org"/);
        });
        test(`confirmSelfDestruct equal to the domain at ${stage} is accepted`, () => {
            const s = parseSettings(raw({ ...baseConfig(stage), closingDate: "2026-06-01", confirmSelfDestruct: "social.example" }));
            assert.equal(s.stage, stage);
            assert.equal(s.confirmSelfDestruct, "social.example");
        });
    }

    for (const stage of ["operating", "announced", "closed"]) {
        test(`confirmSelfDestruct is not needed at ${stage}`, () => {
            const s = parseSettings(raw({ ...baseConfig(stage), closingDate: "2026-06-01" }));
            assert.equal(s.confirmSelfDestruct, undefined);
        });
    }
});

describe("parseSettings: ports, paths, names, keys", () => {
    for (const key of ["sshPort", "databasePort"]) {
        for (const bad of ["0", "65536", "-1", "22.5", "ssh", "0x16", "2 2"]) {
            test(`${key} "${bad}" is rejected with the allowed range`, () => {
                const p = onlyProblem({ ...baseConfig(), [key]: bad });
                assert.equal(p, `${key} must be a whole number from 1 to 65535, got "${bad}"`);
            });
        }
    }
    test("ports at the bounds are accepted", () => {
        const s = parseSettings(raw({ ...baseConfig(), sshPort: "65535", databasePort: "1" }));
        assert.equal(s.ssh.port, 65535);
        assert.equal(s.database.port, 1);
    });

    for (const key of ["liveDir", "nginxSite", "dumpDir"]) {
        for (const bad of ["relative/path", "/home/mas todon/live", "/home/'mastodon'", '/srv/"x"', "/srv/$HOME", "/srv/`id`", "/srv/a\\b", "/srv/tab\there"]) {
            test(`${key} ${JSON.stringify(bad)} is rejected`, () => {
                const p = onlyProblem({ ...baseConfig(), [key]: bad });
                assert.ok(p.startsWith(`${key} must be an absolute path without spaces or quotes`), p);
            });
        }
    }

    // Preview reads nginxSite and prints what it finds wrong there, on pull requests too: no value may make it
    // read a file outside nginx's configuration.
    for (const bad of [
        "/etc/nginx/../shadow",
        "/etc/nginx/sites-available/../../shadow",
        "/etc/nginx/sites-available/mastodon/..",
        "/etc/shadow",
        "/root/.ssh/id_ed25519",
        "/etc/nginx",
        "/etc/nginx/",
        "/etc/nginxx/sites-available/mastodon",
        "/etc/nginx//sites-available/mastodon",
        "/etc/nginx/./sites-available/mastodon",
        "/etc/nginx/sites-available/",
        "/home/mastodon/live/dist/nginx.conf",
    ]) {
        test(`nginxSite ${JSON.stringify(bad)} is refused, naming nginx's configuration directory`, () => {
            assert.equal(
                onlyProblem({ ...baseConfig(), nginxSite: bad }),
                `nginxSite must be a file under /etc/nginx/ (nginx's configuration, e.g. /etc/nginx/sites-available/mastodon), ` +
                    `written without ".", "..", "//" or a "/" at the end, got "${bad}"`,
            );
        });
    }
    test("nginxSite anywhere in nginx's configuration is taken", () => {
        for (const site of ["/etc/nginx/sites-enabled/mastodon", "/etc/nginx/conf.d/social.example.conf", "/etc/nginx/sites-available/social..example"]) {
            assert.equal(parseSettings(raw({ ...baseConfig(), nginxSite: site })).nginxSite, site);
        }
    });
    for (const key of ["liveDir", "dumpDir"]) {
        for (const bad of ["/home/mastodon/live/../../../root", "/var/backups/..", "/../etc"]) {
            test(`${key} ${JSON.stringify(bad)} (going up with "..") is refused`, () => {
                assert.equal(
                    onlyProblem({ ...baseConfig(), [key]: bad }),
                    `${key} must not go up a directory with "..": write the directory itself, got "${bad}"`,
                );
            });
        }
        test(`${key} keeps what it took: a trailing "/", "//", "." and ".." inside a name`, () => {
            for (const dir of ["/srv/mastodon/live/", "/srv//mastodon", "/srv/./mastodon", "/srv/mastodon..old"]) {
                const s = parseSettings(raw({ ...baseConfig(), [key]: dir }));
                assert.equal(key === "liveDir" ? s.deployment.dir : s.dumpDir, dir);
            }
        });
    }

    for (const bad of ["age1short", "AGE1" + "q".repeat(58), "age1" + "Q".repeat(58), "age1" + "q".repeat(59), "ssh-ed25519 AAAA", "age2" + "q".repeat(58)]) {
        test(`dumpAgeRecipient "${bad.slice(0, 24)}" is rejected`, () => {
            assert.match(onlyProblem({ ...baseConfig(), dumpAgeRecipient: bad }), /^dumpAgeRecipient must be an age public key/);
        });
    }
    test("a well-formed age recipient is accepted", () => {
        assert.equal(parseSettings(raw({ ...baseConfig(), dumpAgeRecipient: AGE })).dumpAgeRecipient, AGE);
    });

    for (const bad of ["0", "366", "30,,7", "30;7", "7,x", "-1", "1.5", "30, 7, 0"]) {
        test(`reminderDaysBefore "${bad}" is rejected`, () => {
            assert.match(onlyProblem({ ...baseConfig(), reminderDaysBefore: bad }), /^reminderDaysBefore must be a comma-separated list of days from 1 to 365/);
        });
    }
    test("reminderDaysBefore is deduplicated and sorted latest-first (furthest day first)", () => {
        assert.deepEqual(parseSettings(raw({ ...baseConfig(), reminderDaysBefore: "1, 30,7,30" })).reminderDaysBefore, [30, 7, 1]);
        assert.deepEqual(parseSettings(raw({ ...baseConfig(), reminderDaysBefore: "365" })).reminderDaysBefore, [365]);
    });

    test("bad domain, host key, successor, language, unit, users, requestArchives", () => {
        const cases: Array<[string, string, RegExp]> = [
            ["domain", "social_example", /^domain must be a DNS name/],
            ["domain", "https://social.example", /^domain must be a DNS name/],
            ["sshHostKey", "AAAAC3NzaC1lZDI1NTE5", /^sshHostKey must be an OpenSSH public key line/],
            ["successor", "http://next.example", /^successor must be a server's domain or https:\/\/ URL/],
            ["successor", "next", /^successor must be/],
            ["language", "de", /^language must be one of en, ja; got "de"/],
            ["mailService", "postfix; rm -rf /", /^mailService must be a systemd unit name/],
            ["sshUser", "Root", /^sshUser must be a Unix user name/],
            ["mastodonUser", "mas todon", /^mastodonUser must be a Unix user name/],
            ["requestArchives", "yes", /^requestArchives must be one of true, false; got "yes"/],
            ["archiveRecentDays", "3651", /^archiveRecentDays must be a whole number from 0 to 3650/],
            ["downloadGraceDays", "-3", /^downloadGraceDays must be a whole number from 0 to 3650/],
            ["emailAnnouncement", "yes", /^emailAnnouncement must be one of true, false; got "yes"/],
            ["dumpRetentionDays", "0", /^dumpRetentionDays must be a whole number from 1 to 36500/],
            ["goneDays", "two weeks", /^goneDays must be a whole number from 0 to 3650/],
        ];
        for (const [key, value, re] of cases) {
            assert.match(onlyProblem({ ...baseConfig(), [key]: value }), re, `${key}=${value}`);
        }
    });

    test("good optional values are taken", () => {
        const s = parseSettings(
            raw({
                ...baseConfig("announced"),
                closingDate: "2026-06-01",
                successor: "https://next.example/about",
                language: "ja",
                mailService: "postfix@-.service",
                requestArchives: "true",
                archiveRecentDays: "0",
                downloadGraceDays: "0",
                emailAnnouncement: "true",
                goneDays: "0",
                sshPort: "2222",
                sshUser: "admin",
                liveDir: "/srv/mastodon/live",
                databaseHost: "db.internal",
                databaseName: "mastodon",
            }),
        );
        assert.equal(s.successor, "https://next.example/about");
        assert.equal(s.language, "ja");
        assert.equal(s.requestArchives, true);
        assert.equal(s.archiveRecentDays, 0);
        assert.equal(s.downloadGraceDays, 0);
        assert.equal(s.emailAnnouncement, true);
        assert.equal(s.goneDays, 0);
        assert.deepEqual(s.ssh, { host: "203.0.113.10", port: 2222, user: "admin", hostKey: HOST_KEY });
        assert.deepEqual(s.deployment, { kind: "systemd", dir: "/srv/mastodon/live", mastodonUser: "mastodon", mailService: "postfix@-.service" });
        assert.deepEqual(s.database, { host: "db.internal", port: 5432, name: "mastodon", user: "mastodon" });
    });
});

describe("parseSettings: defaults and several problems", () => {
    test("every optional key takes its DEFAULTS value", () => {
        const s = parseSettings(raw(baseConfig()));
        assert.equal(s.ssh.port, DEFAULTS.sshPort);
        assert.equal(s.ssh.user, DEFAULTS.sshUser);
        assert.deepEqual(
            s.deployment,
            { kind: DEFAULTS.deployment, dir: DEFAULTS.liveDir, mastodonUser: DEFAULTS.mastodonUser },
            "no mailService: most servers use a relay",
        );
        assert.equal(DEFAULTS.deployment, "systemd");
        assert.deepEqual(s.database, {
            host: DEFAULTS.databaseHost,
            port: DEFAULTS.databasePort,
            name: DEFAULTS.databaseName,
            user: DEFAULTS.databaseUser,
        });
        assert.equal(s.nginxSite, DEFAULTS.nginxSite);
        assert.equal(s.language, DEFAULTS.language);
        assert.deepEqual(s.reminderDaysBefore, DEFAULTS.reminderDaysBefore);
        assert.equal(s.requestArchives, DEFAULTS.requestArchives);
        assert.equal(s.archiveRecentDays, DEFAULTS.archiveRecentDays);
        assert.equal(s.downloadGraceDays, undefined, "unset: derived from the server's archive retention (lib/rules/gates.ts)");
        assert.equal(s.emailAnnouncement, DEFAULTS.emailAnnouncement);
        assert.equal(s.dumpDir, DEFAULTS.dumpDir);
        assert.equal(s.dumpRetentionDays, DEFAULTS.dumpRetentionDays);
        assert.equal(s.goneDays, DEFAULTS.goneDays);
        for (const k of ["closingDate", "successor", "announcementText", "confirmSelfDestruct", "dumpAgeRecipient"] as const) {
            assert.equal(s[k], undefined, k);
        }
        // The documented defaults themselves.
        assert.deepEqual(DEFAULTS.reminderDaysBefore, [30, 7, 1]);
        assert.equal(DEFAULTS.archiveRecentDays, 6);
    });

    test("values are trimmed", () => {
        const s = parseSettings(raw({ ...baseConfig(" announced "), closingDate: " 2026-06-01\n", domain: " social.example " }));
        assert.equal(s.stage, "announced");
        assert.equal(s.closingDate, "2026-06-01");
        assert.equal(s.domain, "social.example");
    });

    test("several problems are reported together in one error", () => {
        const p = problems(
            {
                stage: "dormant",
                domain: "social.example",
                sshHostKey: HOST_KEY,
                sshPrivateKey: "k",
                databasePassword: "p",
                sshPort: "99999",
                liveDir: "live",
                closingDate: "2026-02-30",
                dumpAgeRecipient: "age1nope",
                reminderDaysBefore: "0",
            },
            ["databasePassword"],
        );
        const expect = [
            /^databasePassword is stored in plain text/,
            /^closingDate must be a date/,
            /^reminderDaysBefore must be/,
            /^dumpAgeRecipient must be/,
            /^host is required/,
            /^sshPort must be/,
            /^liveDir must be/,
            /^confirmSelfDestruct is required/,
        ];
        for (const re of expect)
            assert.ok(
                p.some((l) => re.test(l)),
                `${re} missing from:\n${p.join("\n")}`,
            );
        assert.equal(p.length, expect.length, p.join("\n"));
    });

    test("a completely empty config names every required key", () => {
        const p = problems({});
        for (const key of ["stage", "host", "domain", "sshHostKey", "sshPrivateKey", "databasePassword"]) {
            assert.ok(
                p.some((l) => l.startsWith(`${key} is required`)),
                `${key} not named:\n${p.join("\n")}`,
            );
        }
    });
});

describe("parseSettings: parking on Cloudflare", () => {
    const ACCOUNT = "0123456789abcdef0123456789abcdef";
    const cf = (extra: Record<string, string> = {}) => ({
        ...baseConfig(),
        cloudflareAccountId: ACCOUNT,
        cloudflareZone: "social.example",
        cloudflareApiToken: "tok",
        ...extra,
    });

    test("without any Cloudflare key there is no parking at the edge", () => {
        assert.equal(parseSettings(raw(baseConfig("operating"))).cloudflare, undefined);
    });

    test("the three keys give the zone, the domain as the one hostname and the documented defaults", () => {
        const s = parseSettings(raw(cf()));
        assert.deepEqual(s.cloudflare, {
            accountId: ACCOUNT,
            zone: "social.example",
            hostnames: ["social.example"],
            nullMx: true,
            spf: true,
            dmarc: true,
            stopNginx: false,
        });
        assert.equal(DEFAULTS.parkNullMx && DEFAULTS.parkSpf && DEFAULTS.parkDmarc, true);
        assert.equal(DEFAULTS.stopNginxWhenParked, false);
    });

    test("extras, flags, a zone written with a trailing dot or in capitals", () => {
        const s = parseSettings(
            raw(
                cf({
                    cloudflareZone: "Social.Example.",
                    parkExtraHostnames: " www.social.example, Files.Social.Example ,social.example",
                    parkNullMx: "false",
                    parkSpf: "false",
                    parkDmarc: "false",
                    stopNginxWhenParked: "true",
                }),
            ),
        );
        assert.deepEqual(s.cloudflare, {
            accountId: ACCOUNT,
            zone: "social.example",
            hostnames: ["social.example", "www.social.example", "files.social.example"],
            nullMx: false,
            spf: false,
            dmarc: false,
            stopNginx: true,
        });
    });

    for (const key of ["cloudflareAccountId", "cloudflareZone", "cloudflareApiToken"]) {
        test(`${key} missing while other Cloudflare keys are set is refused, naming it`, () => {
            const values = cf();
            delete (values as Record<string, string>)[key];
            assert.match(onlyProblem(values), new RegExp(`^${key} is required with `));
        });
    }

    for (const key of CLOUDFLARE_KEYS.filter((k) => !["cloudflareAccountId", "cloudflareZone", "cloudflareApiToken"].includes(k))) {
        test(`${key} alone asks for the account, the zone and the token`, () => {
            const value = key === "parkExtraHostnames" ? "www.social.example" : "true";
            const p = problems({ ...baseConfig(), [key]: value });
            assert.deepEqual(
                p.map((l) => l.split(" ")[0]),
                ["cloudflareAccountId", "cloudflareZone", "cloudflareApiToken"],
                p.join("\n"),
            );
            assert.ok(
                p.every((l) => l.includes(`required with ${key}`)),
                p.join("\n"),
            );
        });
    }

    test("the API token stored in plain text is refused with the --secret hint", () => {
        const p = onlyProblem(cf(), ["cloudflareApiToken"]);
        assert.match(
            p,
            /^cloudflareApiToken is stored in plain text: .* Treat it as leaked: roll the token in Cloudflare's dashboard \(My Profile > API Tokens\); then set the new value with: pulumi config set --secret cloudflareApiToken \.\.\.$/,
        );
    });

    test("bad values name the key and what is allowed", () => {
        const cases: Array<[string, string, RegExp]> = [
            [
                "cloudflareAccountId",
                "0123456789ABCDEF0123456789ABCDEF",
                /^cloudflareAccountId must be 32 lowercase hexadecimal characters, got "0123456789ABCDEF/,
            ],
            ["cloudflareAccountId", "1234", /^cloudflareAccountId must be 32 lowercase hexadecimal/],
            ["cloudflareZone", "example_org", /^cloudflareZone must be a DNS name like example.org, got "example_org"/],
            ["cloudflareZone", "other.example", /^cloudflareZone "other.example" does not hold the domain "social.example"/],
            ["cloudflareZone", "cial.example", /^cloudflareZone "cial.example" does not hold the domain/],
            ["parkExtraHostnames", "www.social.example,,", /^parkExtraHostnames must be a comma-separated list of DNS names/],
            ["parkExtraHostnames", "https://www.social.example", /^parkExtraHostnames must be a comma-separated list/],
            ["parkExtraHostnames", "www.other.org", /^parkExtraHostnames: "www.other.org" is not in the zone "social.example"/],
            ["parkNullMx", "yes", /^parkNullMx must be one of true, false; got "yes"/],
            ["parkSpf", "1", /^parkSpf must be one of true, false/],
            ["parkDmarc", "no", /^parkDmarc must be one of true, false/],
            ["stopNginxWhenParked", "on", /^stopNginxWhenParked must be one of true, false/],
        ];
        for (const [key, value, re] of cases) {
            const p = problems(cf({ [key]: value }));
            assert.ok(
                p.some((l) => re.test(l)),
                `${key}=${value}:\n${p.join("\n")}`,
            );
            assert.equal(p.length, 1 + (value === "www.social.example,," ? 1 : 0), `${key}=${value}:\n${p.join("\n")}`);
        }
    });
});
