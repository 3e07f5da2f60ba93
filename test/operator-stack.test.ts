// The operator's stack file, Pulumi.closing.yaml, as committed: `pulumi stack init closing` and `pulumi
// preview` in a fresh copy of the project, as a new operator would run them before filling anything in.
// Every placeholder and missing secret is refused by name, at once, and nothing connects anywhere.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { PROJECT_ROOT, runPulumi, sandboxEnv } from "../bin/sandbox-stack";

mkdirSync(join(PROJECT_ROOT, ".state"), { recursive: true });
const copy = mkdtempSync(join(PROJECT_ROOT, ".state", "operator-"));
after(() => rmSync(copy, { recursive: true, force: true }));

test("the committed Pulumi.closing.yaml is refused until its placeholders and secrets are set", async () => {
    for (const f of ["Pulumi.yaml", "Pulumi.closing.yaml", "index.js", "program.ts", "package.json", "tsconfig.json", "lib", "components", "rails"]) {
        cpSync(join(PROJECT_ROOT, f), join(copy, f), { recursive: true });
    }
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(copy, "node_modules"));
    mkdirSync(join(copy, "state"));
    const env = { ...sandboxEnv(), PULUMI_BACKEND_URL: `file://${join(copy, "state")}` };
    const init = await runPulumi(["stack", "init", "closing", "--non-interactive"], env, { cwd: copy });
    assert.equal(init.code, 0, init.output);
    const preview = await runPulumi(["preview", "--stack", "closing", "--non-interactive"], env, { cwd: copy });
    assert.notEqual(preview.code, 0, `the placeholder stack was not refused:\n${preview.output}`);
    for (const expected of [
        /sshPrivateKey is required; set it with: pulumi config set --secret sshPrivateKey/,
        /databasePassword is required; set it with: pulumi config set --secret databasePassword/,
        /domain is still the example's placeholder "social\.example\.org"/,
        /sshHostKey is still the example's placeholder "ssh-ed25519 AAAA/,
        /host is still the example's placeholder "mastodon\.example\.org"/,
    ]) {
        assert.match(preview.output, expected);
    }
    // What a connection that was tried says (lib/host/connect-errors.ts): none was.
    assert.doesNotMatch(
        preview.output,
        /SSH to|presented a host key|PostgreSQL at|the db container|Unhandled exception|    at /,
        "refused before connecting, with no stack trace",
    );
});
