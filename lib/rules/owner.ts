// One closure per host (README: One closure per host): which stack's closure owns a host, as the host records
// it at the closure's first change there (lib/host/records.ts OWNER_RECORD), decided in pure code twice: at
// preview, before anything is declared (decide.ts: another stack is refused, saying who owns the host and how
// to hand it over), and at the run's first change, under the host's lock (lib/host/lock.ts: a record that
// changed hands since the preview refuses the run there).
import { BASELINE_STAGE, Stage } from "./stages";

/** Who a stack is: its closure id, which its state keeps (lib/provider/closure-id.ts), and its name, project
 *  and backend for messages. */
export interface StackIdentity {
    /** Undefined for a stack that has never run `up`: its id is made at its first up. */
    closureId?: string;
    stack: string;
    project: string;
    /** The backend's URL without credentials (backendForMessages). */
    backend: string;
}

/** OWNER_RECORD, on every host of the closure. */
export interface OwnerRecord {
    closureId: string;
    stack: string;
    project: string;
    backend: string;
    /** When the closure recorded itself as the owner (first change, or hand-over); the same on every host. */
    since: string;
    /** The record this one replaced when the host was handed over (adoptHost). */
    adoptedFrom?: Omit<OwnerRecord, "adoptedFrom">;
}

/** The owner record of one host of the closure, as read there. */
export interface HostOwner {
    /** The host's address, for messages. */
    host: string;
    record?: OwnerRecord;
    /** A file is there, but not a record the closure wrote. */
    unreadable?: boolean;
}

/** Who a run changes the hosts as: what every host step carries (lib/provider/host-step.ts). */
export interface OwnerClaim extends StackIdentity {
    closureId: string;
    /** adoptHost: the record (ownerToken) this run may replace. */
    adopt?: string;
    /** Whether the run's first change records the owner (changesHost). */
    record: boolean;
}

/** How a line of the decision is printed. */
interface Line {
    level: "info" | "warn";
    text: string;
}

/** What adoptHost names: one record, as the refusal prints it; the next hand-over makes another, so a setting
 *  left in place never takes a host back. */
export const ownerToken = (r: Pick<OwnerRecord, "closureId" | "since">) => `${r.closureId}@${r.since}`;

/** The record adoptHost names while it is being, or has been, handed over to this stack (a record there, or
 *  the one a record there replaced); undefined when adoptHost names none. */
export function handOverOf(owners: HostOwner[], adopt: string | undefined): string | undefined {
    const named = (r: Pick<OwnerRecord, "closureId" | "since"> | undefined) => r !== undefined && ownerToken(r) === adopt;
    return adopt !== undefined && owners.some((o) => named(o.record) || named(o.record?.adoptedFrom)) ? adopt : undefined;
}

/** The record in OWNER_RECORD's text, or undefined when it is not one the closure wrote. */
export function parseOwnerRecord(text: string): OwnerRecord | undefined {
    try {
        const r = JSON.parse(text) as Partial<OwnerRecord>;
        const fields = [r.closureId, r.stack, r.project, r.backend, r.since];
        return fields.every((f) => typeof f === "string" && f !== "") ? (r as OwnerRecord) : undefined;
    } catch {
        return undefined;
    }
}

/** A backend URL as messages and records show it: no user, password, query (keys and endpoints of object
 *  storage) or fragment. */
export function backendForMessages(url: string | undefined): string {
    if (!url) return "(backend unknown)";
    const bare = url.replace(/[?#].*$/, "");
    try {
        const u = new URL(bare);
        u.username = "";
        u.password = "";
        return u.toString();
    } catch {
        return bare.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
    }
}

/** Whether a run at `stage` changes the host: anything but the baseline stage on a host at the baseline with
 *  nothing stopped, where the steps only check what is there. Only a run that changes it records its owner. */
export function changesHost(stage: Stage, facts: { currentStage: Stage; stoppedByClosure?: unknown[] }): boolean {
    return stage !== BASELINE_STAGE || facts.currentStage !== BASELINE_STAGE || (facts.stoppedByClosure?.length ?? 0) > 0;
}

const describeStack = (s: Omit<StackIdentity, "closureId">) => `stack "${s.stack}" (project ${s.project}, backend ${s.backend})`;

/** Why `me` may not change a host whose record names another closure, and how to hand it over on purpose. */
function anotherOwner(host: string, r: OwnerRecord, me: StackIdentity, adopt: string | undefined, recordPath: string): string {
    const who = me.closureId ? `closure ${me.closureId}` : "a new stack (its closure id is made at its first up)";
    return [
        "another stack closes this host; nothing was changed:",
        `  ${recordPath} on ${host} names ${describeStack(r)}, closure ${r.closureId}, its owner since ${r.since};`,
        `  this is ${describeStack(me)}, ${who}. Two stacks on one host undo each other's changes.`,
        ...(adopt ? [`  adoptHost is "${adopt}", which is not this record: the host changed hands since, or the value is mistyped.`] : []),
        `  Go on with that stack (on its backend: pulumi stack select ${r.stack}), or hand the host over to this stack on purpose:`,
        `    pulumi config set mastodon-closure:adoptHost ${ownerToken(r)}`,
        `  after which that stack is refused here (its state still holds the steps it made: pulumi stack rm --force ${r.stack} forgets them).`,
    ].join("\n");
}

const unreadable = (host: string, recordPath: string) =>
    `${recordPath} on ${host} is not an owner record the closure wrote; nothing was changed: check what it is, and remove it to let this stack record itself at its next change`;

type Ownership = { refusal: string } | { ours?: OwnerRecord; adopted?: OwnerRecord };

/** The hosts' records against `me`: one of them this stack's, or the record adoptHost names, or none. */
function ownership(owners: HostOwner[], me: StackIdentity, adopt: string | undefined, recordPath: string): Ownership {
    let ours: OwnerRecord | undefined;
    let adopted: OwnerRecord | undefined;
    for (const { host, record, unreadable: bad } of owners) {
        if (bad) return { refusal: unreadable(host, recordPath) };
        if (!record) continue;
        if (me.closureId !== undefined && record.closureId === me.closureId) ours ??= record;
        else if (adopt !== undefined && ownerToken(record) === adopt) adopted ??= record;
        else return { refusal: anotherOwner(host, record, me, adopt, recordPath) };
    }
    return { ours, adopted };
}

/** At preview (decide.ts): a host recorded as another closure's refuses the run; what is printed otherwise. */
export function checkOwners(owners: HostOwner[], me: StackIdentity, adopt: string | undefined, recordPath: string): { refusal?: string; logs: Line[] } {
    const found = ownership(owners, me, adopt, recordPath);
    if ("refusal" in found) return { refusal: found.refusal, logs: [] };
    const logs: Line[] = [];
    if (found.adopted) {
        const from = found.adopted;
        logs.push({
            level: "warn",
            text: `adoptHost: this run's first change hands the host over from ${describeStack(from)}, closure ${from.closureId}, its owner since ${from.since}, to this stack; that stack is refused from then on`,
        });
    } else if (adopt !== undefined) {
        const from = found.ours?.adoptedFrom;
        const done = from && ownerToken(from) === adopt;
        logs.push({
            level: "info",
            text: done
                ? `adoptHost: done, the host was handed over to this stack from ${describeStack(from)} on ${found.ours!.since}; the setting can be removed (pulumi config rm mastodon-closure:adoptHost)`
                : `adoptHost "${adopt}" names no record on the host (${found.ours ? "the host is this stack's" : "the host has no owner record"}): remove it (pulumi config rm mastodon-closure:adoptHost)`,
        });
    }
    if (found.ours) logs.push({ level: "info", text: `host owner: this stack, closure ${found.ours.closureId}, since ${found.ours.since} (${recordPath})` });
    else if (!found.adopted)
        logs.push({ level: "info", text: `host owner: none recorded; this stack records itself (${recordPath}) at its first change to the host` });
    return { logs };
}

/**
 * At the run's first change, under the lock of every host of the closure (lib/host/lock.ts): the record each
 * host must hold, and which hosts to write it on (a host without it, or with this stack's older name or backend,
 * or with the record being handed over), or the refusal when a record changed hands since the preview. A run
 * that does not change the host (claim.record false) writes no first record.
 */
export function claimRecords(
    owners: HostOwner[],
    claim: OwnerClaim,
    now: Date,
    recordPath: string,
): { refusal: string } | { record?: OwnerRecord; writeOn: boolean[] } {
    const found = ownership(owners, claim, claim.adopt, recordPath);
    if ("refusal" in found) return { refusal: `${found.refusal}\n  (The record changed since this run's preview; this run changed nothing.)` };
    const me = { closureId: claim.closureId, stack: claim.stack, project: claim.project, backend: claim.backend };
    let record: OwnerRecord | undefined;
    if (found.adopted) {
        const { adoptedFrom: _earlier, ...from } = found.adopted;
        record = { ...me, since: now.toISOString(), adoptedFrom: from };
    } else if (found.ours) record = { ...found.ours, ...me };
    else if (claim.record) record = { ...me, since: now.toISOString() };
    if (!record) return { writeOn: owners.map(() => false) };
    const text = JSON.stringify(record);
    return { record, writeOn: owners.map((o) => !o.record || JSON.stringify(o.record) !== text) };
}
