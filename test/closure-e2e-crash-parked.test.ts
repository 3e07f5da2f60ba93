// A run killed at any point converges when run again (test/support/crash-matrix.ts): dormant ⇄ parked, with
// `pulumi up` killed (kill -9 of the whole engine process tree) right after each host command in turn, then
// run again, the host checked after each; a fresh sandbox walks up to self-destructing first. The other parts
// of the matrix: closure-e2e-crash*.test.ts.
import { test } from "node:test";
import { crashMatrixOfThisFile } from "./support/crash-matrix";

const matrix = crashMatrixOfThisFile();

test("dormant → parked and back", async () => {
    const m = matrix();
    await m.run("dormant", "parked");
});
