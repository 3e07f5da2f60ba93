// The settings as the rest of the closure reads them: the keys' values (keys.ts) put together by what they
// are about (the SSH endpoint, the deployment, the database), with the kind's database defaults, the split
// hosts and Cloudflare's parking. The Settings type is this shape, inferred.
import type { CloudflareSettings } from "../../edge/cloudflare/settings";
import type { Deployment } from "../../mastodon/deployment";
import type { Values } from "./keys";
import { KIND_SETTINGS } from "./kinds";
import type { SplitHosts, SshEndpoint } from "./roles";

export function toSettings(v: Values, cloudflare: CloudflareSettings | undefined, splitHosts: SplitHosts | undefined) {
    /** The Mastodon host (role `app`), and every role not in splitHosts. */
    const ssh: SshEndpoint = { host: v.host, port: v.sshPort, user: v.sshUser, hostKey: v.sshHostKey };
    /** How Mastodon runs on the host: its commands, services, files (lib/mastodon/deployment.ts). */
    const deployment: Deployment = {
        kind: v.deployment,
        dir: v.liveDir,
        mastodonUser: v.mastodonUser,
        ...(v.mailService !== undefined ? { mailService: v.mailService } : {}),
    };
    const kindDatabase = KIND_SETTINGS[v.deployment].database;
    return {
        stage: v.stage,
        ssh,
        /** The host's owner record to take over from another stack (lib/rules/owner.ts). */
        adoptHost: v.adoptHost,
        domain: v.domain,
        deployment,
        database: { host: v.databaseHost, port: v.databasePort, name: v.databaseName ?? kindDatabase.name, user: v.databaseUser ?? kindDatabase.user },
        nginxSite: v.nginxSite,
        /** Given from the stage that announces on. */
        closingDate: v.closingDate,
        successor: v.successor,
        language: v.language,
        announcementText: v.announcementText,
        reminderDaysBefore: v.reminderDaysBefore,
        requestArchives: v.requestArchives,
        archiveRecentDays: v.archiveRecentDays,
        /** Unset: one day less than the server's archive retention (lib/rules/gates.ts downloadGraceDays). */
        ...(v.downloadGraceDays !== undefined ? { downloadGraceDays: v.downloadGraceDays } : {}),
        emailAnnouncement: v.emailAnnouncement,
        moveGraceDays: v.moveGraceDays,
        confirmSelfDestruct: v.confirmSelfDestruct,
        dumpDir: v.dumpDir,
        dumpAgeRecipient: v.dumpAgeRecipient,
        dumpRetentionDays: v.dumpRetentionDays,
        bucketRetentionDays: v.bucketRetentionDays,
        goneDays: v.goneDays,
        minimumNoticeDays: v.minimumNoticeDays,
        /** Parking on Cloudflare; without it `parked` leaves DNS to the operator. */
        cloudflare,
        /** Roles on machines of their own (README: Split hosts); absent when one host does everything. */
        ...(splitHosts ? { splitHosts } : {}),
    };
}

/** Properties that may be undefined made optional, as readers and hand-made settings (tests) take them. */
type UndefinedOptional<T> = { [K in keyof T as undefined extends T[K] ? K : never]?: T[K] } & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] };

/** The stack's settings, checked. */
export interface Settings extends UndefinedOptional<ReturnType<typeof toSettings>> {}
