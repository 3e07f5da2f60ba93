// How the closure reaches the host: the SSH target of every role and the database behind it. Every step and
// the probe take a HostAccess; the dynamic provider (lib/provider/handler.ts) opens one connection per role.
import { Deployment, HostRole } from "../mastodon/deployment";
import { HostTargets, SshTarget } from "./ssh";

/** Everything a step needs to reach the host. Carries secrets: always a Pulumi secret. */
export interface HostAccess {
    /** The Mastodon host (role `app`), and every role not in splitHosts. */
    ssh: SshTarget;
    /** Roles on machines of their own (README: Split hosts); absent on a single-host server. */
    splitHosts?: Partial<Record<Exclude<HostRole, "app">, SshTarget>>;
    database: { host: string; port: number; name: string; user: string; password: string };
    /** How Mastodon runs there (lib/mastodon/deployment.ts). */
    deployment: Deployment;
    /** Access token with write:statuses (statusToken), when the announcement is also a public status. */
    statusToken?: string;
}

/** The SSH target of every role. */
export function hostTargets(access: HostAccess): HostTargets {
    return { app: access.ssh, ...access.splitHosts };
}
