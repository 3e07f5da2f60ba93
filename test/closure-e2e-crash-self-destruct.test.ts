// A run killed at any point converges when run again (test/support/crash-matrix.ts): closed ⇄
// self-destructing, the one-way move and the way back to closed, with `pulumi up` killed (kill -9 of the whole
// engine process tree) right after each host command in turn, then run again, the host checked after each; a
// fresh sandbox walks up to announced first. The other parts of the matrix: closure-e2e-crash*.test.ts.
import { test } from "node:test";
import { crashMatrixOfThisFile } from "./support/crash-matrix";

const matrix = crashMatrixOfThisFile();

test("closed → self-destructing (one-way) and back to closed", async () => {
    const m = matrix();
    await m.run("closed", "self-destructing", { confirmSelfDestruct: "social.example" });
});
