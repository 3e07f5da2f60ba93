// How Mastodon runs on its host: the one place that says *how* a Rails command runs, where Mastodon's
// files are, how a service is asked, stopped and started, how Mastodon restarts and how its database is
// dumped. The stage table (lib/rules/stages.ts) says *what* each stage wants; the steps (lib/host/steps/) and
// the probe ask this module how. Pure: it gives names and shell lines, and never connects.
//
// Each kind of deployment is one entry of RUNTIMES below (and, if it starts and stops services its own way,
// one of serviceLines); the compiler refuses a kind without its entry. Another way of running Mastodon
// (Kubernetes, say) is that entry, its settings' rules in lib/rules/settings/kinds.ts (validated there before
// anything connects), and a sandbox of that shape for its end-to-end test.
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

/** What starts and stops services: the host's systemd, or Docker Compose in a directory. */
export type ServiceManager = { kind: "systemd" } | { kind: "compose"; dir: string };

/** The host's own systemd: nginx in front is a unit of the host whatever runs Mastodon. */
export const HOST_SYSTEMD: ServiceManager = { kind: "systemd" };

/** The database as the closure reaches it. */
export interface DatabaseTarget {
    host: string;
    port: number;
    name: string;
    user: string;
}

/** How Mastodon runs under one kind of deployment: everything the closure asks of it, as shell lines and words. */
interface Runtime {
    /** What the deployment is, in words for the preview and the outputs. */
    description: string;
    /** A shell line running the bash `script` as Mastodon itself runs (its user or its image, its directory,
     *  RAILS_ENV=production), stdin passed on. */
    inMastodon(script: string): string;
    /** .env.production, on the host. */
    envFile: string;
    /** What liveDir names for this kind, in words for an error message. */
    liveDirIs: string;
    /** Mastodon's source: its directory, where that is in words for an error message, and the wrapper a
     *  reading of its files runs in (none: read on the host). */
    source: { dir: string; where: string; wrap?: (script: string) => string };
    /** The service of each role (undefined: none there). */
    services: Record<ServiceRole, string | undefined>;
    /** What starts and stops those services. */
    manager: ServiceManager;
    /** Restarts Mastodon's processes `names` so that they read .env.production again. */
    restart(names: string[]): string;
    /** `dump` writes a custom-format pg_dump of the database to "$f" (PGPASSWORD in the environment),
     *  `list` prints its table of contents from "$f" (pg_restore --list). */
    dump(db: DatabaseTarget): { dump: string; list: string };
    /** A shell line printing the address the closure's PostgreSQL client reaches the database at, through
     *  the SSH connection; undefined: the one in the settings. */
    databaseAddress: string | undefined;
}

/** `docker compose` in the deployment's directory; the file there is found as compose finds it. */
const compose = (d: { dir: string }) => `cd ${shq(d.dir)} && docker compose`;

/** Each kind of deployment, one entry each. */
const RUNTIMES: Record<DeploymentKind, (d: Deployment) => Runtime> = {
    /** The install guide's host: a checkout run by systemd units as the Mastodon user, with rbenv's Ruby. */
    systemd: (d) => ({
        description: `systemd units, Mastodon checked out in ${d.dir} and run as ${d.mastodonUser}`,
        inMastodon: (script) => {
            const u = shq(d.mastodonUser);
            return (
                `home=$(getent passwd ${u} | cut -d: -f6); cd ${shq(d.dir)} && ` +
                `runuser -u ${u} -- env HOME="$home" PATH="$home/.rbenv/shims:$home/.rbenv/bin:$PATH" RAILS_ENV=production bash -c ${shq(script)}`
            );
        },
        envFile: `${d.dir}/.env.production`,
        liveDirIs: "the Mastodon checkout",
        source: { dir: d.dir, where: `the checkout ${d.dir} (liveDir)` },
        services: {
            web: "mastodon-web",
            streaming: "mastodon-streaming",
            sidekiq: "mastodon-sidekiq",
            mail: d.mailService,
            redis: "redis-server",
            postgresql: "postgresql",
        },
        manager: HOST_SYSTEMD,
        restart: (names) => `systemctl restart ${names.join(" ")}`,
        dump: (db) => ({
            dump: `pg_dump -Fc -h ${shq(db.host)} -p ${db.port} -U ${shq(db.user)} -d ${shq(db.name)} -f "$f"`,
            list: `pg_restore --list "$f"`,
        }),
        databaseAddress: undefined,
    }),
    /**
     * Upstream's docker-compose.yml with .env.production beside it. A Mastodon command runs in a one-off
     * container of the web service without its dependencies (`run --no-deps`: never a database or Redis
     * started by asking), which reads the .env.production of now, as a restarted service would. The source
     * read is the image's the services run, not a checkout's that may be another version. `restart` would keep
     * the containers' old environment, so the services are recreated (`up --force-recreate`). The dump runs in
     * the db container, through its local socket, so the host needs no PostgreSQL client; the database is
     * reached at the db container's address (upstream's file publishes no database port), nothing printed
     * when it is not running.
     */
    compose: (d) => {
        const inMastodon = (script: string) => `${compose(d)} run --rm --no-deps -T web bash -c ${shq(script)}`;
        return {
            description: `Docker Compose in ${d.dir} (docker-compose.yml and .env.production), services db, redis, web, streaming, sidekiq`,
            inMastodon,
            envFile: `${d.dir}/.env.production`,
            liveDirIs: "the directory with docker-compose.yml",
            source: { dir: IMAGE_SOURCE_DIR, where: `the web service's image (${IMAGE_SOURCE_DIR}, run from ${d.dir})`, wrap: inMastodon },
            services: { web: "web", streaming: "streaming", sidekiq: "sidekiq", mail: undefined, redis: "redis", postgresql: "db" },
            manager: { kind: "compose", dir: d.dir },
            restart: (names) => `${compose(d)} up -d --no-deps --force-recreate ${names.join(" ")}`,
            dump: (db) => ({
                dump: `${compose(d)} exec -T db pg_dump -Fc -U ${shq(db.user)} -d ${shq(db.name)} > "$f"`,
                list: `${compose(d)} exec -T db pg_restore --list < "$f"`,
            }),
            databaseAddress: `id=$(${compose(d)} ps -q db | head -n1); [ -z "$id" ] || docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id"`,
        };
    },
};

const runtime = (d: Deployment): Runtime => RUNTIMES[d.kind](d);

/** What starts and stops Mastodon's services. */
export function serviceManager(d: Deployment): ServiceManager {
    return runtime(d).manager;
}

/** A shell line running the bash `script` as Mastodon itself runs, stdin passed on (Runtime.inMastodon). */
export function inMastodon(d: Deployment, script: string): string {
    return runtime(d).inMastodon(script);
}

/** .env.production, on the host. */
export function envFile(d: Deployment): string {
    return runtime(d).envFile;
}

/** How to read files of Mastodon's source (lib/mastodon/version.rb, config/settings.yml): the paths, and
 *  the wrapper their reading runs in. */
export function sourceFiles(d: Deployment, relative: string[]): { paths: string[]; wrap?: (script: string) => string } {
    const { dir, wrap } = runtime(d).source;
    return { paths: relative.map((r) => `${dir}/${r}`), ...(wrap ? { wrap } : {}) };
}

/** Where a file of Mastodon's source is, in words for an error message. */
/** What liveDir names for the deployment's kind, in words for an error message. */
export function liveDirIs(d: Deployment): string {
    return runtime(d).liveDirIs;
}

export function sourceWhere(d: Deployment): string {
    return runtime(d).source.where;
}

/** The service of each role (undefined: none there). */
export function serviceOf(d: Deployment, role: ServiceRole): string | undefined {
    return runtime(d).services[role];
}

/** Mastodon's own processes: restarted to enter self-destruct mode. */
export function mastodonServices(d: Deployment): string[] {
    return (["web", "streaming", "sidekiq"] as const).map((r) => serviceOf(d, r)!);
}

/** Restart Mastodon's processes so that they read .env.production again. */
export function restartMastodonLine(d: Deployment): string {
    return runtime(d).restart(mastodonServices(d));
}

/** Shell lines for the dump of the database to "$f" and the listing of its table of contents (Runtime.dump). */
export function dumpLines(d: Deployment, db: DatabaseTarget): { dump: string; list: string } {
    return runtime(d).dump(db);
}

/** A shell line printing the database's address for the closure's PostgreSQL client; undefined: the one in
 *  the settings (Runtime.databaseAddress). */
export function databaseAddressLine(d: Deployment): string | undefined {
    return runtime(d).databaseAddress;
}

/** What the deployment is, in words for the preview and the outputs. */
export function describeDeployment(d: Deployment): string {
    return runtime(d).description;
}

/** How a service was found: running, started at boot, and (compose) the restart policy to give back. */
export interface ServiceState {
    unit: string;
    wasActive: boolean;
    wasEnabled: boolean;
    /** compose: the container's restart policy while enabled (upstream's file says `always`). */
    restart?: string;
}

/** How one service manager asks, stops and starts a service, as shell lines. */
interface ServiceLines {
    /** Prints "active|inactive enabled|disabled [policy]". */
    state(name: string): string;
    /** Stops the service and keeps it from starting at boot. */
    stop(name: string): string;
    /** Starts it at boot again (with the restart policy it was found with). */
    enable(s: ServiceState): string;
    /** Starts it now. */
    start(name: string): string;
}

/**
 * Each service manager, one case each (the `never` refuses a manager without its case). compose: a
 * container is enabled while its restart policy brings it back (a stopped `always` container starts again
 * when the Docker daemon does, after a reboot), so stopping sets its policy to "no" and enabling gives back
 * the policy it had; a service with no container is neither active nor enabled.
 */
function serviceLines(m: ServiceManager): ServiceLines {
    switch (m.kind) {
        case "systemd":
            return {
                state: (n) => `echo "$(systemctl is-active ${shq(n)} || true) $(systemctl is-enabled ${shq(n)} || true)"`,
                stop: (n) => `systemctl disable --now ${shq(n)}`,
                enable: (s) => `systemctl enable ${shq(s.unit)}`,
                start: (n) => `systemctl start ${shq(n)}`,
            };
        case "compose":
            return {
                state: (n) =>
                    `id=$(${compose(m)} ps -aq ${shq(n)} | head -n1); if [ -z "$id" ]; then echo "inactive disabled"; else ` +
                    `docker inspect -f '{{if .State.Running}}active{{else}}inactive{{end}} {{if eq .HostConfig.RestartPolicy.Name "no"}}disabled{{else}}enabled {{.HostConfig.RestartPolicy.Name}}{{end}}' "$id"; fi`,
                stop: (n) => `${compose(m)} stop ${shq(n)} && docker update --restart=no $(${compose(m)} ps -aq ${shq(n)})`,
                enable: (s) => `docker update --restart=${shq(s.restart ?? "always")} $(${compose(m)} ps -aq ${shq(s.unit)})`,
                start: (n) => `${compose(m)} start ${shq(n)}`,
            };
        default: {
            const unknown: never = m;
            throw new Error(`no service lines for ${JSON.stringify(unknown)}`);
        }
    }
}

/** A shell script printing one line per service: "active|inactive enabled|disabled [policy]" (serviceLines). */
export function serviceStatesScript(m: ServiceManager, names: string[]): string {
    const lines = serviceLines(m);
    return names.map((n) => lines.state(n)).join("\n");
}

/** Parses one line of serviceStatesScript. */
export function parseServiceState(unit: string, line: string): ServiceState {
    const [active, enabled, restart] = line.trim().split(/\s+/);
    return { unit, wasActive: active === "active", wasEnabled: enabled === "enabled", ...(restart ? { restart } : {}) };
}

/** Stop a service and keep it from starting at boot. */
export function stopServiceLine(m: ServiceManager, name: string): string {
    return serviceLines(m).stop(name);
}

/** Start a service again as it was found: started at boot again if it was, running if it was. */
export function startServiceLines(m: ServiceManager, s: ServiceState): { what: string; line: string }[] {
    const lines = serviceLines(m);
    return [
        ...(s.wasEnabled ? [{ what: `enable ${s.unit}`, line: lines.enable(s) }] : []),
        ...(s.wasActive ? [{ what: `start ${s.unit}`, line: lines.start(s.unit) }] : []),
    ];
}
