// The probe: reads, never changes, what the closure needs to know about the host before it plans,
// in preview as in up. One SSH connection; the database read with pg through it.
import { HostFacts } from "./gates";
import { HostAccess, JOURNAL_PATH, Journal, registrationsMode, tootctl, versionAtLeast } from "./host-steps";
import { RemoteHost } from "./ssh";
import { Settings } from "./settings";
import { Stage, STAGES, stageIndex } from "./stages";

export interface Probe {
    facts: HostFacts;
    /** The server's own vhost (the kept original once the closure has replaced it). */
    originalVhost: string;
}

/** A variable from .env.production (dotenv syntax, optional quotes). */
export function envValue(envFile: string, name: string): string | undefined {
    const m = new RegExp(`^\\s*${name}\\s*=\\s*(.*)$`, "m").exec(envFile);
    return m ? m[1].trim().replace(/^(['"])(.*)\1$/, "$2") : undefined;
}

export async function probeHost(access: HostAccess, settings: Settings): Promise<Probe> {
    return RemoteHost.with(access.ssh, async (host) => {
        const envPath = `${settings.liveDir}/.env.production`;
        const env = await host.readFile(envPath, "read .env.production");
        if (env === undefined) throw new Error(`no ${envPath} on ${settings.ssh.host}: check liveDir (the Mastodon checkout, default /home/mastodon/live)`);
        const localDomain = envValue(env, "LOCAL_DOMAIN");
        if (localDomain !== settings.domain) {
            throw new Error(`domain is "${settings.domain}" but the host's LOCAL_DOMAIN is "${localDomain ?? "(unset)"}": is this the right host?`);
        }

        const journalText = await host.readFile(JOURNAL_PATH, "read the closure journal");
        const journal: Journal | undefined = journalText ? JSON.parse(journalText) : undefined;
        const currentStage = (STAGES as readonly string[]).includes(journal?.stage ?? "") ? (journal!.stage as Stage) : "operating";

        const keptVhost = await host.readFile(`${settings.nginxSite}.closure-original`, "read the kept vhost");
        const originalVhost = keptVhost ?? (await host.readFile(settings.nginxSite, "read the nginx site"));
        if (originalVhost === undefined) throw new Error(`no nginx site at ${settings.nginxSite}: check nginxSite`);

        const mastodonVersion = (await tootctl(host, access, "version")).trim().split("\n").pop() ?? "";
        const reachedAt = journal?.reachedAt ?? {};
        const legacySelfDestruct = !versionAtLeast(mastodonVersion, 4, 3);
        const selfDestructEnabled = legacySelfDestruct ? reachedAt["self-destructing"] !== undefined : !!envValue(env, "SELF_DESTRUCT");
        const facts: HostFacts = { mastodonVersion, currentStage, reachedAt, selfDestructEnabled, legacySelfDestruct };

        // Dormant hosts have their database stopped on purpose.
        if (stageIndex(currentStage) < stageIndex("dormant")) {
            const db = await host.postgres(access.database);
            try {
                const one = async (sql: string) => (await db.query(sql)).rows[0] ?? {};
                const pending = await one("SELECT count(*)::int AS n FROM backups WHERE processed = false");
                const last = await one("SELECT max(dump_updated_at) AS at FROM backups WHERE processed = true");
                const deletion = await one(
                    `SELECT (SELECT count(*) FROM accounts WHERE domain IS NULL AND suspended_at IS NULL)
                          + (SELECT count(*) FROM accounts a JOIN account_deletion_requests r ON r.account_id = a.id
                              WHERE a.domain IS NULL AND a.suspended_at IS NOT NULL) AS n`,
                );
                const registrations = await one("SELECT value FROM settings WHERE var = 'registrations_mode'");
                facts.database = {
                    pendingArchives: Number(pending.n),
                    lastArchiveFinishedAt: last.at ? new Date(last.at).toISOString() : undefined,
                    accountsPendingDeletion: Number(deletion.n),
                    registrationsMode: registrationsMode(registrations.value),
                };
            } finally {
                await db.end();
            }
            if (selfDestructEnabled && !legacySelfDestruct && (currentStage === "self-destructing" || settings.stage === "dormant")) {
                const out = await tootctl(host, access, "self-destruct", { stdin: "" });
                facts.selfDestructProgress = out.trim().split("\n").filter((l) => l.trim()).pop()?.trim();
            }
        }
        return { facts, originalVhost };
    });
}
