// The stack's settings (Pulumi.<stack>.yaml, namespace `mastodon-closure`): every key, its default and
// its validation in one place. `parseSettings` is pure so that bad input is rejected, with the key and
// what is allowed, before anything connects or changes.
import { Deployment, DEPLOYMENT_KINDS, DeploymentKind } from "../mastodon/deployment";
import type { HostRole } from "../mastodon/deployment";
import { Language, LANGUAGES } from "../gone/contract";
import type { CloudflareSettings } from "../edge/cloudflare/settings";
import { STAGES, Stage, stageIndex } from "./stages";

/** Defaults for every optional key. */
export const DEFAULTS = {
    sshPort: 22,
    sshUser: "root",
    /** How Mastodon runs (lib/mastodon/deployment.ts): the install guide's systemd units. */
    deployment: "systemd" as DeploymentKind,
    /** systemd: the Mastodon checkout; compose: the directory with docker-compose.yml and .env.production. */
    liveDir: "/home/mastodon/live",
    mastodonUser: "mastodon",
    databaseHost: "127.0.0.1",
    databasePort: 5432,
    databaseName: "mastodon_production",
    databaseUser: "mastodon",
    /** What `mastodon:setup` writes for Docker (DB_NAME, DB_USER; DB_PASS empty: upstream's db service trusts). */
    composeDatabaseName: "postgres",
    composeDatabaseUser: "postgres",
    nginxSite: "/etc/nginx/sites-available/mastodon",
    language: "en" as Language,
    /** Reminders are published this many days before the closing date. */
    reminderDaysBefore: [30, 7, 1],
    requestArchives: false,
    /** Users with an archive requested within this many days are not asked again (Mastodon's own limit is 6). */
    archiveRecentDays: 6,
    /** E-mail the announcement to every user (4.4+, POST /admin/announcements/:id/distribution). */
    emailAnnouncement: false,
    dumpDir: "/var/backups/mastodon-closure",
    dumpRetentionDays: 365,
    /** Days the object-storage bucket (media, archives) is kept after the host went dormant, before its
     *  deletion by hand is due; the closure never deletes it. */
    bucketRetentionDays: 365,
    /** Days the domain answers 410 everywhere (dormant) before it may be parked. */
    goneDays: 14,
    /** Days of notice users get at least: closingDate is that far ahead when the closure is announced (the
     *  shortest period of the seed runbook; preview warns below the Server Covenant's 90). */
    minimumNoticeDays: 7,
    /** Parking on Cloudflare closes mail for the domain: null MX, SPF -all, DMARC p=reject. */
    parkNullMx: true,
    parkSpf: true,
    parkDmarc: true,
    /** Stop nginx on the host once Cloudflare answers for the domain. */
    stopNginxWhenParked: false,
};


/** How to reach one host over SSH, without the key (a secret, shared by every host). */
export interface SshEndpoint {
    host: string;
    port: number;
    user: string;
    hostKey: string;
}

/** The roles that can be on a machine of their own (lib/host/ssh.ts HostRole): the Mastodon host does the rest. */
export type SplitRole = Exclude<HostRole, "app">;
export const SPLIT_ROLES: readonly SplitRole[] = ["proxy", "database"];

/** The keys of a split role's host, e.g. proxySshHost, proxySshPort, proxySshUser, proxySshHostKey. */
export const splitHostKeys = (role: SplitRole) => ({ host: `${role}SshHost`, port: `${role}SshPort`, user: `${role}SshUser`, hostKey: `${role}SshHostKey` });

/** Which host does what, in words for the preview and the outputs; undefined when one host does everything. */
export function describeHosts(s: Settings): Record<HostRole, string> | undefined {
    if (!s.splitHosts) return undefined;
    const at = (e: SshEndpoint) => `${e.user}@${e.host}:${e.port}`;
    const { proxy, database } = s.splitHosts;
    return {
        app: `${at(s.ssh)}: Mastodon (web, streaming, Sidekiq${database ? "" : ", PostgreSQL"}, Redis), the database read and dumped from there, the closure's journal and records`,
        proxy: `${at(proxy ?? s.ssh)}: nginx in front, its vhost and the kept original`,
        database: `${at(database ?? s.ssh)}: PostgreSQL${database ? `, reached by the Mastodon host at ${s.database.host}:${s.database.port}` : ""}`,
    };
}

export interface Settings {
    stage: Stage;
    /** The Mastodon host (role `app`), and every role not in splitHosts. */
    ssh: SshEndpoint;
    /** Roles on machines of their own (README: Split hosts); absent when one host does everything. */
    splitHosts?: Partial<Record<SplitRole, SshEndpoint>>;
    domain: string;
    /** How Mastodon runs on the host: its commands, services, files (lib/mastodon/deployment.ts). */
    deployment: Deployment;
    database: { host: string; port: number; name: string; user: string };
    nginxSite: string;
    /** Required from `announced` on. */
    closingDate?: string;
    successor?: string;
    language: Language;
    announcementText?: string;
    reminderDaysBefore: number[];
    requestArchives: boolean;
    archiveRecentDays: number;
    /** Days users keep to download their archive after the last one finished, before self-destruct. Unset:
     *  one day less than the server's archive retention (lib/rules/gates.ts downloadGraceDays). */
    downloadGraceDays?: number;
    /** E-mail the announcement to every confirmed user of an unsuspended account, once (4.4+). */
    emailAnnouncement: boolean;
    confirmSelfDestruct?: string;
    dumpDir: string;
    dumpAgeRecipient?: string;
    dumpRetentionDays: number;
    bucketRetentionDays: number;
    goneDays: number;
    minimumNoticeDays: number;
    /** Parking on Cloudflare; without it `parked` leaves DNS to the operator. */
    cloudflare?: CloudflareSettings;
}


/** Settings of parking on Cloudflare; with any of them set, the three first are required. */
export const CLOUDFLARE_KEYS = ["cloudflareAccountId", "cloudflareZone", "cloudflareApiToken", "parkExtraHostnames", "parkNullMx", "parkSpf", "parkDmarc", "stopNginxWhenParked"] as const;

/** Keys whose values must be Pulumi secrets. */
export const SECRET_KEYS = ["sshPrivateKey", "databasePassword"] as const;
/** Optional secrets: an access token with write:statuses, to also post the announcement as a public status. */
export const OPTIONAL_SECRET_KEYS = ["statusToken", "cloudflareApiToken"] as const;

export interface RawConfig {
    get(key: string): string | undefined;
    /** Whether the key is stored encrypted (set with `pulumi config set --secret`). */
    isSecret(key: string): boolean;
}

export class SettingsError extends Error {
    constructor(problems: string[]) {
        super(`invalid mastodon-closure settings:\n  - ${problems.join("\n  - ")}`);
        this.name = "SettingsError";
    }
}

/** What the example stack file (Pulumi.closing.yaml) puts where the operator's own values go: names under
 *  the reserved example.org/.com/.net (RFC 2606) and a host key saying "ReplaceWith". Refused, never used. */
const PLACEHOLDER = /(^|\.)example\.(org|com|net)$|ReplaceWith/i;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const UNIT = /^[A-Za-z0-9@_.:-]+$/;

/** A calendar date as YYYY-MM-DD that exists (2026-02-30 does not). */
export function isCalendarDate(value: string): boolean {
    const m = ISO_DATE.exec(value);
    if (!m) return false;
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/** A secret found in plain text has been written where it cannot be taken back: say where, and rotate it. */
function plainSecret(key: string): string {
    const rotate: Record<string, string> = {
        sshPrivateKey: "make a new key pair, add its public key to the server's authorized_keys and remove the old one",
        databasePassword: "change the role's password in PostgreSQL (ALTER ROLE ... PASSWORD) and DB_PASS in .env.production",
        statusToken: "revoke the token (Preferences > Development, or Account > Authorized apps) and make a new one",
        cloudflareApiToken: "roll the token in Cloudflare's dashboard (My Profile > API Tokens)",
    };
    return (
        `${key} is stored in plain text: it is in Pulumi.<stack>.yaml (and in its git history if that file was committed) and in the ` +
        `backend's history of every update run with it. Treat it as leaked: ${rotate[key] ?? "replace it"}; then set the new value with: ` +
        `pulumi config set --secret ${key} ...`
    );
}

export function parseSettings(raw: RawConfig): Settings {
    const problems: string[] = [];
    const str = (key: string): string | undefined => {
        const v = raw.get(key)?.trim();
        return v === "" ? undefined : v;
    };
    const required = (key: string, what: string): string => {
        const v = str(key);
        if (v === undefined) problems.push(`${key} is required: ${what}`);
        return v ?? "";
    };
    const int = (key: string, dflt: number, min: number, max: number): number => {
        const v = str(key);
        if (v === undefined) return dflt;
        if (!/^\d+$/.test(v) || +v < min || +v > max) {
            problems.push(`${key} must be a whole number from ${min} to ${max}, got "${v}"`);
            return dflt;
        }
        return +v;
    };
    const oneOf = <T extends string>(key: string, allowed: readonly T[], dflt?: T): T | undefined => {
        const v = str(key);
        if (v === undefined) return dflt;
        if (!(allowed as readonly string[]).includes(v)) {
            problems.push(`${key} must be one of ${allowed.join(", ")}; got "${v}"`);
            return dflt;
        }
        return v as T;
    };
    const absPath = (key: string, dflt: string): string => {
        const v = str(key) ?? dflt;
        if (!v.startsWith("/") || /[\s'"$`\\]/.test(v)) problems.push(`${key} must be an absolute path without spaces or quotes, got "${v}"`);
        return v;
    };

    const stageValue = str("stage");
    if (stageValue === undefined) problems.push(`stage is required: one of ${STAGES.join(", ")}`);
    const stage = oneOf("stage", STAGES) ?? "operating";

    const deploymentKind = oneOf("deployment", DEPLOYMENT_KINDS, DEFAULTS.deployment) ?? DEFAULTS.deployment;
    for (const key of SECRET_KEYS) {
        // Upstream's compose file runs PostgreSQL with trust authentication: DB_PASS is usually empty there.
        const optional = key === "databasePassword" && deploymentKind === "compose";
        if (str(key) === undefined) {
            if (!optional) problems.push(`${key} is required; set it with: pulumi config set --secret ${key} ...`);
        } else if (!raw.isSecret(key)) problems.push(plainSecret(key));
    }

    for (const key of OPTIONAL_SECRET_KEYS) {
        if (str(key) !== undefined && !raw.isSecret(key)) problems.push(plainSecret(key));
    }

    const placeholder = (key: string, value: string | undefined, what: string) => {
        if (value && PLACEHOLDER.test(value)) problems.push(`${key} is still the example's placeholder "${value.slice(0, 60)}": set it to ${what}`);
    };
    const domain = required("domain", "the server's LOCAL_DOMAIN, e.g. social.example.org");
    placeholder("domain", domain, "your server's LOCAL_DOMAIN (pulumi config set mastodon-closure:domain ...)");
    if (domain && !DOMAIN.test(domain)) problems.push(`domain must be a DNS name like social.example.org, got "${domain}"`);
    const hostKey = required("sshHostKey", 'the host public key line to pin, e.g. "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 HOST)');
    placeholder("sshHostKey", hostKey, "your server's host key line (ssh-keyscan -t ed25519 HOST, checked against the server's console)");
    if (hostKey && !HOST_KEY_LINE.test(hostKey)) {
        problems.push(`sshHostKey must be an OpenSSH public key line like "ssh-ed25519 AAAA...", got "${hostKey.slice(0, 40)}"`);
    }

    const closingDate = str("closingDate");
    if (closingDate !== undefined && !isCalendarDate(closingDate)) {
        problems.push(`closingDate must be a date as YYYY-MM-DD, got "${closingDate}"`);
    }
    if (closingDate === undefined && stageIndex(stage) >= stageIndex("announced")) {
        problems.push(`closingDate is required from stage "announced" on (YYYY-MM-DD): the announcement gives it`);
    }

    const successor = str("successor");
    if (successor !== undefined && !DOMAIN.test(successor.replace(/^https:\/\//, "").replace(/\/.*$/, ""))) {
        problems.push(`successor must be a server's domain or https:// URL, got "${successor}"`);
    }

    const reminderRaw = str("reminderDaysBefore");
    let reminderDaysBefore = DEFAULTS.reminderDaysBefore;
    if (reminderRaw !== undefined) {
        const parts = reminderRaw.split(",").map((s) => s.trim());
        if (parts.some((p) => !/^\d+$/.test(p) || +p < 1 || +p > 365)) {
            problems.push(`reminderDaysBefore must be a comma-separated list of days from 1 to 365, like "30,7,1"; got "${reminderRaw}"`);
        } else {
            reminderDaysBefore = [...new Set(parts.map(Number))].sort((a, b) => b - a);
        }
    }

    const requestArchivesRaw = oneOf("requestArchives", ["true", "false"] as const);
    const emailAnnouncementRaw = oneOf("emailAnnouncement", ["true", "false"] as const);
    const confirmSelfDestruct = str("confirmSelfDestruct");
    const dumpAgeRecipient = str("dumpAgeRecipient");
    if (dumpAgeRecipient !== undefined && !/^age1[0-9a-z]{58}$/.test(dumpAgeRecipient)) {
        problems.push(`dumpAgeRecipient must be an age public key (age1...), got "${dumpAgeRecipient.slice(0, 20)}"`);
    }
    const mailService = str("mailService");
    if (mailService !== undefined && !UNIT.test(mailService)) problems.push(`mailService must be a systemd unit name, got "${mailService}"`);
    if (deploymentKind !== "systemd") {
        // Keys that say how a systemd host runs Mastodon contradict another deployment: refused, not ignored.
        const systemdOnly: Record<string, string> = {
            mastodonUser: "the containers run Mastodon as their image's user",
            mailService: "a compose deployment stops only its own services (db, redis, web, streaming, sidekiq)",
            databaseHost: "the closure reaches the db service's container, whose address Docker gives",
            databasePort: "the closure reaches the db service's container on PostgreSQL's port",
        };
        for (const [key, why] of Object.entries(systemdOnly)) {
            if (str(key) !== undefined) problems.push(`${key} applies to deployment "systemd" only, and deployment is "${deploymentKind}": ${why}; remove it (pulumi config rm mastodon-closure:${key})`);
        }
    }
    const sshUser = str("sshUser") ?? DEFAULTS.sshUser;
    if (!/^[a-z_][a-z0-9_-]*$/.test(sshUser)) problems.push(`sshUser must be a Unix user name, got "${sshUser}"`);
    const mastodonUser = str("mastodonUser") ?? DEFAULTS.mastodonUser;
    if (!/^[a-z_][a-z0-9_-]*$/.test(mastodonUser)) problems.push(`mastodonUser must be a Unix user name, got "${mastodonUser}"`);

    placeholder("host", str("host"), "your Mastodon server's SSH address (pulumi config set mastodon-closure:host ...)");
    placeholder("successor", successor, "a real server to send your users to, or remove it (pulumi config rm mastodon-closure:successor)");
    const cloudflare = parseCloudflare(str, oneOf, problems, domain);

    const settings: Settings = {
        stage,
        ssh: {
            host: required("host", "the Mastodon host's address for SSH"),
            port: int("sshPort", DEFAULTS.sshPort, 1, 65535),
            user: sshUser,
            hostKey,
        },
        domain,
        deployment: {
            kind: deploymentKind,
            dir: absPath("liveDir", DEFAULTS.liveDir),
            mastodonUser,
            ...(mailService !== undefined ? { mailService } : {}),
        },
        database: {
            host: str("databaseHost") ?? DEFAULTS.databaseHost,
            port: int("databasePort", DEFAULTS.databasePort, 1, 65535),
            name: str("databaseName") ?? (deploymentKind === "compose" ? DEFAULTS.composeDatabaseName : DEFAULTS.databaseName),
            user: str("databaseUser") ?? (deploymentKind === "compose" ? DEFAULTS.composeDatabaseUser : DEFAULTS.databaseUser),
        },
        nginxSite: absPath("nginxSite", DEFAULTS.nginxSite),
        closingDate,
        successor,
        language: oneOf("language", LANGUAGES, DEFAULTS.language) ?? DEFAULTS.language,
        announcementText: str("announcementText"),
        reminderDaysBefore,
        requestArchives: requestArchivesRaw === undefined ? DEFAULTS.requestArchives : requestArchivesRaw === "true",
        archiveRecentDays: int("archiveRecentDays", DEFAULTS.archiveRecentDays, 0, 3650),
        ...(str("downloadGraceDays") !== undefined ? { downloadGraceDays: int("downloadGraceDays", 0, 0, 3650) } : {}),
        emailAnnouncement: emailAnnouncementRaw === undefined ? DEFAULTS.emailAnnouncement : emailAnnouncementRaw === "true",
        confirmSelfDestruct,
        dumpDir: absPath("dumpDir", DEFAULTS.dumpDir),
        dumpAgeRecipient,
        dumpRetentionDays: int("dumpRetentionDays", DEFAULTS.dumpRetentionDays, 1, 36500),
        bucketRetentionDays: int("bucketRetentionDays", DEFAULTS.bucketRetentionDays, 1, 36500),
        goneDays: int("goneDays", DEFAULTS.goneDays, 0, 3650),
        minimumNoticeDays: int("minimumNoticeDays", DEFAULTS.minimumNoticeDays, 0, 3650),
        cloudflare,
    };
    const splitHosts = parseSplitHosts(str, int, problems, settings.ssh, deploymentKind, placeholder);
    if (splitHosts) settings.splitHosts = splitHosts;
    if (stageIndex(stage) >= stageIndex("self-destructing") && confirmSelfDestruct !== domain) {
        problems.push(
            confirmSelfDestruct === undefined
                ? `confirmSelfDestruct is required from stage "self-destructing" on: set it to the server's domain ("${domain}") to confirm the irreversible self-destruct`
                : `confirmSelfDestruct must equal the server's domain "${domain}"; got "${confirmSelfDestruct}"`,
        );
    }
    if (problems.length > 0) throw new SettingsError(problems);
    return settings;
}

const HOST_KEY_LINE = /^(ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa|rsa-sha2-\d+) [A-Za-z0-9+/=]+/;

/**
 * The hosts of roles on machines of their own: for each role, all of its keys absent (the Mastodon host does
 * it), or its address and host key (its port and user default to the Mastodon host's). The one private key
 * reaches every host. A role's host that is the Mastodon host, two roles on one machine with different host
 * keys, and PostgreSQL on another machine than a compose deployment's are refused.
 */
function parseSplitHosts(
    str: (key: string) => string | undefined,
    int: (key: string, dflt: number, min: number, max: number) => number,
    problems: string[],
    app: { host: string; port: number; user: string },
    deploymentKind: DeploymentKind,
    placeholder: (key: string, value: string | undefined, what: string) => void,
): Settings["splitHosts"] {
    const split: Partial<Record<SplitRole, SshEndpoint>> = {};
    for (const role of SPLIT_ROLES) {
        const keys = splitHostKeys(role);
        const given = Object.values(keys).filter((k) => str(k) !== undefined);
        if (given.length === 0) continue;
        const what = role === "proxy" ? "the machine running the nginx in front of Mastodon" : "the machine running PostgreSQL";
        const host = str(keys.host);
        if (host === undefined) {
            problems.push(`${given.join(", ")} ${given.length > 1 ? "need" : "needs"} ${keys.host}: the SSH address of ${what}; or remove them (the Mastodon host "host" does that by default)`);
            continue;
        }
        placeholder(keys.host, host, `the SSH address of ${what}`);
        const hostKey = str(keys.hostKey);
        if (hostKey === undefined) problems.push(`${keys.hostKey} is required with ${keys.host}: the host public key line of ${what} to pin, e.g. "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 ${host})`);
        else if (!HOST_KEY_LINE.test(hostKey)) problems.push(`${keys.hostKey} must be an OpenSSH public key line like "ssh-ed25519 AAAA...", got "${hostKey.slice(0, 40)}"`);
        else placeholder(keys.hostKey, hostKey, `the host key line of ${what}`);
        const user = str(keys.user) ?? app.user;
        if (!/^[a-z_][a-z0-9_-]*$/.test(user)) problems.push(`${keys.user} must be a Unix user name, got "${user}"`);
        const port = int(keys.port, app.port, 1, 65535);
        if (host === app.host && port === app.port) {
            problems.push(`${keys.host} is the Mastodon host itself ("host" ${app.host}, port ${app.port}): one host does every role by default; remove the ${role}Ssh* settings`);
        }
        split[role] = { host, port, user, hostKey: hostKey ?? "" };
    }
    const [proxy, database] = [split.proxy, split.database];
    if (proxy && database && proxy.host === database.host && proxy.port === database.port && (proxy.hostKey !== database.hostKey || proxy.user !== database.user)) {
        problems.push(`proxySshHost and databaseSshHost are one machine (${proxy.host}:${proxy.port}) but name different host keys or users: give both the same proxySshHostKey/databaseSshHostKey and proxySshUser/databaseSshUser`);
    }
    if (database) {
        if (deploymentKind !== "systemd") {
            problems.push(`databaseSshHost applies to deployment "systemd" only, and deployment is "${deploymentKind}": a compose deployment runs PostgreSQL as its db service beside Mastodon; remove the databaseSsh* settings`);
        }
        // The closure reads and dumps the database from the Mastodon host, as Mastodon reaches it.
        const dbHost = str("databaseHost");
        if (dbHost === undefined || /^(127\.|localhost$|::1$)/.test(dbHost)) {
            problems.push(
                `databaseHost must be the address the Mastodon host reaches PostgreSQL at (DB_HOST in .env.production) when PostgreSQL runs on databaseSshHost, got ${dbHost === undefined ? "the default 127.0.0.1" : `"${dbHost}"`}: the closure reads and dumps the database from the Mastodon host`,
            );
        }
    }
    return Object.keys(split).length ? split : undefined;
}

/** The Cloudflare keys: all absent (parking stays by hand), or a zone the domain belongs to. */
function parseCloudflare(
    str: (key: string) => string | undefined,
    oneOf: <T extends string>(key: string, allowed: readonly T[], dflt?: T) => T | undefined,
    problems: string[],
    domain: string,
): CloudflareSettings | undefined {
    const flag = (key: "parkNullMx" | "parkSpf" | "parkDmarc" | "stopNginxWhenParked"): boolean => {
        const v = oneOf(key, ["true", "false"] as const);
        return v === undefined ? DEFAULTS[key] : v === "true";
    };
    const given = CLOUDFLARE_KEYS.filter((k) => str(k) !== undefined);
    const flags = { nullMx: flag("parkNullMx"), spf: flag("parkSpf"), dmarc: flag("parkDmarc"), stopNginx: flag("stopNginxWhenParked") };
    if (given.length === 0) return undefined;
    const what: Record<string, string> = {
        cloudflareAccountId: "the Cloudflare account id (32 hexadecimal characters, on the dashboard's overview page)",
        cloudflareZone: "the Cloudflare zone holding the domain, e.g. example.org",
        cloudflareApiToken: "an API token (README: Parking on Cloudflare); set it with: pulumi config set --secret cloudflareApiToken",
    };
    for (const key of ["cloudflareAccountId", "cloudflareZone", "cloudflareApiToken"]) {
        if (str(key) === undefined) problems.push(`${key} is required with ${given.join(", ")}: ${what[key]}`);
    }
    const accountId = str("cloudflareAccountId") ?? "";
    if (accountId && !/^[0-9a-f]{32}$/.test(accountId)) problems.push(`cloudflareAccountId must be 32 lowercase hexadecimal characters, got "${accountId}"`);
    const zone = (str("cloudflareZone") ?? "").toLowerCase().replace(/\.$/, "");
    const inZone = (name: string) => name === zone || name.endsWith(`.${zone}`);
    if (zone && !DOMAIN.test(zone)) problems.push(`cloudflareZone must be a DNS name like example.org, got "${zone}"`);
    else if (zone && domain && !inZone(domain.toLowerCase())) problems.push(`cloudflareZone "${zone}" does not hold the domain "${domain}": give the zone the domain is in`);
    const extraRaw = str("parkExtraHostnames");
    const extras = extraRaw === undefined ? [] : extraRaw.split(",").map((h) => h.trim().toLowerCase().replace(/\.$/, ""));
    for (const h of extras) {
        if (!DOMAIN.test(h)) problems.push(`parkExtraHostnames must be a comma-separated list of DNS names (WEB_DOMAIN, www, media or streaming hosts), got "${h}"`);
        else if (zone && !inZone(h)) problems.push(`parkExtraHostnames: "${h}" is not in the zone "${zone}"`);
    }
    const hostnames = [...new Set([domain.toLowerCase(), ...extras])];
    return { accountId, zone, hostnames, ...flags };
}
