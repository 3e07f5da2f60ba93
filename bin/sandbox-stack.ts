// A throwaway stack of the closure pointed at a sandbox host: its own work directory with Pulumi.yaml,
// a file:// backend inside it, and the settings a sandbox needs. Used by the demo, tests and benchmarks.
import { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openStack, PROJECT_ROOT } from "../lib/automation";
import type { SandboxInfo } from "../sandbox/client";

/** Only protects sandbox state; real stacks use the operator's own passphrase or secrets provider. */
export const SANDBOX_PASSPHRASE = "sandbox-only-passphrase";

export interface SandboxStack {
    stack: Stack;
    workDir: string;
    /** Environment for the `pulumi` and `closure` commands on this stack (backend, passphrase). */
    env: Record<string, string>;
    /** Set (or with undefined, remove) plain settings, then run what follows against them. */
    set(settings: Record<string, string | undefined>): Promise<void>;
}

export async function openSandboxStack(info: SandboxInfo, settings: Record<string, string> = {}): Promise<SandboxStack> {
    // Inside the project, so that the dynamic provider's plugin resolves @pulumi/pulumi, ssh2 and pg.
    mkdirSync(join(PROJECT_ROOT, ".state"), { recursive: true });
    const workDir = mkdtempSync(join(PROJECT_ROOT, ".state", `${info.name}-`));
    copyFileSync(join(PROJECT_ROOT, "Pulumi.yaml"), join(workDir, "Pulumi.yaml"));
    mkdirSync(join(workDir, "state"));
    const env = { PULUMI_BACKEND_URL: `file://${join(workDir, "state")}`, PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE };
    const stack = await openStack({ workDir, stackName: "closing", env });
    const today = new Date().toISOString().slice(0, 10);
    const config: ConfigMap = {
        "mastodon-closure:stage": { value: "operating" },
        "mastodon-closure:host": { value: info.address },
        "mastodon-closure:sshPort": { value: String(info.sshPort) },
        "mastodon-closure:sshUser": { value: info.sshUser },
        "mastodon-closure:sshHostKey": { value: info.hostKey },
        "mastodon-closure:sshPrivateKey": { value: readFileSync(info.sshPrivateKeyPath, "utf8"), secret: true },
        "mastodon-closure:domain": { value: info.domain },
        "mastodon-closure:databasePassword": { value: info.dbPassword, secret: true },
        "mastodon-closure:closingDate": { value: today },
        "mastodon-closure:successor": { value: "successor.example" },
    };
    for (const [k, v] of Object.entries(settings)) config[`mastodon-closure:${k}`] = { value: v };
    await stack.setAllConfig(config);
    return {
        stack,
        workDir,
        env,
        async set(values) {
            for (const [k, v] of Object.entries(values)) {
                if (v === undefined) await stack.removeConfig(`mastodon-closure:${k}`);
                else await stack.setConfig(`mastodon-closure:${k}`, { value: v });
            }
        },
    };
}
