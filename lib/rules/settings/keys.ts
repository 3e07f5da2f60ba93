// Every key of the stack's settings (Pulumi.<stack>.yaml, namespace `mastodon-closure`), declared once: its
// schema gives its type, its default and its check with the message naming what is allowed. A default is
// written as in the stack file and goes through the same check. What depends on another key (the deployment
// kind, the stage, the Cloudflare and split-host groups) is in the rules beside this file.
import { z } from "zod";
import { DEPLOYMENT_KINDS } from "../../mastodon/deployment";
import { LANGUAGES } from "../../gone/contract";
import { STAGES } from "../stages";
import { ROLE_MACHINE } from "./roles";
import * as v from "./values";

export const KEYS = z.object({
    stage: v.required(v.oneOf(STAGES), `one of ${STAGES.join(", ")}`),
    domain: v.required(
        v.text
            .superRefine(v.notPlaceholder("your server's LOCAL_DOMAIN (pulumi config set mastodon-closure:domain ...)"))
            .superRefine(v.dnsName("social.example.org")),
        "the server's LOCAL_DOMAIN, e.g. social.example.org",
    ),

    // The Mastodon host (role `app`), and every role not on a machine of its own.
    host: v.required(
        v.text.superRefine(v.notPlaceholder("your Mastodon server's SSH address (pulumi config set mastodon-closure:host ...)")),
        "the Mastodon host's address for SSH",
    ),
    sshPort: v.port.default("22"),
    sshUser: v.unixUser.default("root"),
    sshHostKey: v.required(
        v.text
            .superRefine(v.notPlaceholder("your server's host key line (ssh-keyscan -t ed25519 HOST, checked against the server's console)"))
            .superRefine(v.hostKeyLine()),
        'the host public key line to pin, e.g. "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 HOST)',
    ),
    sshPrivateKey: v.secret,
    /** Hand the host over to this stack on purpose: the record another stack's closure left on it, as the
     *  refusal prints it (README: One closure per host). */
    adoptHost: v.ownerRecordToken.optional(),

    // Roles on machines of their own (README: Split hosts), all of a role's keys or none; the port and the
    // user default to the Mastodon host's (split-hosts.ts).
    proxySshHost: v.text.superRefine(v.notPlaceholder(`the SSH address of ${ROLE_MACHINE.proxy}`)).optional(),
    proxySshPort: v.port.optional(),
    proxySshUser: v.unixUser.optional(),
    proxySshHostKey: v.text
        .superRefine(v.hostKeyLine(true))
        .superRefine(v.notPlaceholder(`the host key line of ${ROLE_MACHINE.proxy}`))
        .optional(),
    databaseSshHost: v.text.superRefine(v.notPlaceholder(`the SSH address of ${ROLE_MACHINE.database}`)).optional(),
    databaseSshPort: v.port.optional(),
    databaseSshUser: v.unixUser.optional(),
    databaseSshHostKey: v.text
        .superRefine(v.hostKeyLine(true))
        .superRefine(v.notPlaceholder(`the host key line of ${ROLE_MACHINE.database}`))
        .optional(),

    /** How Mastodon runs (lib/mastodon/deployment.ts): by default the install guide's systemd units. */
    deployment: v.oneOf(DEPLOYMENT_KINDS).default("systemd"),
    /** systemd: the Mastodon checkout; compose: the directory with docker-compose.yml and .env.production. */
    liveDir: v.absolutePath.default("/home/mastodon/live"),
    /** systemd: the Unix user Mastodon runs as. */
    mastodonUser: v.unixUser.default("mastodon"),
    /** systemd: a local mail server's unit, stopped when dormant. */
    mailService: v.systemdUnit.optional(),

    // The database, read with pg through the SSH connection. Name and user unset: what the deployment kind's
    // setup writes (kinds.ts).
    databaseHost: v.text.default("127.0.0.1"),
    databasePort: v.port.default("5432"),
    databaseName: v.text.optional(),
    databaseUser: v.text.optional(),
    databasePassword: v.secret,

    /** The Mastodon vhost: a file under /etc/nginx/ (values.ts nginxConfigFile). */
    nginxSite: v.nginxConfigFile.default("/etc/nginx/sites-available/mastodon"),

    // The announcement. closingDate is required from the stage that announces on (rules.ts).
    closingDate: v.calendarDate.optional(),
    successor: v.serverAddress
        .superRefine(v.notPlaceholder("a real server to send your users to, or remove it (pulumi config rm mastodon-closure:successor)"))
        .optional(),
    language: v.oneOf(LANGUAGES).default("en"),
    announcementText: v.text.optional(),
    /** Reminders are published this many days before the closing date. */
    reminderDaysBefore: v.daysBefore.default("30,7,1"),
    /** E-mail the announcement to every confirmed user of an unsuspended account, once (4.4+, POST
     *  /admin/announcements/:id/distribution). */
    emailAnnouncement: v.flag.default("false"),
    /** An access token with write:statuses, to also post the announcement as a public status. */
    statusToken: v.secret,

    // Archives.
    requestArchives: v.flag.default("false"),
    /** Users with an archive requested within this many days are not asked again (Mastodon's own limit is 6). */
    archiveRecentDays: v.wholeNumber(0, 3650).default("6"),
    /** Days users keep to download their archive after the last one finished, before self-destruct. Unset:
     *  one day less than the server's archive retention (lib/rules/gates.ts downloadGraceDays). */
    downloadGraceDays: v.wholeNumber(0, 3650).optional(),

    /** Days since the last account moved away (its AccountMigration) before self-destruct may send Deletes: a
     *  follower's server that gets the Delete before it has worked off the Move loses that follow
     *  (lib/rules/gates.ts moveGracePassed). */
    moveGraceDays: v.wholeNumber(0, 3650).default("7"),

    /** The server's domain, to confirm the irreversible self-destruct (required from the stage that runs it on). */
    confirmSelfDestruct: v.text.optional(),

    // The dump kept when dormant, and the bucket.
    dumpDir: v.absolutePath.default("/var/backups/mastodon-closure"),
    dumpAgeRecipient: v.ageRecipient.optional(),
    dumpRetentionDays: v.wholeNumber(1, 36500).default("365"),
    /** Days the object-storage bucket (media, archives) is kept after the host went dormant, before its
     *  deletion by hand is due; the closure never deletes it. */
    bucketRetentionDays: v.wholeNumber(1, 36500).default("365"),
    /** Days the domain answers 410 everywhere (dormant) before it may be parked. */
    goneDays: v.wholeNumber(0, 3650).default("14"),
    /** Days of notice users get at least: closingDate is that far ahead when the closure is announced (the
     *  shortest period of the seed runbook; preview warns below the Server Covenant's 90). */
    minimumNoticeDays: v.wholeNumber(0, 3650).default("7"),

    // Parking on Cloudflare (cloudflare.ts): with any of these set, the account, the zone and the token are required.
    /** 32 hexadecimal characters, on the dashboard's overview page. */
    cloudflareAccountId: v.lowercaseHex(32).optional(),
    /** The zone holding the domain, compared in lower case without the trailing dot ("." alone: no zone, unchecked). */
    cloudflareZone: v.text
        .transform(v.normalName)
        .superRefine((zone, ctx) => zone === "" || v.dnsName("example.org")(zone, ctx))
        .optional(),
    cloudflareApiToken: v.secret,
    /** Hostnames answered besides the domain: WEB_DOMAIN, www, media or streaming hosts. */
    parkExtraHostnames: v
        .hostnames((name) => `must be a comma-separated list of DNS names (WEB_DOMAIN, www, media or streaming hosts), got "${name}"`)
        .optional(),
    /** Parking closes mail for the domain: null MX, SPF -all, DMARC p=reject. */
    parkNullMx: v.flag.default("true"),
    parkSpf: v.flag.default("true"),
    parkDmarc: v.flag.default("true"),
    /** Stop nginx on the host once Cloudflare answers for the domain. */
    stopNginxWhenParked: v.flag.default("false"),
});

type Shape = typeof KEYS.shape;
export type SettingKey = keyof Shape;
/** Every key's value, typed; an optional key without a default may be undefined. */
export type Values = z.output<typeof KEYS>;
/** The keys without which nothing can be done. */
export type RequiredKey = { [K in SettingKey]: undefined extends z.input<Shape[K]> ? never : K }[SettingKey];
/** The keys with a default. */
export type DefaultedKey = { [K in SettingKey]: Shape[K] extends z.ZodDefault<z.ZodTypeAny> ? K : never }[SettingKey];

/** The namespace of every key in the stack's config (the project's name): `mastodon-closure:stage`. */
export const CONFIG_NAMESPACE = "mastodon-closure";

/** Keys whose values must be Pulumi secrets, required (the database password is not with every deployment kind). */
export const SECRET_KEYS = ["sshPrivateKey", "databasePassword"] as const satisfies readonly SettingKey[];
/** Optional secrets. */
export const OPTIONAL_SECRET_KEYS = ["statusToken", "cloudflareApiToken"] as const satisfies readonly SettingKey[];

/** Settings of parking on Cloudflare; with any of them set, the three first are required. */
export const CLOUDFLARE_KEYS = [
    "cloudflareAccountId",
    "cloudflareZone",
    "cloudflareApiToken",
    "parkExtraHostnames",
    "parkNullMx",
    "parkSpf",
    "parkDmarc",
    "stopNginxWhenParked",
] as const satisfies readonly SettingKey[];

/** Each key's value as written: trimmed; absent or blank, undefined. */
export type Written = Partial<Record<SettingKey, string>>;
/** Each key's value as checked. A refused key holds its default, or nothing: the rules between keys still
 *  run, so that every problem is reported at once. */
export type Checked = Omit<Values, RequiredKey> & Partial<Pick<Values, RequiredKey>>;
