// The probe: reads, never changes, what the closure needs to know about the host before it plans,
// in preview as in up. One SSH connection per host (the Mastodon host's; the proxy's when it is another,
// for the vhost): the files in one command per host, the database with pg through the Mastodon host's in one
// query; Rails is never booted for it (the version comes from the source), except for the progress of a
// self-destruct, which only `tootctl self-destruct` reports (before 4.3: Sidekiq, asked by a runner script),
// and to check SELF_DESTRUCT when .env.production does not hold SECRET_KEY_BASE.
import { HostFacts } from "../rules/facts";
import { envFile, liveDirIs, sourceFiles, sourceWhere } from "../mastodon/deployment";
import { HostAccess, hostTargets } from "./access";
import { connectDatabase, railsRunner, selfDestructModeOnHost, tootctl } from "./reads";
import { EMAIL_RECORD, EmailRecord, JOURNAL_PATH, Journal, KEPT_VHOST_SITE, legacyKeptVhost, ORIGINAL_VHOST, SERVICES_RECORD, UnitState } from "./records";
import { objectStorageFromEnv } from "../mastodon/object-storage";
import { resolveMastodonSettings, rowFromSql, settingRowSql, SETTINGS_DEFAULTS_FILE } from "../mastodon/site-settings";
import { accountsLeftSql, DELAY_TO_DELETION_DAYS, envValue, selfDestructEra } from "../mastodon/self-destruct";
import { HostSet } from "./ssh";
import { dumpDirsOf } from "./steps/dump-dir";
import { shq } from "../mastodon/shell";
import { DOMAIN, Settings } from "../rules/settings";
import { HostOwner, parseOwnerRecord } from "../rules/owner";
import { OWNER_RECORD } from "./records";
import { BASELINE_STAGE, firstStage, nextStage, Stage, STAGE_TABLE, STAGES } from "../rules/stages";
import { clockSkewMs, hostNow } from "../rules/clock";
import { announcedAtOf } from "../rules/notice";
import { accessLogOf, accessLogScript, ledgerFactsOf, LEDGER_PATH, ledgerTextOf } from "./ledger";

export interface Probe {
    facts: HostFacts;
    /** The server's own vhost (the kept original once the closure has replaced it). */
    originalVhost: string;
    /** Every database dump in dumpDir or the closure's subdirectory there, finished or not (a dump the closure
     *  made has a manifest beside it). */
    dumpsOnHost: { path: string; bytes: number }[];
}

/** A host's owner record as the probe read it. */
function ownerOf(host: string, text: string | undefined): HostOwner {
    if (text === undefined) return { host };
    const record = parseOwnerRecord(text);
    return record ? { host, record } : { host, unreadable: true };
}

/** rails/sidekiq_deliveries.rb's answer, as the facts hold it. */
export function sidekiqDeliveries(out: Record<string, unknown>): NonNullable<HostFacts["sidekiqDeliveries"]> {
    const waiting = (w: unknown) => {
        const { queued, retrying } = (w ?? {}) as Record<string, unknown>;
        return { queued: Number(queued), retrying: Number(retrying) };
    };
    return { delete: waiting(out.delete), move: waiting(out.move), moveDistributions: Number(out.move_distributions) };
}

/** Mastodon's version as lib/mastodon/version.rb declares it (`def major; 4; end` ...), the prerelease
 *  suffix included when the file sets a default one. Undefined when the file has no such methods. */
export function versionFromSource(rb: string): string | undefined {
    const part = (name: string) => new RegExp(`def ${name}\\s+(\\d+)\\s+end`).exec(rb)?.[1];
    const [major, minor, patch] = [part("major"), part("minor"), part("patch")];
    if (major === undefined || minor === undefined) return undefined;
    const pre = /def default_prerelease\s+'([^']+)'\s+end/.exec(rb)?.[1];
    return `${major}.${minor}.${patch ?? 0}${pre ? `-${pre}` : ""}`;
}

/**
 * Why the host is not the server of `domain`, or undefined when its LOCAL_DOMAIN is `domain`. The one value of
 * a host file a refusal quotes, for the operator to compare: the server's own public domain, and only when it
 * is a DNS name. The file is .env.production in liveDir, which has no ".." (settings/values.ts), so no
 * setting makes this quote a line of another kind of file.
 */
export function localDomainProblem(domain: string, localDomain: string | undefined, envPath: string): string | undefined {
    if (localDomain === domain) return undefined;
    const found = localDomain === undefined ? "unset" : DOMAIN.test(localDomain) ? `"${localDomain}"` : "not a DNS name";
    return `domain is "${domain}" but the host's LOCAL_DOMAIN (${envPath}) is ${found}: is this the right host?`;
}

/** Separates the access log's lines from the dumps in the probe's round trip. */
const LOG_MARK = "--- access log";

export async function probeHost(access: HostAccess, settings: Settings): Promise<Probe> {
    return HostSet.with(hostTargets(access), "app", async (host) => {
        const deployment = settings.deployment;
        const envPath = envFile(deployment);
        const VERSION_FILE = "lib/mastodon/version.rb";
        const source = sourceFiles(deployment, [VERSION_FILE, SETTINGS_DEFAULTS_FILE]);
        // The vhost is the proxy's: in the same round trip when that is this host.
        const proxy = await host.on("proxy");
        // The kept original: in the state directory, or beside the site where earlier versions kept it (moved
        // by the vhost step the next time it runs); one kept from another site is not this one's.
        const vhostPaths = [ORIGINAL_VHOST, KEPT_VHOST_SITE, legacyKeptVhost(settings.nginxSite), settings.nginxSite];
        const appPaths = [envPath, JOURNAL_PATH, SERVICES_RECORD, EMAIL_RECORD, OWNER_RECORD, LEDGER_PATH];
        const hostPaths = proxy === host ? [...appPaths, ...vhostPaths] : appPaths;
        // Mastodon's own files in the same round trip, unless they are read inside its image.
        const files = await host.readFiles(
            source.wrap ? hostPaths : [...hostPaths, ...source.paths],
            "read .env.production, the closure journal, the nginx site, Mastodon's version and its settings defaults",
        );
        const [env, journalText, servicesRecord, emailRecord, ownerRecord, ledgerOnHost] = files;
        const [keptVhost, keptFrom, legacyKept, site, proxyOwner] =
            proxy === host ? files.slice(appPaths.length) : await proxy.readFiles([...vhostPaths, OWNER_RECORD], "read the nginx site on the proxy host");
        const [versionRb, defaultsText] = source.wrap
            ? await host.readFiles(source.paths, "read Mastodon's version and its settings defaults in its image", source.wrap)
            : files.slice(hostPaths.length);
        if (env === undefined) throw new Error(`no ${envPath} on ${settings.ssh.host}: check liveDir (${liveDirIs(deployment)}, default /home/mastodon/live)`);
        const localDomain = envValue(env, "LOCAL_DOMAIN");
        const wrongHost = localDomainProblem(settings.domain, localDomain, envPath);
        if (wrongHost) throw new Error(wrongHost);
        const journal: Journal | undefined = journalText ? JSON.parse(journalText) : undefined;
        const currentStage = (STAGES as readonly string[]).includes(journal?.stage ?? "") ? (journal!.stage as Stage) : BASELINE_STAGE;
        const kept = keptVhost !== undefined && (!keptFrom?.trim() || keptFrom.trim() === settings.nginxSite) ? keptVhost : undefined;
        const originalVhost = kept ?? legacyKept ?? site;
        if (originalVhost === undefined)
            throw new Error(`no nginx site at ${settings.nginxSite}${proxy === host ? "" : ` on the proxy host ${proxy.target.host}`}: check nginxSite`);
        const mastodonVersion = versionRb === undefined ? undefined : versionFromSource(versionRb);
        if (mastodonVersion === undefined) throw new Error(`cannot read Mastodon's version from ${VERSION_FILE} in ${sourceWhere(deployment)}`);
        if (defaultsText === undefined)
            throw new Error(`cannot read Mastodon's settings defaults from ${SETTINGS_DEFAULTS_FILE} in ${sourceWhere(deployment)}`);
        const reachedAt = journal?.reachedAt ?? {};
        const era = selfDestructEra(mastodonVersion);
        const legacySelfDestruct = era === "legacy";
        // 4.3+: on only when Mastodon would be, i.e. SELF_DESTRUCT verifies; a wrong value is reported.
        const selfDestructSet = !!envValue(env, "SELF_DESTRUCT")?.trim();
        const selfDestructEnabled = legacySelfDestruct
            ? reachedAt[firstStage((s) => s.selfDestruct)] !== undefined
            : selfDestructSet && (await selfDestructModeOnHost(host, access, env));
        // PostgreSQL on a machine of its own has its record there (and its host key is checked now, in preview).
        const databaseHost = await host.on("database");
        const [databaseRecord, databaseOwner] =
            databaseHost === host ? [] : await databaseHost.readFiles([SERVICES_RECORD, OWNER_RECORD], "read the closure's records on the database host");
        // Every host of the closure, each machine once: the Mastodon host, the proxy, the database host.
        const owners = [ownerOf(host.target.host, ownerRecord)];
        if (proxy !== host) owners.push(ownerOf(proxy.target.host, proxyOwner));
        if (databaseHost !== host && databaseHost !== proxy) owners.push(ownerOf(databaseHost.target.host, databaseOwner));
        const records = [servicesRecord, databaseRecord].filter((r): r is string => r !== undefined);
        const stoppedByClosure = records.length ? records.flatMap((r) => JSON.parse(r).states as UnitState[]) : undefined;
        const objectStorage = objectStorageFromEnv(env);
        const facts: HostFacts = {
            mastodonVersion,
            currentStage,
            reachedAt,
            selfDestructEnabled,
            legacySelfDestruct,
            ...(!legacySelfDestruct && selfDestructSet && !selfDestructEnabled ? { selfDestructValueWrong: true } : {}),
            announcedClosingDate: journal?.announcedClosingDate,
            stoppedByClosure,
            owners,
            ...(emailRecord ? { announcementEmailedAt: (JSON.parse(emailRecord) as EmailRecord).sentAt } : {}),
            ...(objectStorage ? { objectStorage } : {}),
        };
        // The ledger of who has left: written from what the host shows at the stages that write it, else kept as
        // last written. Archive downloads are read from nginx's access log, where nginx runs.
        const ledgerWanted = STAGE_TABLE[settings.stage].ledger;
        if (ledgerWanted !== "none") facts.ledger = ledgerFactsOf(ledgerOnHost);
        const accessLog = ledgerWanted === "written" ? (accessLogOf(originalVhost) ?? null) : undefined;
        const logHere = accessLog && proxy === host ? `; echo ${LOG_MARK}; ${accessLogScript(accessLog)}` : "";
        // The host's clock, which the rules go by (lib/rules/clock.ts), in the same round trip as the dumps: in
        // dumpDir, or in the subdirectory the closure makes there when dumpDir was there before it.
        const runnerBefore = Date.now();
        const dumps = await host.run(
            `date -u +%s; for d in ${dumpDirsOf(settings.dumpDir).map(shq).join(" ")}; do [ -d "$d" ] || continue; find "$d" -maxdepth 1 -type f \\( -name '*.dump' -o -name '*.dump.age' \\) -printf '%s %p\\n'; done | sort -k2${logHere}`,
            { label: `read the host's clock, list the dumps in ${settings.dumpDir}${logHere ? `, read archive downloads in ${accessLog}` : ""}` },
        );
        const [clockAndDumps, logPart] = dumps.stdout.split(`${LOG_MARK}\n`);
        const logLines = logHere
            ? (logPart ?? "").split("\n")
            : accessLog
              ? (await proxy.run(accessLogScript(accessLog), { label: `read archive downloads in ${accessLog}` })).stdout.split("\n")
              : [];
        const [clock, ...dumpLines] = clockAndDumps.trim().split("\n");
        const hostSeconds = Number(clock);
        if (Number.isFinite(hostSeconds) && hostSeconds > 0) facts.clockSkewMs = clockSkewMs(hostSeconds, runnerBefore, Date.now());
        const dumpsOnHost = dumpLines.filter(Boolean).map((l) => ({ bytes: Number(l.split(" ")[0]), path: l.slice(l.indexOf(" ") + 1) }));

        // Hosts at a stage that stops PostgreSQL (dormant on) have their database stopped on purpose; so has a
        // host whose move to dormant was interrupted after the closure began stopping services (its record
        // says so).
        if (!STAGE_TABLE[currentStage].stopped.includes("postgresql")) {
            const db = await connectDatabase(host, access).catch((err: Error) => {
                if (stoppedByClosure?.length) return undefined;
                throw err;
            });
            if (!db) return { facts, originalVhost, dumpsOnHost };
            try {
                // Who gets an archive (rails/request_archives.rb): a confirmed user (its e-mail reaches a verified
                // address) of an unsuspended account that is not a memorial (User#active_for_authentication?).
                const signsIn = "u.confirmed_at IS NOT NULL AND a.suspended_at IS NULL AND NOT a.memorial";
                const [row] = (
                    await db.query(
                        `SELECT (SELECT count(*)::int FROM backups WHERE processed = false) AS pending,
                                (SELECT max(dump_updated_at) FROM backups WHERE processed = true) AS last,
                                (SELECT count(*)::int FROM backups WHERE processed = true AND dump_updated_at > now() - interval '1 hour') AS last_hour,
                                (SELECT max(m.created_at) FROM account_migrations m JOIN accounts a ON a.id = m.account_id WHERE a.domain IS NULL) AS last_move,
                                (SELECT count(*)::int FROM accounts WHERE domain IS NULL AND moved_to_account_id IS NOT NULL) AS moved,
                                (SELECT count(*)::int FROM accounts WHERE domain IS NULL
                                   AND ${era === "requested-deletion" ? "requested_deletion_at" : "suspended_at"} > now() - interval '10 minutes') AS deleted_recently,
                                (${accountsLeftSql(era)}) AS deletion,
                                (SELECT min(r.created_at) + interval '${DELAY_TO_DELETION_DAYS} days' FROM account_deletion_requests r
                                   JOIN accounts a ON a.id = r.account_id WHERE a.domain IS NULL) AS purge_from,
                                ${settingRowSql("registrations_mode")} AS registrations,
                                ${settingRowSql("backups_retention_period")} AS retention,
                                (SELECT count(*)::int FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.confirmed_at IS NOT NULL AND a.suspended_at IS NULL) AS email_recipients,
                                (SELECT coalesce(json_agg(json_build_object('username', x.username, 'requested', x.requested) ORDER BY x.requested NULLS FIRST, x.username), '[]')
                                   FROM (SELECT a.username, max(b.created_at) AS requested FROM users u JOIN accounts a ON a.id = u.account_id
                                           LEFT JOIN backups b ON b.user_id = u.id WHERE ${signsIn} GROUP BY a.username) x) AS archives`,
                    )
                ).rows;
                const mastodonSettings = resolveMastodonSettings(
                    { registrations_mode: rowFromSql(row.registrations), backups_retention_period: rowFromSql(row.retention) },
                    defaultsText,
                );
                facts.database = {
                    pendingArchives: Number(row.pending),
                    archivesLastHour: Number(row.last_hour),
                    suspendedLast10Min: Number(row.deleted_recently),
                    lastArchiveFinishedAt: row.last ? new Date(row.last).toISOString() : undefined,
                    ...(row.last_move ? { lastMoveAt: new Date(row.last_move).toISOString() } : {}),
                    movedAccounts: Number(row.moved),
                    accountsPendingDeletion: Number(row.deletion),
                    ...(row.purge_from ? { deletionRequestsDueFrom: new Date(row.purge_from).toISOString() } : {}),
                    registrationsMode: mastodonSettings.registrationsMode,
                    ...(mastodonSettings.backupsRetentionDays ? { backupsRetentionDays: mastodonSettings.backupsRetentionDays } : {}),
                    announcementEmailRecipients: Number(row.email_recipients),
                    // json_agg gives the timestamps without a zone: they are UTC, as Rails writes them.
                    latestArchiveByUser: (row.archives as { username: string; requested: string | null }[]).map((r) => ({
                        username: r.username,
                        requestedAt: r.requested ? new Date(`${r.requested}Z`).toISOString() : undefined,
                    })),
                };
                if (accessLog !== undefined) {
                    const announcedOn = announcedAtOf(facts, hostNow(new Date(), facts.clockSkewMs)).toISOString().slice(0, 10);
                    const readFrom = { announcedOn, accessLog };
                    facts.ledger = { ...ledgerFactsOf(await ledgerTextOf(db, settings.domain, readFrom, logLines, ledgerOnHost))!, readFrom };
                }
            } finally {
                await db.end();
            }
            // What the gates of this stage and the next wait for (their figures are in the outputs).
            const gatesInView = [settings.stage, nextStage(settings.stage)].flatMap((s) => (s ? STAGE_TABLE[s].gates : []));
            // Sidekiq is asked what it has left to deliver when a gate in view waits for it: the legacy command's
            // Deletes (running that command again would start over), the Moves of accounts that moved away.
            const legacyDeletes = selfDestructEnabled && legacySelfDestruct && gatesInView.includes("deletionNoticesSent");
            const moves = gatesInView.includes("moveGracePassed") && facts.database.lastMoveAt !== undefined;
            if (legacyDeletes || moves) facts.sidekiqDeliveries = sidekiqDeliveries(await railsRunner(host, access, "sidekiq_deliveries.rb", {}));
            if (selfDestructEnabled && !legacySelfDestruct && gatesInView.includes("deletionNoticesSent")) {
                const out = await tootctl(host, access, "self-destruct");
                facts.selfDestructProgress = out
                    .trim()
                    .split("\n")
                    .filter((l) => l.trim())
                    .pop()
                    ?.trim();
            }
        }
        return { facts, originalVhost, dumpsOnHost };
    });
}
