// How Mastodon runs on its host: the one place that says *how* a Rails command runs, where Mastodon's
// files are, how a service is asked, stopped and started, how Mastodon restarts and how its database is
// dumped. The stage table (lib/rules/stages.ts) says *what* each stage wants; the steps (lib/host/steps.ts) and
// the probe ask this module how. Pure: it gives names and shell lines, and never connects.
//
// Another way of running Mastodon (Kubernetes, say) is one more kind here: a case in each function below,
// its settings in lib/rules/settings/kinds.ts (validated there before anything connects), and a sandbox of that
// shape for its end-to-end test.
import { shq } from "./shell";

export const DEPLOYMENT_KINDS = ["systemd", "compose"] as const;
/** `systemd`: the install guide's host (a checkout run by systemd units as the mastodon user, rbenv's
 *  Ruby). `compose`: upstream's docker-compose.yml (services db, redis, web, streaming, sidekiq) with
 *  `.env.production` beside it. */
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

/** How Mastodon is deployed, as the settings give it. No secret: it is shown in the preview. */
export interface Deployment {
    kind: DeploymentKind;
    /** systemd: the Mastodon checkout. compose: the directory holding docker-compose.yml and .env.production. */
    dir: string;
    /** systemd: the Unix user Mastodon runs as. */
    mastodonUser: string;
    /** systemd: a local mail server's unit, stopped when dormant. */
    mailService?: string;
}

/**
 * What a machine does for the closure (README: Split hosts). `app`: Mastodon's files, commands and services
 * (web, streaming, Sidekiq, mail, Redis), the database read and dumped through it, and the closure's journal
 * and records. `proxy`: the nginx in front, its vhost and the records of the kept original. `database`: the
 * PostgreSQL service. One machine does all three unless the settings give another for a role.
 */
export const HOST_ROLES = ["app", "proxy", "database"] as const;
export type HostRole = (typeof HOST_ROLES)[number];

/** Services the closure stops (and disables) in order; started again in reverse order on the way back. */
export type ServiceRole = "web" | "streaming" | "sidekiq" | "redis" | "postgresql" | "mail";

/** Where Mastodon's source is inside upstream's image (its Dockerfile's WORKDIR). */
export const IMAGE_SOURCE_DIR = "/opt/mastodon";

/** `docker compose` in the deployment's directory; the file there is found as compose finds it. */
const compose = (d: { dir: string }) => `cd ${shq(d.dir)} && docker compose`;

/** What starts and stops services: the host's systemd, or Docker Compose in a directory. */
export type ServiceManager = { kind: "systemd" } | { kind: "compose"; dir: string };

/** The host's own systemd: nginx in front is a unit of the host whatever runs Mastodon. */
export const HOST_SYSTEMD: ServiceManager = { kind: "systemd" };

/** What starts and stops Mastodon's services. */
export function serviceManager(d: Deployment): ServiceManager {
    return d.kind === "compose" ? { kind: "compose", dir: d.dir } : HOST_SYSTEMD;
}

/**
 * A shell line running the bash `script` as Mastodon itself runs (its user or its image, its directory,
 * RAILS_ENV=production), stdin passed on. compose: a one-off container of the web service without its
 * dependencies (`run --no-deps`: never a database or Redis started by asking), which reads the
 * .env.production of now, as a restarted service would.
 */
export function inMastodon(d: Deployment, script: string): string {
    switch (d.kind) {
        case "systemd": {
            const u = shq(d.mastodonUser);
            return (
                `home=$(getent passwd ${u} | cut -d: -f6); cd ${shq(d.dir)} && ` +
                `runuser -u ${u} -- env HOME="$home" PATH="$home/.rbenv/shims:$home/.rbenv/bin:$PATH" RAILS_ENV=production bash -c ${shq(script)}`
            );
        }
        case "compose":
            return `${compose(d)} run --rm --no-deps -T web bash -c ${shq(script)}`;
    }
}

/** .env.production, on the host. */
export function envFile(d: Deployment): string {
    return `${d.dir}/.env.production`;
}

/**
 * How to read files of Mastodon's source (lib/mastodon/version.rb, config/settings.yml): the paths, and
 * the wrapper their reading runs in. compose: the files of the image the services run, not of a checkout
 * that may be another version.
 */
export function sourceFiles(d: Deployment, relative: string[]): { paths: string[]; wrap?: (script: string) => string } {
    switch (d.kind) {
        case "systemd":
            return { paths: relative.map((r) => `${d.dir}/${r}`) };
        case "compose":
            return { paths: relative.map((r) => `${IMAGE_SOURCE_DIR}/${r}`), wrap: (script) => inMastodon(d, script) };
    }
}

/** Where a file of Mastodon's source is, in words for an error message. */
export function sourceWhere(d: Deployment): string {
    return d.kind === "systemd" ? `the checkout ${d.dir} (liveDir)` : `the web service's image (${IMAGE_SOURCE_DIR}, run from ${d.dir})`;
}

/** The service of each role: the install guide's systemd units, or upstream's compose services. */
export function serviceOf(d: Deployment, role: ServiceRole): string | undefined {
    const names: Record<DeploymentKind, Record<ServiceRole, string | undefined>> = {
        systemd: { web: "mastodon-web", streaming: "mastodon-streaming", sidekiq: "mastodon-sidekiq", mail: d.mailService, redis: "redis-server", postgresql: "postgresql" },
        compose: { web: "web", streaming: "streaming", sidekiq: "sidekiq", mail: undefined, redis: "redis", postgresql: "db" },
    };
    return names[d.kind][role];
}

/** Mastodon's own processes: restarted to enter self-destruct mode. */
export function mastodonServices(d: Deployment): string[] {
    return (["web", "streaming", "sidekiq"] as const).map((r) => serviceOf(d, r)!);
}

/** How a service was found: running, started at boot, and (compose) the restart policy to give back. */
export interface ServiceState {
    unit: string;
    wasActive: boolean;
    wasEnabled: boolean;
    /** compose: the container's restart policy while enabled (upstream's file says `always`). */
    restart?: string;
}

/**
 * A shell script printing one line per service: "active|inactive enabled|disabled [policy]". compose: a
 * container is enabled while its restart policy brings it back (a stopped `always` container starts again
 * when the Docker daemon does, after a reboot); a service with no container is neither.
 */
export function serviceStatesScript(d: ServiceManager, names: string[]): string {
    switch (d.kind) {
        case "systemd":
            return names.map((n) => `echo "$(systemctl is-active ${shq(n)} || true) $(systemctl is-enabled ${shq(n)} || true)"`).join("\n");
        case "compose":
            return names
                .map(
                    (n) =>
                        `id=$(${compose(d)} ps -aq ${shq(n)} | head -n1); if [ -z "$id" ]; then echo "inactive disabled"; else ` +
                        `docker inspect -f '{{if .State.Running}}active{{else}}inactive{{end}} {{if eq .HostConfig.RestartPolicy.Name "no"}}disabled{{else}}enabled {{.HostConfig.RestartPolicy.Name}}{{end}}' "$id"; fi`,
                )
                .join("\n");
    }
}

/** Parses one line of serviceStatesScript. */
export function parseServiceState(unit: string, line: string): ServiceState {
    const [active, enabled, restart] = line.trim().split(/\s+/);
    return { unit, wasActive: active === "active", wasEnabled: enabled === "enabled", ...(restart ? { restart } : {}) };
}

/** Stop a service and keep it from starting at boot. compose: its restart policy set to "no", so a
 *  reboot does not bring it back. */
export function stopServiceLine(d: ServiceManager, name: string): string {
    switch (d.kind) {
        case "systemd":
            return `systemctl disable --now ${shq(name)}`;
        case "compose":
            return `${compose(d)} stop ${shq(name)} && docker update --restart=no $(${compose(d)} ps -aq ${shq(name)})`;
    }
}

/** Start a service again as it was found: started at boot again if it was, running if it was. */
export function startServiceLines(d: ServiceManager, s: ServiceState): { what: string; line: string }[] {
    const lines = ((): { enable: string; start: string } => {
        switch (d.kind) {
            case "systemd":
                return { enable: `systemctl enable ${shq(s.unit)}`, start: `systemctl start ${shq(s.unit)}` };
            case "compose":
                return { enable: `docker update --restart=${shq(s.restart ?? "always")} $(${compose(d)} ps -aq ${shq(s.unit)})`, start: `${compose(d)} start ${shq(s.unit)}` };
        }
    })();
    return [...(s.wasEnabled ? [{ what: `enable ${s.unit}`, line: lines.enable }] : []), ...(s.wasActive ? [{ what: `start ${s.unit}`, line: lines.start }] : [])];
}

/** Restart Mastodon's processes so that they read .env.production again. compose: `restart` keeps the
 *  container's old environment, so the services are recreated (`up --force-recreate`). */
export function restartMastodonLine(d: Deployment): string {
    switch (d.kind) {
        case "systemd":
            return `systemctl restart ${mastodonServices(d).join(" ")}`;
        case "compose":
            return `${compose(d)} up -d --no-deps --force-recreate ${mastodonServices(d).join(" ")}`;
    }
}

/** The database as the closure reaches it. */
export interface DatabaseTarget {
    host: string;
    port: number;
    name: string;
    user: string;
}

/**
 * Shell lines for the dump: `dump` writes a custom-format pg_dump of the database to "$f" (PGPASSWORD in
 * the environment), `list` prints its table of contents from "$f" (pg_restore --list). compose: both run
 * in the db container, through its local socket, so the host needs no PostgreSQL client.
 */
export function dumpLines(d: Deployment, db: DatabaseTarget): { dump: string; list: string } {
    switch (d.kind) {
        case "systemd":
            return {
                dump: `pg_dump -Fc -h ${shq(db.host)} -p ${db.port} -U ${shq(db.user)} -d ${shq(db.name)} -f "$f"`,
                list: `pg_restore --list "$f"`,
            };
        case "compose":
            return {
                dump: `${compose(d)} exec -T db pg_dump -Fc -U ${shq(db.user)} -d ${shq(db.name)} > "$f"`,
                list: `${compose(d)} exec -T db pg_restore --list < "$f"`,
            };
    }
}

/**
 * A shell line printing the address the closure's PostgreSQL client reaches the database at, through the
 * SSH connection; undefined: the one in the settings. compose: the db container's address (upstream's
 * file publishes no database port); nothing printed when it is not running.
 */
export function databaseAddressLine(d: Deployment): string | undefined {
    switch (d.kind) {
        case "systemd":
            return undefined;
        case "compose":
            return `id=$(${compose(d)} ps -q db | head -n1); [ -z "$id" ] || docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id"`;
    }
}

/** What the deployment is, in words for the preview and the outputs. */
export function describeDeployment(d: Deployment): string {
    return d.kind === "systemd"
        ? `systemd units, Mastodon checked out in ${d.dir} and run as ${d.mastodonUser}`
        : `Docker Compose in ${d.dir} (docker-compose.yml and .env.production), services db, redis, web, streaming, sidekiq`;
}
