// What the settings allow and default per deployment kind (lib/mastodon/deployment.ts): one entry per kind,
// so that another kind cannot be added without saying what it needs here.
import type { DeploymentKind } from "../../mastodon/deployment";
import type { SettingKey } from "./keys";

export interface KindSettings {
    /** Whether databasePassword must be given. */
    databasePassword: "required" | "optional";
    /** The database when databaseName and databaseUser are unset: what the kind's setup writes. */
    database: { name: string; user: string };
    /** Keys of the systemd deployment that contradict the kind, each with why: refused, not ignored. */
    refused: Partial<Record<SettingKey, string>>;
    /** Why PostgreSQL cannot be on a machine of its own (databaseSshHost); undefined when it can. */
    noDatabaseHost?: string;
}

export const KIND_SETTINGS: Record<DeploymentKind, KindSettings> = {
    systemd: {
        databasePassword: "required",
        database: { name: "mastodon_production", user: "mastodon" },
        refused: {},
    },
    compose: {
        // Upstream's compose file runs PostgreSQL with trust authentication: DB_PASS is usually empty there.
        databasePassword: "optional",
        // What `mastodon:setup` writes for Docker (DB_NAME, DB_USER).
        database: { name: "postgres", user: "postgres" },
        // Keys that say how a systemd host runs Mastodon.
        refused: {
            mastodonUser: "the containers run Mastodon as their image's user",
            mailService: "a compose deployment stops only its own services (db, redis, web, streaming, sidekiq)",
            databaseHost: "the closure reaches the db service's container, whose address Docker gives",
            databasePort: "the closure reaches the db service's container on PostgreSQL's port",
        },
        noDatabaseHost: "a compose deployment runs PostgreSQL as its db service beside Mastodon",
    },
};
