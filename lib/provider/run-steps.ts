// Runs the host steps for the dynamic-provider plugin (./handler.ts loads this module at the first create,
// read, update or delete): create and update run the step's `apply`, read its `read`, delete its `undo`.
//
// What counts is the host: a step's params say what the host must have, and `read` reports what it has,
// so a hand change shows as drift and the next up repairs it. The way in (`access`: addresses, users, host
// keys, no secret) is recorded without touching the host when only it changed; the secrets are read from the
// stack's config in this process (./stack-secrets.ts). No host command starts once the engine that asked for
// it is gone: a killed `pulumi up` stops the work at the command in flight. A change (create, update, delete)
// starts once the run holds every host of the closure, and their owner record names this stack
// (lib/host/lock.ts); it holds them until it ends, so two runs never interleave their changes.
import type * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { HostAccess, hostTargets, StepAccess, withSecrets } from "../host/access";
import { claimHosts, requireLocks } from "../host/lock";
import { roleOfStep, STEPS } from "../host/steps";
import { HostSet, RemoteHost } from "../host/ssh";
import type { OwnerClaim } from "../rules/owner";
import { stackSecrets } from "./stack-secrets";
import type { StepState } from "./step-state";
import { canonical } from "./step-state";

type AnyStep = {
    apply(h: RemoteHost, a: HostAccess, p: unknown, prev?: unknown): Promise<unknown>;
    paramsAfter?(p: unknown, r: unknown): unknown;
    read(h: RemoteHost, a: HostAccess, p: unknown, r: unknown): Promise<{ params: unknown; result: unknown }>;
    undo(h: RemoteHost, a: HostAccess, p: unknown, r: unknown): Promise<void>;
};

/** Whether the engine that started this provider process still answers on its address (argv[2] of the
 *  dynamic-provider process). The plugin runs in its own process group and outlives a killed `pulumi`. */
function engineAlive(): Promise<boolean> {
    const m = /^([\d.]+):(\d+)$/.exec(process.argv[2] ?? "");
    if (!m) return Promise.resolve(true);
    return new Promise((resolve) => {
        const socket = connect({ host: m[1], port: Number(m[2]) });
        socket.setTimeout(2000);
        socket.once("connect", () => (socket.destroy(), resolve(true)));
        socket.once("error", () => resolve(false));
        socket.once("timeout", () => (socket.destroy(), resolve(false)));
    });
}

const watch = { started: false };

/** Before every host command: refuse it, and end this process, once the engine is gone. */
async function requireEngine(): Promise<void> {
    if (!watch.started) {
        watch.started = true;
        // Between commands too: a provider left behind by a killed engine exits instead of lingering.
        setInterval(() => void engineAlive().then((alive) => alive || process.exit(70)), 1000).unref();
    }
    if (!(await engineAlive())) {
        setImmediate(() => process.exit(70));
        throw new Error("the pulumi engine that started this step is gone (killed?): no further host command runs");
    }
}

/** The way in with its secrets, read from the stack's config. */
async function hostAccess(access: StepAccess | HostAccess): Promise<HostAccess> {
    return "stack" in access ? withSecrets(access, await stackSecrets(access.stack)) : access;
}

/** What a step does with its host, given the way in with its secrets. */
type OnHost<T> = (host: RemoteHost, access: HostAccess) => Promise<T>;

/** Runs a step on the host of its role; the other hosts it reaches are connected on first use. */
function onHost<T>(state: StepState, access: HostAccess, fn: OnHost<T>, beforeCommand = requireEngine): Promise<T> {
    return HostSet.with(hostTargets(access), roleOfStep(state.kind, state.params), (host) => fn(host, access), { beforeCommand });
}

/** Reads what the host has for a step. */
async function readHost<T>(state: StepState, fn: OnHost<T>): Promise<T> {
    return onHost(state, await hostAccess(state.access), fn);
}

/** The newest claim this run gave (every step it declares carries it): a delete carries the claim of the run
 *  that made its step, and a later one (another name, a hand-over) is this run's. */
let runClaim: OwnerClaim | undefined;

/** Runs a change (create, update, delete) once this run holds every host of the closure (lib/host/lock.ts). */
async function change<T>(state: StepState, fn: OnHost<T>): Promise<T> {
    const access = await hostAccess(state.access);
    await claimHosts(hostTargets(access), runClaim ?? state.owner, requireEngine);
    return onHost(state, access, fn, async () => {
        await requireEngine();
        await requireLocks();
    });
}

/** Remembers the claim a create or update was given. */
function given(state: StepState): StepState {
    if (state.owner) runClaim = state.owner;
    return state;
}

export async function create(inputs: StepState): Promise<pulumi.dynamic.CreateResult> {
    const step = STEPS[inputs.kind] as AnyStep;
    const result = await change(given(inputs), (host, access) => step.apply(host, access, inputs.params));
    return { id: randomUUID(), outs: { ...inputs, params: step.paramsAfter?.(inputs.params, result) ?? inputs.params, result } };
}

export async function read(id: string, props: StepState): Promise<pulumi.dynamic.ReadResult> {
    const step = STEPS[props.kind] as AnyStep;
    const found = await readHost(props, (host, access) => step.read(host, access, props.params, props.result));
    return { id, props: { ...props, params: found.params, result: found.result } };
}

export async function update(olds: StepState, news: StepState): Promise<pulumi.dynamic.UpdateResult> {
    // Only the way in changed (a rotated key, a new address): record it, the host stays as it is.
    if (canonical(olds.params) === canonical(news.params)) return { outs: { ...news, result: olds.result } };
    const step = STEPS[news.kind] as AnyStep;
    const result = await change(given(news), (host, access) => step.apply(host, access, news.params, olds.result));
    return { outs: { ...news, params: step.paramsAfter?.(news.params, result) ?? news.params, result } };
}

export async function undo(props: StepState): Promise<void> {
    const step = STEPS[props.kind] as AnyStep;
    await change(props, (host, access) => step.undo(host, access, props.params, props.result));
}
