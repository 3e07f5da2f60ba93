// The hosts of roles on machines of their own: for each role, all of its keys absent (the Mastodon host does
// it), or its address and host key (its port and user default to the Mastodon host's). The one private key
// reaches every host. A role's host that is the Mastodon host, two roles on one machine with different host
// keys or users, and PostgreSQL on a machine of its own where the deployment kind cannot have it are refused.
import type { Checked, SettingKey, Written } from "./keys";
import { KIND_SETTINGS } from "./kinds";
import { ROLE_MACHINE, SPLIT_ROLES, splitHostKeys, SplitHosts } from "./roles";
import { unixUser } from "./values";

/** The keys of roles given without their address: their one problem is that (below), so they are not
 *  checked one by one. */
export function keysWithoutHost(written: Written): SettingKey[] {
    return SPLIT_ROLES.flatMap((role) => {
        const keys = splitHostKeys(role);
        return written[keys.host] === undefined ? Object.values(keys).filter((k) => written[k] !== undefined) : [];
    });
}

/** The split hosts, or undefined when one host does everything; their problems into `problems`. */
export function splitHosts(checked: Checked, written: Written, problems: string[]): SplitHosts | undefined {
    const app = { host: written.host ?? "", port: checked.sshPort, user: written.sshUser ?? checked.sshUser };
    const split: SplitHosts = {};
    for (const role of SPLIT_ROLES) {
        const keys = splitHostKeys(role);
        const given = Object.values(keys).filter((k) => written[k] !== undefined);
        if (given.length === 0) continue;
        const what = ROLE_MACHINE[role];
        const host = written[keys.host];
        if (host === undefined) {
            problems.push(
                `${given.join(", ")} ${given.length > 1 ? "need" : "needs"} ${keys.host}: the SSH address of ${what}; or remove them (the Mastodon host "host" does that by default)`,
            );
            continue;
        }
        const hostKey = written[keys.hostKey];
        if (hostKey === undefined)
            problems.push(
                `${keys.hostKey} is required with ${keys.host}: the host public key line of ${what} to pin, e.g. "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 ${host})`,
            );
        const user = written[keys.user] ?? app.user;
        if (written[keys.user] === undefined) {
            // The Mastodon host's user, taken for the role, is checked as the role's own would be.
            const inherited = unixUser.safeParse(user);
            if (!inherited.success) problems.push(...inherited.error.issues.map((issue) => `${keys.user} ${issue.message}`));
        }
        const port = checked[keys.port] ?? app.port;
        if (host === app.host && port === app.port) {
            problems.push(
                `${keys.host} is the Mastodon host itself ("host" ${app.host}, port ${app.port}): one host does every role by default; remove the ${role}Ssh* settings`,
            );
        }
        split[role] = { host, port, user, hostKey: hostKey ?? "" };
    }
    const { proxy, database } = split;
    if (
        proxy &&
        database &&
        proxy.host === database.host &&
        proxy.port === database.port &&
        (proxy.hostKey !== database.hostKey || proxy.user !== database.user)
    ) {
        problems.push(
            `proxySshHost and databaseSshHost are one machine (${proxy.host}:${proxy.port}) but name different host keys or users: give both the same proxySshHostKey/databaseSshHostKey and proxySshUser/databaseSshUser`,
        );
    }
    if (database) {
        const kind = checked.deployment;
        const why = KIND_SETTINGS[kind].noDatabaseHost;
        if (why !== undefined)
            problems.push(`databaseSshHost applies to deployment "systemd" only, and deployment is "${kind}": ${why}; remove the databaseSsh* settings`);
        // The closure reads and dumps the database from the Mastodon host, as Mastodon reaches it.
        const dbHost = written.databaseHost;
        if (dbHost === undefined || /^(127\.|localhost$|::1$)/.test(dbHost)) {
            problems.push(
                `databaseHost must be the address the Mastodon host reaches PostgreSQL at (DB_HOST in .env.production) when PostgreSQL runs on databaseSshHost, got ${dbHost === undefined ? `the default ${checked.databaseHost}` : `"${dbHost}"`}: the closure reads and dumps the database from the Mastodon host`,
            );
        }
    }
    return Object.keys(split).length ? split : undefined;
}
