// A run killed at any point converges when run again (test/support/crash-matrix.ts): every transition,
// forward and back, with `pulumi up` killed (kill -9 of the whole engine process tree) right after each host
// command in turn, then run again, the host checked after each. This file: the transitions up to
// self-destruct; test/closure-e2e-crash-dormant.test.ts the ones from there on, in a sandbox of its own,
// beside this one.
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

test("closed → self-destructing (one-way) and back to closed", async () => {
    await m.run("closed", "self-destructing", { confirmSelfDestruct: "social.example" });
});
