// A run killed at any point converges when run again (test/support/crash-matrix.ts): self-destructing ⇄
// dormant, forward and back, with `pulumi up` killed (kill -9 of the whole engine process tree) right after
// each host command in turn, then run again, the host checked after each; a fresh sandbox walks up to
// self-destructing first. Also: killing only `pulumi`'s process group, as ^C or a lost CI job does, leaves no
// provider behind to go on changing the host. The other parts of the matrix: closure-e2e-crash*.test.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { waitFor } from "./support/e2e";
import { crashMatrixOfThisFile, descendants, MASTODON } from "./support/crash-matrix";

const matrix = crashMatrixOfThisFile();

test("self-destructing → dormant and back", async () => {
    const m = matrix();
    await m.run("self-destructing", "dormant");
});

test("killing only pulumi's process group (^C, a lost CI job) leaves no provider changing the host", async () => {
    const m = matrix();
    await m.walkTo("self-destructing");
    // Hold the move to dormant right after its first stop (mastodon-web's), whatever its number: how many
    // commands come before it depends on what earlier runs left (a dump already made is not made again).
    // Then kill the CLI's process group only, as the issue did, and let that stop finish: the provider, in
    // a process group of its own, must run no further host command and exit.
    await m.c.s.set({ stage: "dormant" });
    await m.c.sandbox.armCrashPoint("systemctl disable --now");
    let pid = 0;
    const run = m.c.s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"], { onSpawn: (p) => (pid = p) });
    await waitFor("the first stop held", 180, async () => (await m.c.sandbox.crashPoint()).held, 50);
    const { count: heldAt } = await m.c.sandbox.crashPoint();
    const stopped = ["mastodon-web inactive disabled", ...MASTODON.slice(1).map((u) => `${u} active enabled`)].join("\n");
    assert.equal(await m.serviceStates(), stopped, "the held command is the stop of mastodon-web alone");
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
    await m.c.sandbox.disarmCrashPoint();
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
    const { count } = await m.c.sandbox.crashPoint();
    assert.equal(count, heldAt, `host commands after the engine died: ${count - heldAt}`);
    assert.equal(await m.serviceStates(), stopped, "services after the engine died");
    // The next run understands the interrupted move: back to self-destructing starts mastodon-web again.
    await m.recover("self-destructing");
    await m.recover("dormant");
});
