// A run killed at any point converges when run again (test/support/crash-matrix.ts): every transition,
// forward and back, with `pulumi up` killed (kill -9 of the whole engine process tree) right after each host
// command in turn, then run again, the host checked after each. One file per part of the matrix, each with a
// sandbox of its own, so that they run side by side: this file the moves up to closed;
// closure-e2e-crash-self-destruct (closed ⇄ self-destructing), closure-e2e-crash-dormant (self-destructing ⇄
// dormant, and ^C) and closure-e2e-crash-parked (dormant ⇄ parked) the others.
import { after, before, test } from "node:test";
import { CrashMatrix } from "./support/crash-matrix";

let m: CrashMatrix;
before(async () => {
    m = await CrashMatrix.start();
});
after(async () => {
    await m?.stop();
});

test("operating → announced and back", async () => {
    await m.verify("operating");
    await m.run("operating", "announced");
});

test("announced → closed and back", async () => {
    await m.run("announced", "closed");
});
