// The crash matrix (test/closure-e2e-crash-*.test.ts): a run killed at any point converges when run again.
// For a transition, forward and back, `pulumi up` is killed (kill -9 of the whole engine process tree: CLI,
// language host, program, dynamic provider) right after each host command in turn (the sandbox's sshd holds
// that command's session until the kill), then run again; the host must show what the stage wants, with
// nothing lost: the server's own vhost byte for byte, the dump intact, the services as they were found.
// Each test file (closure-e2e-crash*.test.ts, a part of the matrix each) has its own sandbox, so the files run
// side by side.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before } from "node:test";
import { Stage, STAGE_TABLE, STAGES } from "../../lib/rules/stages";
import { LEDGER_PATH } from "../../lib/host/ledger";
import { ORIGINAL_VHOST } from "../../lib/host/records";
import { Closure, converge, expectStatus, startClosure, status, stopClosure, waitFor } from "./e2e";

export const SITE = "/etc/nginx/sites-available/mastodon";
export const MASTODON = ["mastodon-web", "mastodon-streaming", "mastodon-sidekiq", "redis-server", "postgresql"];

/** Every process descending from `pid` (plugins run in their own process groups, so a group kill misses them). */
export function descendants(pid: number): number[] {
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

const kill = (pids: number[]) =>
    pids.forEach((p) => {
        try {
            process.kill(p, "SIGKILL");
        } catch {
            /* gone */
        }
    });

export class CrashMatrix {
    readonly tally = { tried: 0, converged: 0 };
    /** Seconds each phase of the current crash point took, printed with the point (where a point's time goes). */
    private phases: [string, number][] = [];

    private constructor(
        readonly c: Closure,
        readonly originalVhost: string,
    ) {}

    /** A sandbox with three accounts and archives requested at `closed`, and its stack at `operating`. */
    static async start(): Promise<CrashMatrix> {
        const c = await startClosure({ accounts: 3, settings: { requestArchives: "true" } });
        return new CrashMatrix(c, (await c.sandbox.exec(`cat ${SITE}`)).stdout);
    }

    /** Prints the tally ("crash points: N tried, N converged"), then stops the sandbox and removes the stack. */
    async stop(): Promise<void> {
        console.log(`crash points: ${this.tally.tried} tried, ${this.tally.converged} converged`);
        await stopClosure(this.c);
    }

    private async timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
        const start = Date.now();
        try {
            return await fn();
        } finally {
            this.phases.push([what, (Date.now() - start) / 1000]);
        }
    }

    async serviceStates(): Promise<string> {
        return (await this.c.sandbox.exec(MASTODON.map((u) => `echo ${u} $(systemctl is-active ${u}) $(systemctl is-enabled ${u})`).join("; "))).stdout.trim();
    }

    /** What each stage wants on the host, checked on the host. */
    async verify(stage: Stage): Promise<void> {
        const { c, originalVhost } = this;
        const alice = await status(c.sandbox, "/users/alice");
        const services = await this.serviceStates();
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
        assert.equal(await this.journalStage(), stage, `${stage}: the journal`);
        const ledger = (await c.sandbox.exec(`stat -c '%a %U' ${LEDGER_PATH} 2>/dev/null || echo none`)).stdout.trim();
        assert.equal(ledger, STAGE_TABLE[stage].ledger === "none" ? "none" : "600 root", `${stage}: the ledger of who has left`);
    }

    async journalStage(): Promise<Stage> {
        return JSON.parse((await this.c.sandbox.exec("cat /var/lib/mastodon-closure/journal.json")).stdout || "{}").stage ?? "operating";
    }

    /** up killed right after the k-th host command; false when the run has fewer commands than k. */
    private async upKilledAfter(k: number): Promise<boolean> {
        const { c } = this;
        await c.sandbox.armCrashPoint(k);
        let pid = 0;
        const started = Date.now();
        const run = c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"], { onSpawn: (p) => (pid = p) });
        let held = false;
        let done = false;
        void run.then(() => (done = true));
        let firstCommand = 0; // when the run's first host command was counted: the engine's, program's and provider's start
        await waitFor(
            `command ${k} held, or the up finished`,
            180,
            async () => {
                const point = await c.sandbox.crashPoint();
                if (!firstCommand && point.count > 0) firstCommand = Date.now();
                return (held = point.held) || done;
            },
            50,
        );
        if (held) kill([pid, ...descendants(pid)]);
        await c.sandbox.disarmCrashPoint();
        const result = await run;
        this.phases.push([held ? "killed up" : "whole up", (Date.now() - started) / 1000]);
        if (firstCommand) this.phases.push(["of which to the first host command", (firstCommand - started) / 1000]);
        // Not held: the whole run has fewer host commands than k, and it must have succeeded.
        if (!held) assert.equal(result.code, 0, `the run with no crash point left failed:\n${result.output.slice(-2000)}`);
        return held;
    }

    /** A plain `up` to `stage`, which must succeed. */
    private async upTo(stage: Stage): Promise<void> {
        await this.c.s.set({ stage });
        const up = await this.c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
        assert.equal(up.code, 0, `up to ${stage} failed:\n${up.output.slice(-2000)}`);
    }

    /** After a killed run: what the operator is told to do (cancel the stale lock, then `up --refresh`), which
     *  must converge (a second preview finds nothing to change) and leave the host as `stage` wants it. With
     *  `plainUp`, an `up` without the refresh, as an operator who simply runs the same stage again (the stack's
     *  stage is already `stage`: the killed run's). */
    async recover(stage: Stage, opts: { plainUp?: boolean } = {}): Promise<void> {
        const { c } = this;
        const cancel = await this.timed("cancel", () => c.s.pulumi(["cancel", "--yes", "--non-interactive"]));
        assert.ok(cancel.code === 0 || /no update in progress|not locked/i.test(cancel.output), cancel.output);
        if (!opts.plainUp) await this.timed("set", () => c.s.set({ stage }));
        const up = await this.timed("up", () => c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive", ...(opts.plainUp ? [] : ["--refresh"])]));
        assert.equal(up.code, 0, `up${opts.plainUp ? "" : " --refresh"} to ${stage} after the killed run failed:\n${up.output.slice(-2000)}`);
        const again = await this.timed("preview", () => c.s.pulumi(["preview", "--expect-no-changes", "--non-interactive"]));
        assert.equal(again.code, 0, `after the killed run, up did not converge to ${stage}:\n${again.output.slice(-3000)}`);
        await this.timed("verify", () => this.verify(stage));
    }

    /** Waits until `tootctl self-destruct` says every deletion notice has been sent: the gate of dormant. */
    async deletionNoticesSent(): Promise<void> {
        await waitFor("every deletion notice sent", 120, async () =>
            (await this.c.sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes(
                "Every deletion notice has been sent",
            ),
        );
    }

    /** Converges to `stage` from wherever the host's journal says the closure is: back in one move, forward
     *  one stage at a time (so that a test also runs alone, on a fresh host). */
    async walkTo(stage: Stage): Promise<void> {
        const from = STAGES.indexOf(await this.journalStage());
        const to = STAGES.indexOf(stage);
        for (const s of to <= from ? [stage] : STAGES.slice(from + 1, to + 1)) {
            if (s === "dormant" && from < STAGES.indexOf("dormant")) await this.deletionNoticesSent();
            await converge(this.c, { stage: s, confirmSelfDestruct: "social.example" });
        }
    }

    /**
     * Every crash point of the move from `a` to `b` and of the move back, each followed by a run that must
     * converge. The two directions take turns (killed forward at k, recovered at `b`, killed back at k,
     * recovered at `a`), so each recovery is where the other direction starts.
     */
    async run(a: Stage, b: Stage, settings: Record<string, string> = {}): Promise<void> {
        const { c } = this;
        // Each transition also runs alone (--test-name-pattern): a fresh host walks up to the stage before `a`.
        const before = STAGES[STAGES.indexOf(a) - 1];
        if (before && STAGES.indexOf(await this.journalStage()) < STAGES.indexOf(before)) await this.walkTo(before);
        await converge(c, { stage: a, ...settings });
        if (b === "dormant") await this.deletionNoticesSent();
        let at = a;
        const moves = [
            { from: a, to: b, more: true },
            { from: b, to: a, more: true },
        ];
        for (let k = 1; moves.some((m) => m.more); k++) {
            for (const m of moves.filter((m) => m.more)) {
                this.phases = [];
                const point = Date.now();
                if (at !== m.from) await this.timed("back to start", () => this.upTo(m.from)); // the other direction ran out of crash points
                await this.timed("set", () => c.s.set({ stage: m.to }));
                at = m.to;
                if (!(await this.upKilledAfter(k))) {
                    m.more = false; // the whole run has fewer host commands than k, and it succeeded
                    await this.verify(m.to);
                    continue;
                }
                this.tally.tried++;
                // The same stage again: a plain up finishes what the killed run began.
                await this.recover(m.to, { plainUp: true });
                this.tally.converged++;
                const phases = this.phases.map(([w, s]) => `${w} ${s.toFixed(1)}s`).join(", ");
                console.log(`   ${m.from} → ${m.to}: killed after host command ${k}, converged (${((Date.now() - point) / 1000).toFixed(1)}s: ${phases})`);
            }
        }
    }
}

/** The test file's matrix: a sandbox started before the file's tests, stopped (its tally printed) after them. */
export function crashMatrixOfThisFile(): () => CrashMatrix {
    let m: CrashMatrix | undefined;
    before(async () => {
        m = await CrashMatrix.start();
    });
    after(async () => {
        await m?.stop();
    });
    return () => m!;
}
