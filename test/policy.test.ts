// The guard rails run by the real engine (`--policy-pack policy/analyzer`, as the pipeline runs them): a
// program made to break them (test/fixtures/guard-rails-breaker) previews fine without them and is refused
// with them, each rule's message printed, at preview. The real closure passing them at every stage is
// test/pipeline.test.ts.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ENGINE_BIN, PROJECT_ROOT, runPulumi } from "../bin/sandbox-stack";

const program = join(PROJECT_ROOT, "test", "fixtures", "guard-rails-breaker");
mkdirSync(join(PROJECT_ROOT, ".state"), { recursive: true });
const state = mkdtempSync(join(PROJECT_ROOT, ".state", "policy-"));
const env = {
    PATH: `${ENGINE_BIN}:${process.env.PATH}`,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: "policy-test-only",
    PULUMI_SKIP_UPDATE_CHECK: "true",
};
const preview = (...args: string[]) => runPulumi(["preview", "--stack", "breaker", "--non-interactive", "--color", "never", ...args], env, { cwd: program });

before(async () => {
    const init = await runPulumi(["stack", "init", "breaker", "--non-interactive"], env, { cwd: program });
    assert.equal(init.code, 0, init.output);
});
after(async () => {
    await runPulumi(["stack", "rm", "breaker", "--yes", "--force", "--non-interactive"], env, { cwd: program });
    rmSync(state, { recursive: true, force: true });
});

test("without the guard rails the breaking program previews: what refuses it below is the policy pack", async () => {
    const r = await preview();
    assert.equal(r.code, 0, `the breaker's own preview failed:\n${r.output.slice(-3000)}`);
    for (const kind of ["StoppedServices", "StageJournal", "NginxSite"]) assert.match(r.output, new RegExp(`closure:${kind} \\S+ create`));
});

test("with the guard rails the preview is refused, every rule it breaks named with its message", async () => {
    const r = await preview("--policy-pack", join(PROJECT_ROOT, "policy", "analyzer"));
    assert.notEqual(r.code, 0, `the guard rails let the breaker through:\n${r.output.slice(-3000)}`);
    for (const expected of [
        /\[mandatory\]\s+stages-in-order[^\n]*\n[^\n]*\n\s+stage: stage "dormant" skips "self-destructing": the host is at "closed"; set stage to "self-destructing" first/,
        /\[mandatory\]\s+verified-dump-before-services-stop[^\n]*stopped-without-dump[^\n]*\n[^\n]*\n\s+stops mastodon-web, postgresql without a database dump/,
        /\[mandatory\]\s+no-plain-text-secrets[^\n]*vhost[^\n]*\n[^\n]*\n\s+access\.ssh\.privateKey is a host step's input, which the engine logs at -v=9/,
        /\[mandatory\]\s+no-plain-text-secrets[^\n]*vhost[^\n]*\n[^\n]*\n\s+access\.database\.password is a host step's input/,
        /\[mandatory\]\s+no-plain-text-secrets[^\n]*vhost[^\n]*\n[^\n]*\n\s+params\.note holds a private key in plain text; make it a Pulumi secret/,
        /\[mandatory\]\s+no-plain-text-secrets[^\n]*vhost[^\n]*\n[^\n]*\n\s+access\.ssh\.privateKey holds a private key in plain text/,
    ]) {
        assert.match(r.output, expected);
    }
    assert.doesNotMatch(r.output, /b3BlbnNzaC1rZXktdjEAAAAA|not-a-secret/, "a violation never prints the secret it found");
    assert.doesNotMatch(r.output, /can't run policy/, "every rule ran (none gave up over a value unknown in preview)");
});
