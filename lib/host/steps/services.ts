// Services stopped and disabled (dormant: Mastodon's and PostgreSQL; parked: nginx), only after the dump they
// depend on is checked on the host; started again, in reverse order and as they were found, on the way back.
import {
    dumpLines,
    HOST_SYSTEMD,
    HostRole,
    parseServiceState,
    ServiceManager,
    serviceManager,
    serviceStatesScript,
    startServiceLines,
    stopServiceLine,
} from "../../mastodon/deployment";
import { shq } from "../../mastodon/shell";
import { HostAccess } from "../access";
import { SERVICES_RECORD, UnitState } from "../records";
import { RemoteHost } from "../ssh";
import { Step } from "./step";

export interface StopParams {
    /** Stopped and disabled, in this order; started again in reverse order on the way back. */
    units: string[];
    /** The verified dump the stop depends on: checked on the host again right before the first stop. */
    dump?: { path: string; sha256: string; encrypted: boolean };
    /** The host record of how these units were found, when not the closure's main one (SERVICES_RECORD). */
    record?: string;
    /** Units of the host's own systemd (nginx in front, PostgreSQL on a database host), not the deployment's
     *  Mastodon services. */
    hostUnits?: boolean;
    /** The host the units are on, when not the Mastodon host's: `database` for PostgreSQL on a machine of its
     *  own. Host units without it are the proxy's (nginx). */
    role?: Exclude<HostRole, "app">;
}

/** The host a stop acts on. */
export function stopRole(p: StopParams): HostRole {
    return p.role ?? (p.hostUnits ? "proxy" : "app");
}

/** What starts and stops the units of a stop. */
const managerOf = (access: HostAccess, p: StopParams): ServiceManager => (p.hostUnits ? HOST_SYSTEMD : serviceManager(access.deployment));

async function unitStates(host: RemoteHost, manager: ServiceManager, units: string[]): Promise<UnitState[]> {
    // No units (the stop declared below dormant to start them again): nothing to ask, and no empty line
    // to read as a unit.
    if (units.length === 0) return [];
    const r = await host.run(serviceStatesScript(manager, units), { label: `state of ${units.join(", ")}` });
    return r.stdout
        .trim()
        .split("\n")
        .map((line, i) => parseServiceState(units[i], line));
}

/** Refuses to stop anything unless the dump on disk matches its sha256 and (when not encrypted) lists
 *  entries with pg_restore --list, now, on the Mastodon host where it was made. */
async function requireIntactDump(host: RemoteHost, access: HostAccess, dump: NonNullable<StopParams["dump"]>): Promise<void> {
    const list = dumpLines(access.deployment, access.database).list;
    const app = await host.on("app");
    const r = await app.run(
        `set -uo pipefail; f=${shq(dump.path)}
[ -e "$f" ] || { echo "missing"; exit 0; }
sum=$(sha256sum "$f" | cut -d' ' -f1); [ "$sum" = ${shq(dump.sha256)} ] || { echo "sha256 $sum"; exit 0; }
${dump.encrypted ? "echo ok" : `n=$(${list} 2>/dev/null | grep -cv '^;' || true); [ "\${n:-0}" -gt 0 ] && echo ok || echo "pg_restore --list found no entries"`}`,
        { label: "check the database dump before stopping anything" },
    );
    const seen = r.stdout.trim();
    if (seen === "ok") return;
    if (app === host)
        throw new Error(`services not stopped, nothing was changed: the dump ${dump.path} (sha256 ${dump.sha256}) is not intact on the host: ${seen}`);
    // PostgreSQL on a host of its own: its stop runs after the Mastodon host's, and the dump is not there.
    throw new Error(
        `services not stopped on ${host.target.host}, nothing was changed there: the dump ${dump.path} (sha256 ${dump.sha256}) is not intact on the Mastodon host ${app.target.host}: ${seen}`,
    );
}

/** The record of how the closure found each service, from the host (written before the first stop). */
async function recordedStates(host: RemoteHost, record: string): Promise<UnitState[] | undefined> {
    const text = await host.readFile(record, "read the services record");
    return text ? (JSON.parse(text).states as UnitState[]) : undefined;
}

/**
 * Stop and disable units in the given order, only after the dump they depend on is checked on the host.
 * How each service was found is written on the host before the first one stops, once: a run killed half
 * way (or a later one that finds them stopped) still knows what to start again on the way back. With no
 * units (below dormant) it starts again what the record says and empties the record.
 */
export const stopServices: Step<StopParams, { states: UnitState[] }> = {
    async apply(host, access, p, previous) {
        const record = p.record ?? SERVICES_RECORD;
        const manager = managerOf(access, p);
        const onHost = await recordedStates(host, record);
        const recorded = onHost ?? previous?.states ?? [];
        const elsewhere = recorded.filter((s) => !p.units.includes(s.unit));
        if (elsewhere.length) await startAgain(host, manager, elsewhere); // units this stage no longer stops
        const current = await unitStates(host, manager, p.units);
        const todo = current.filter((s) => s.wasActive || s.wasEnabled);
        if (todo.length && p.dump) await requireIntactDump(host, access, p.dump);
        // How each unit was found: as first recorded, or as it is now for a unit stopped the first time.
        const states = p.units.map((u) => recorded.find((s) => s.unit === u) ?? current.find((s) => s.unit === u)!);
        // With every unit started again the record stays, empty: the host keeps saying that the closure had
        // stopped services, so later runs declare this step as this one did (and converge).
        if (onHost === undefined || JSON.stringify(states) !== JSON.stringify(onHost)) {
            await host.writeFile(record, JSON.stringify({ states }, null, 2) + "\n", {
                owner: "root",
                mode: "644",
                label: "record how the services were found",
            });
        }
        for (const s of todo) await host.run(stopServiceLine(manager, s.unit), { label: `stop and disable ${s.unit}` });
        return { states };
    },
    /** Reports as stopped the units this stop has down, and the recorded ones it is to start again that are
     *  not back as they were found: a move back to below dormant killed before it started them shows as
     *  drift, so the next `up --refresh` starts them. */
    async read(host, access, p, result) {
        const recorded = (await recordedStates(host, p.record ?? SERVICES_RECORD)) ?? [];
        const toStartAgain = recorded.filter((s) => !p.units.includes(s.unit));
        const now = await unitStates(host, managerOf(access, p), [...p.units, ...toStartAgain.map((s) => s.unit)]);
        const down = now.filter((s) => p.units.includes(s.unit) && !s.wasActive && !s.wasEnabled);
        const notBack = now.filter((s) => {
            const found = toStartAgain.find((r) => r.unit === s.unit);
            return found !== undefined && ((found.wasActive && !s.wasActive) || (found.wasEnabled && !s.wasEnabled));
        });
        return { params: { ...p, units: [...down, ...notBack].map((s) => s.unit) }, result };
    },
    async undo(host, access, p, outputs) {
        const record = p.record ?? SERVICES_RECORD;
        await startAgain(host, managerOf(access, p), (await recordedStates(host, record)) ?? outputs.states);
        await host.run(`rm -f ${shq(record)}`, { label: "remove the services record" });
    },
};

async function startAgain(host: RemoteHost, manager: ServiceManager, states: UnitState[]): Promise<void> {
    for (const s of [...states].reverse()) {
        for (const { what, line } of startServiceLines(manager, s)) await host.run(line, { label: what });
    }
}
