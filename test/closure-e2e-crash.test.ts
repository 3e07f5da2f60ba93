// A run killed at any point converges when run again (test/support/crash-matrix.ts): every transition,
// forward and back, with `pulumi up` killed (kill -9 of the whole engine process tree) right after each host
// command in turn, then run again, the host checked after each. One file per part of the matrix, each with a
// sandbox of its own, so that they run side by side: this file the moves up to closed;
// closure-e2e-crash-self-destruct (closed ⇄ self-destructing), closure-e2e-crash-dormant (self-destructing ⇄
// dormant, and ^C) and closure-e2e-crash-parked (dormant ⇄ parked) the others.
import { test } from "node:test";
import { crashMatrixOfThisFile } from "./support/crash-matrix";

const matrix = crashMatrixOfThisFile();

test("operating → announced and back", async () => {
    const m = matrix();
    await m.verify("operating");
    await m.run("operating", "announced");
});

test("announced → closed and back", async () => {
    const m = matrix();
    await m.run("announced", "closed");
});
