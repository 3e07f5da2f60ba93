// One run at a time on a host, and the host's owner record (README: One closure per host). At a run's first
// change (a step's create, update or delete, lib/provider/handler.ts), every host of the closure is locked for
// the rest of the run, in one order (the Mastodon host, the proxy, the database host), and its owner record is
// checked under the lock and written when the run may (lib/rules/owner.ts claimRecords decides).
//
// The lock is the kernel's: flock on HOST_LOCK, held by a process on the host that lives exactly as long as
// the sshd process of this run's own SSH connection (kept open until the run ends). A run killed with kill -9
// drops its connection, sshd ends, and the lock is free for the next run within a fraction of a second; a
// second run meanwhile is refused with who holds it and since when. Nothing to clean up, nothing to expire.
import { claimRecords, HostOwner, OwnerClaim, parseOwnerRecord } from "../rules/owner";
import { shq } from "../mastodon/shell";
import { HOST_LOCK, OWNER_RECORD } from "./records";
import { HostTargets, RemoteHost, sshSettingsOf } from "./ssh";

/** What HOST_LOCK says while a run holds it (then the holder's process id on the host, on a line of its own). */
interface Holder {
    stack: string;
    project: string;
    backend: string;
    since: string;
}

/** Exit code of the lock script when another run holds the lock. */
const BUSY = 75;
/** Seconds a run waits for the lock: enough for a killed run's connection to be ended by sshd. */
const WAIT_SECONDS = 5;

/**
 * Takes HOST_LOCK for as long as this SSH connection lasts, then prints the owner record (base64, or "none").
 * The holder is a subshell keeping the lock's descriptor, which ends when the connection's sshd process does
 * (the first sshd or sshd-session above this command; its start time guards against a reused pid).
 */
const LOCK_SCRIPT = `set -euo pipefail
p=$$
until c=$(cat /proc/$p/comm) && { [ "$c" = sshd ] || [ "$c" = sshd-session ]; }; do
  p=$(awk '/^PPid:/ {print $2}' /proc/$p/status)
  [ "$p" -gt 1 ] || { echo "no sshd process above this command: the lock cannot be tied to the SSH connection" >&2; exit 1; }
done
read -ra stat < /proc/$p/stat; born=\${stat[21]}
umask 077
exec 9>>${shq(HOST_LOCK)}
flock -w ${WAIT_SECONDS} 9 || { cat ${shq(HOST_LOCK)}; exit ${BUSY}; }
holder=$(cat)
( exec </dev/null >/dev/null 2>&1
  while read -ra s < /proc/$p/stat && [ "\${s[21]}" = "$born" ]; do sleep 0.2; done ) &
printf '%s\\n%s\\n' "$holder" "$!" > ${shq(HOST_LOCK)}
if [ -e ${shq(OWNER_RECORD)} ]; then base64 -w0 < ${shq(OWNER_RECORD)}; echo; else echo none; fi`;

/** A held lock: the connection that holds it, and the owner record read under it. */
interface HeldLock {
    host: RemoteHost;
    owner: HostOwner;
}

/** Locks this process holds, by machine; and the machines whose connection (so whose lock) was lost. */
const locks = new Map<string, Promise<HeldLock>>();
const lost = new Set<string>();
/** Each set of machines claimed once per run: the records are settled at the first change. */
const claims = new Map<string, Promise<void>>();

function busy(host: string, text: string): Error {
    const [first, pid] = text.trim().split("\n");
    let who = "a run of the closure";
    try {
        const h = JSON.parse(first) as Holder;
        who = `stack "${h.stack}" (project ${h.project}, backend ${h.backend}), since ${h.since}`;
    } catch {
        /* an empty or older lock file: say what is known */
    }
    return new Error(
        `another run is changing ${host} now: ${who}. This run changed nothing there; run it again once that one has ended. ` +
            `(Its lock, ${HOST_LOCK}, ends with that run's SSH connection${pid ? `; if that run is gone but sshd still keeps its connection, end process ${pid} on the host` : ""}.)`,
    );
}

async function lockHost(key: string, targets: HostTargets, role: keyof HostTargets, holder: Holder, beforeCommand?: () => Promise<void>): Promise<HeldLock> {
    const target = targets[role]!;
    const host = await RemoteHost.connect(target, { beforeCommand, settings: sshSettingsOf(targets, role) });
    host.onClose(() => lost.add(key));
    const r = await host.run(LOCK_SCRIPT, { stdin: JSON.stringify(holder), label: `lock ${target.host} for this run`, okCodes: [BUSY] });
    if (r.code === BUSY) {
        host.close();
        throw busy(target.host, r.stdout);
    }
    const line = r.stdout.trim();
    if (line === "none") return { host, owner: { host: target.host } };
    const record = parseOwnerRecord(Buffer.from(line, "base64").toString("utf8"));
    return { host, owner: record ? { host: target.host, record } : { host: target.host, unreadable: true } };
}

/**
 * Before a run's changes: every host of `targets` locked (once per run; the lock stays until the run ends), and
 * their owner records settled under the locks as `claim` says (none: a step recorded before owner records,
 * undone by a run that gave no claim; it locks only). Throws, changing nothing, when another run holds a lock
 * or another closure's record is there.
 */
export function claimHosts(targets: HostTargets, claim: OwnerClaim | undefined, beforeCommand?: () => Promise<void>): Promise<void> {
    const roles = (["app", "proxy", "database"] as const).filter((r) => targets[r] !== undefined);
    const machines = new Map<string, (typeof roles)[number]>();
    for (const role of roles) {
        const t = targets[role]!;
        const key = `${t.user}@${t.host}:${t.port}`;
        if (!machines.has(key)) machines.set(key, role);
    }
    const setKey = [...machines.keys()].join(" ");
    let claimed = claims.get(setKey);
    if (!claimed) {
        claimed = (async () => {
            const holder: Holder = claim
                ? { stack: claim.stack, project: claim.project, backend: claim.backend, since: new Date().toISOString() }
                : { stack: "(a stack whose steps predate owner records)", project: "", backend: "", since: new Date().toISOString() };
            const held: HeldLock[] = [];
            // One at a time, in one order: two runs never wait on each other's second host.
            for (const [key, role] of machines) {
                let lock = locks.get(key);
                if (!lock) locks.set(key, (lock = lockHost(key, targets, role, holder, beforeCommand)));
                held.push(await lock);
            }
            if (!claim) return;
            const settled = claimRecords(
                held.map((h) => h.owner),
                claim,
                new Date(),
                OWNER_RECORD,
            );
            if ("refusal" in settled) throw new Error(settled.refusal);
            for (const [i, h] of held.entries()) {
                if (!settled.writeOn[i]) continue;
                await h.host.writeFile(OWNER_RECORD, JSON.stringify(settled.record, null, 2) + "\n", {
                    owner: "root",
                    mode: "600",
                    label: "record this stack as the host's owner",
                });
                h.owner = { host: h.owner.host, record: settled.record };
            }
        })();
        claims.set(setKey, claimed);
    }
    return claimed;
}

/** Before every host command of a change: the run still holds its locks (a lock goes with its connection). */
export async function requireLocks(): Promise<void> {
    if (lost.size > 0) {
        throw new Error(
            `the lock on ${[...lost].join(", ")} ended with its SSH connection: no further host command runs in this run; run up again (it goes on from what the host has)`,
        );
    }
}
