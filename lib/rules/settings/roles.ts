// Which machine does what (README: Split hosts): how one host is reached, the roles that can be on a
// machine of their own, the names of their keys, and the hosts described in words.
import type { HostRole } from "../../mastodon/deployment";

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

/** Roles on machines of their own; absent when one host does everything. */
export type SplitHosts = Partial<Record<SplitRole, SshEndpoint>>;

/** The machine a role's keys name, in words. */
export const ROLE_MACHINE: Record<SplitRole, string> = {
    proxy: "the machine running the nginx in front of Mastodon",
    database: "the machine running PostgreSQL",
};

/** The keys of a split role's host, e.g. proxySshHost, proxySshPort, proxySshUser, proxySshHostKey. */
export const splitHostKeys = <R extends SplitRole>(role: R) =>
    ({ host: `${role}SshHost`, port: `${role}SshPort`, user: `${role}SshUser`, hostKey: `${role}SshHostKey` }) as const;

/** Which host does what, in words for the preview and the outputs; undefined when one host does everything. */
export function describeHosts(s: {
    ssh: SshEndpoint;
    splitHosts?: SplitHosts;
    database: { host: string; port: number };
}): Record<HostRole, string> | undefined {
    if (!s.splitHosts) return undefined;
    const at = (e: SshEndpoint) => `${e.user}@${e.host}:${e.port}`;
    const { proxy, database } = s.splitHosts;
    return {
        app: `${at(s.ssh)}: Mastodon (web, streaming, Sidekiq${database ? "" : ", PostgreSQL"}, Redis), the database read and dumped from there, the closure's journal and records`,
        proxy: `${at(proxy ?? s.ssh)}: nginx in front, its vhost and the kept original`,
        database: `${at(database ?? s.ssh)}: PostgreSQL${database ? `, reached by the Mastodon host at ${s.database.host}:${s.database.port}` : ""}`,
    };
}
