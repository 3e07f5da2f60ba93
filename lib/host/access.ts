// How the closure reaches the host: the SSH target of every role and the database behind it. Every step and
// the probe take a HostAccess; the dynamic provider (lib/provider/handler.ts) opens one connection per role.
// A HostAccess holds secrets and lives only in memory (the program's probe, the provider's process): what a
// step's resource records is its StepAccess, the same without the secrets, which the provider reads from the
// stack's config itself (lib/provider/stack-secrets.ts).
import { Deployment, HostRole } from "../mastodon/deployment";
import { HostTargets, SshTarget } from "./ssh";

/** Everything a step needs to reach the host, secrets included: never a resource's input, output or state. */
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

/** The secrets of a HostAccess, each by the setting that holds it. */
export interface HostSecrets {
    sshPrivateKey: string;
    /** "" where the database takes none (compose). */
    databasePassword: string;
    statusToken?: string;
}

type PublicTarget = Omit<SshTarget, "privateKey">;

/** What a host step's resource records of the way in: no secret, and the stack whose config holds them. */
export interface StepAccess {
    ssh: PublicTarget;
    splitHosts?: Partial<Record<Exclude<HostRole, "app">, PublicTarget>>;
    database: Omit<HostAccess["database"], "password">;
    deployment: Deployment;
    /** The stack (organization/project/stack) whose config holds the secrets. */
    stack: string;
}

/** The HostAccess of a step: its StepAccess with the secrets read from the stack's config (the one SSH key
 *  reaches every host). */
export function withSecrets(access: StepAccess, secrets: HostSecrets): HostAccess {
    const target = (t: PublicTarget): SshTarget => ({ ...t, privateKey: secrets.sshPrivateKey });
    const split = access.splitHosts;
    return {
        ssh: target(access.ssh),
        ...(split ? { splitHosts: Object.fromEntries(Object.entries(split).map(([role, t]) => [role, target(t)])) } : {}),
        database: { ...access.database, password: secrets.databasePassword },
        deployment: access.deployment,
        ...(secrets.statusToken ? { statusToken: secrets.statusToken } : {}),
    };
}

/** The SSH target of every role. */
export function hostTargets(access: HostAccess): HostTargets {
    return { app: access.ssh, ...access.splitHosts };
}
