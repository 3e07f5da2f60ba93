// A run killed at any point converges when run again. For every transition, forward and back, `pulumi up`
// is killed (kill -9 of the whole engine process tree: CLI, language host, program, dynamic provider) right
// after each host command in turn (the sandbox's sshd holds that command's session until the kill), then
// run again; the host must show what the stage wants, with nothing lost: the server's own vhost byte for
// byte, the dump intact, the services as they were found. Also: killing only `pulumi`'s process group, as
// ^C or a lost CI job does, leaves no provider behind to go on changing the host.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { ORIGINAL_VHOST } from "../lib/host/records";
import { Stage, STAGES } from "../lib/rules/stages";
import { Closure, converge, expectStatus, startClosure, status, stopClosure, waitFor } from "./support/e2e";

const SITE = "/etc/nginx/sites-available/mastodon";
const MASTODON = ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql"];
let c: Closure;
let originalVhost: string;
const tally = { tried: 0, converged: 0 };

before(async () => {
    c = await startClosure({ accounts: 3, settings: { requestArchives: "true" } });
    originalVhost = (await c.sandbox.exec(`cat ${SITE}`)).stdout;
});
after(async () => {
    console.log(`crash points: ${tally.tried} tried, ${tally.converged} converged`);
    await stopClosure(c);
});

/** Every process descending from `pid` (plugins run in their own process groups, so a group kill misses them). */
function descendants(pid: number): number[] {
    const parent = new Map<number, number>();
    for (const d of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
            const stat = readFileSync(`/proc/${d}/stat`, "utf8");
            parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        } catch {
            /* gone */
        }
    }
    const out: number[] = [];
    const walk = (p: number) => {
        for (const [child, ppid] of parent) if (ppid === p) (out.push(child), walk(child));
    };
    walk(pid);
    return out;
}

const kill = (pids: number[]) => pids.forEach((p) => { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } });

async function serviceStates(): Promise<string> {
    return (await c.sandbox.exec(MASTODON.map((u) => `echo ${u} $(systemctl is-active ${u}) $(systemctl is-enabled ${u})`).join("; "))).stdout.trim();
}

/** What each stage wants on the host, checked on the host. */
async function verify(stage: Stage): Promise<void> {
    const alice = await status(c.sandbox, "/users/alice");
    const services = await serviceStates();
    const site = (await c.sandbox.exec(`cat ${SITE}`)).stdout;
    if (stage === "operating" || stage === "announced") {
        assert.equal(site, originalVhost, `${stage}: the server's own vhost, byte for byte`);
        assert.equal(alice, 200, `${stage}: /users/alice answered ${alice}`);
    } else {
        assert.equal(alice, 410, `${stage}: /users/alice answered ${alice}`);
        assert.equal((await c.sandbox.exec(`cat ${ORIGINAL_VHOST}`)).stdout, originalVhost, `${stage}: the kept original, byte for byte`);
    }
    const stopped = stage === "dormant" || stage === "parked";
    assert.equal(services, MASTODON.map((u) => `${u} ${stopped ? "inactive disabled" : "active enabled"}`).join("\n"), `${stage}: services`);
    if (stage === "closed" || stage === "self-destructing") await expectStatus(c.sandbox, "/auth/sign_in", 200, { why: `${stage}: sign-in` });
    if (stopped) {
        const { databaseDump: dump } = await c.s.outputs();
        const sum = (await c.sandbox.exec(`sha256sum ${dump.path} | cut -d' ' -f1`)).stdout.trim();
        assert.equal(sum, dump.sha256, `${stage}: the dump matches its sha256`);
    }
    const journal = JSON.parse((await c.sandbox.exec("cat /var/lib/mastodon-closure/journal.json")).stdout || "{}");
    assert.equal(journal.stage ?? "operating", stage, `${stage}: the journal`);
}

/** up killed right after the k-th host command; false when the run has fewer commands than k. */
async function upKilledAfter(k: number): Promise<boolean> {
    await c.sandbox.armCrashPoint(k);
    let pid = 0;
    const run = c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"], { onSpawn: (p) => (pid = p) });
    let held = false;
    let done = false;
    void run.then(() => (done = true));
    await waitFor(`command ${k} held, or the up finished`, 180, async () => (held = (await c.sandbox.crashPoint()).held) || done);
    if (held) kill([pid, ...descendants(pid)]);
    await c.sandbox.disarmCrashPoint();
    const result = await run;
    // Not held: the whole run has fewer host commands than k, and it must have succeeded.
    if (!held) assert.equal(result.code, 0, `the run with no crash point left failed:\n${result.output.slice(-2000)}`);
    return held;
}

/** A plain `up` to `stage`, which must succeed. */
async function upTo(stage: Stage): Promise<void> {
    await c.s.set({ stage });
    const up = await c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
    assert.equal(up.code, 0, `up to ${stage} failed:\n${up.output.slice(-2000)}`);
}

/** After a killed run: what the operator is told to do (cancel the stale lock, then `up --refresh`), which
 *  must converge (a second preview finds nothing to change) and leave the host as `stage` wants it. With
 *  `plainUp`, an `up` without the refresh, as an operator who simply runs the same stage again. */
async function recover(stage: Stage, opts: { plainUp?: boolean } = {}): Promise<void> {
    const cancel = await c.s.pulumi(["cancel", "--yes", "--non-interactive"]);
    assert.ok(cancel.code === 0 || /no update in progress|not locked/i.test(cancel.output), cancel.output);
    await c.s.set({ stage });
    const up = await c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive", ...(opts.plainUp ? [] : ["--refresh"])]);
    assert.equal(up.code, 0, `up${opts.plainUp ? "" : " --refresh"} to ${stage} after the killed run failed:\n${up.output.slice(-2000)}`);
    const again = await c.s.pulumi(["preview", "--expect-no-changes", "--non-interactive"]);
    assert.equal(again.code, 0, `after the killed run, up did not converge to ${stage}:\n${again.output.slice(-3000)}`);
    await verify(stage);
}

/**
 * Every crash point of the move from `a` to `b` and of the move back, each followed by a run that must
 * converge. The two directions take turns (killed forward at k, recovered at `b`, killed back at k,
 * recovered at `a`), so each recovery is where the other direction starts.
 */
async function crashMatrix(a: Stage, b: Stage, settings: Record<string, string> = {}): Promise<void> {
    await converge(c, { stage: a, ...settings });
    let at = a;
    const moves = [
        { from: a, to: b, more: true },
        { from: b, to: a, more: true },
    ];
    for (let k = 1; moves.some((m) => m.more); k++) {
        for (const m of moves.filter((m) => m.more)) {
            if (at !== m.from) await upTo(m.from); // the other direction ran out of crash points
            await c.s.set({ stage: m.to });
            at = m.to;
            if (!(await upKilledAfter(k))) {
                m.more = false; // the whole run has fewer host commands than k, and it succeeded
                await verify(m.to);
                continue;
            }
            tally.tried++;
            // The same stage again: a plain up finishes what the killed run began.
            await recover(m.to, { plainUp: true });
            tally.converged++;
            console.log(`   ${m.from} → ${m.to}: killed after host command ${k}, converged`);
        }
    }
}

test("operating → announced and back", async () => {
    await verify("operating");
    await crashMatrix("operating", "announced");
});

test("announced → closed and back", async () => {
    await crashMatrix("announced", "closed");
});

test("closed → self-destructing (one-way) and back to closed", async () => {
    await crashMatrix("closed", "self-destructing", { confirmSelfDestruct: "social.example" });
    await converge(c, { stage: "self-destructing" });
    await waitFor("every deletion notice sent", 120, async () =>
        (await c.sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes("Every deletion notice has been sent"),
    );
});

test("self-destructing → dormant and back", async () => {
    await crashMatrix("self-destructing", "dormant");
});

test("dormant → parked and back", async () => {
    await crashMatrix("dormant", "parked");
});

/** Converges to `stage` from wherever the host's journal says the closure is: back in one move, forward
 *  one stage at a time (so that a test also runs alone). */
async function walkTo(stage: Stage): Promise<void> {
    const journal = JSON.parse((await c.sandbox.exec("cat /var/lib/mastodon-closure/journal.json")).stdout || "{}");
    const from = STAGES.indexOf(journal.stage ?? "operating");
    const to = STAGES.indexOf(stage);
    for (const s of to <= from ? [stage] : STAGES.slice(from + 1, to + 1)) await converge(c, { stage: s, confirmSelfDestruct: "social.example" });
}

test("killing only pulumi's process group (^C, a lost CI job) leaves no provider changing the host", async () => {
    await walkTo("self-destructing");
    // Hold the move to dormant right after its first stop (mastodon-web's), whatever its number: how many
    // commands come before it depends on what earlier runs left (a dump already made is not made again).
    // Then kill the CLI's process group only, as the issue did, and let that stop finish: the provider, in
    // a process group of its own, must run no further host command and exit.
    await c.s.set({ stage: "dormant" });
    await c.sandbox.armCrashPoint("systemctl disable --now");
    let pid = 0;
    const run = c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"], { onSpawn: (p) => (pid = p) });
    await waitFor("the first stop held", 180, async () => (await c.sandbox.crashPoint()).held);
    const { count: heldAt } = await c.sandbox.crashPoint();
    const stopped = ["mastodon-web inactive disabled", ...MASTODON.slice(1).map((u) => `${u} active enabled`)].join("\n");
    assert.equal(await serviceStates(), stopped, "the held command is the stop of mastodon-web alone");
    const providers = descendants(pid).filter((p) => {
        try {
            return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("dynamic-provider");
        } catch {
            return false;
        }
    });
    assert.ok(providers.length > 0, "no dynamic-provider process under the run");
    process.kill(-pid, "SIGKILL");
    await run;
    await c.sandbox.disarmCrashPoint();
    await waitFor("the dynamic provider left behind to exit", 15, async () =>
        providers.every((p) => {
            try {
                process.kill(p, 0);
                return false;
            } catch {
                return true;
            }
        }),
    );
    const { count } = await c.sandbox.crashPoint();
    assert.equal(count, heldAt, `host commands after the engine died: ${count - heldAt}`);
    assert.equal(await serviceStates(), stopped, "services after the engine died");
    // The next run understands the interrupted move: back to self-destructing starts mastodon-web again.
    await recover("self-destructing");
    await recover("dormant");
});
