// A run killed at any point converges when run again (test/support/crash-matrix.ts): dormant ⇄ parked, with
// `pulumi up` killed (kill -9 of the whole engine process tree) right after each host command in turn, then
// run again, the host checked after each; a fresh sandbox walks up to self-destructing first. The other parts
// of the matrix: closure-e2e-crash*.test.ts.
import { after, before, test } from "node:test";
import { CrashMatrix } from "./support/crash-matrix";

let m: CrashMatrix;
before(async () => {
    m = await CrashMatrix.start();
});
after(async () => {
    await m?.stop();
});

test("dormant → parked and back", async () => {
    await m.run("dormant", "parked");
});
