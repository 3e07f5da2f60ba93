// The secrets a host step needs (the SSH key, the database password, the status token), read by the
// provider's own process from the stack's config, decrypted by the CLI as the operator's run decrypts it
// (`pulumi config --show-secrets`: the same secrets provider, passphrase or credentials, from the environment
// the engine passed on). They are never a step's input, output or state, so they never cross the engine,
// whose -v=9 log prints every property it is given in plain text, secret ones included (README: Secrets and
// logs). Read once per provider process, on the first host command, never written anywhere.
import { spawn } from "node:child_process";
import { HostSecrets } from "../host/access";
import { CONFIG_NAMESPACE } from "../rules/settings";

const read = new Map<string, Promise<HostSecrets>>();

/** The secrets in the config of `stack` (organization/project/stack), read once per process. */
export function stackSecrets(stack: string): Promise<HostSecrets> {
    let secrets = read.get(stack);
    if (!secrets) {
        secrets = readStackSecrets(stack);
        read.set(stack, secrets);
        // A failure is not kept: the next operation asks again.
        secrets.catch(() => read.delete(stack));
    }
    return secrets;
}

async function readStackSecrets(stack: string): Promise<HostSecrets> {
    const config = JSON.parse(await pulumiConfig(stack)) as Record<string, { value?: unknown } | undefined>;
    const value = (key: string) => {
        const v = config[`${CONFIG_NAMESPACE}:${key}`]?.value;
        return typeof v === "string" ? v : undefined;
    };
    const statusToken = value("statusToken");
    return { sshPrivateKey: value("sshPrivateKey") ?? "", databasePassword: value("databasePassword") ?? "", ...(statusToken ? { statusToken } : {}) };
}

/** `pulumi config --show-secrets --json` of the stack, in the project directory (the provider's). */
function pulumiConfig(stack: string): Promise<string> {
    const args = ["config", "--show-secrets", "--json", "--stack", stack];
    return new Promise((resolve, reject) => {
        // No stdin: a passphrase the CLI would prompt for is refused at once, not waited for.
        const child = spawn("pulumi", args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const failed = (why: string) =>
            new Error(
                `the host steps read sshPrivateKey, databasePassword and statusToken from the config of stack ${stack} themselves ` +
                    `(pulumi config --show-secrets), so that no secret passes through the engine, and that failed: ${why}. ` +
                    "The CLI must find the stack's secrets provider without a prompt: with a passphrase, export PULUMI_CONFIG_PASSPHRASE " +
                    "or PULUMI_CONFIG_PASSPHRASE_FILE before running pulumi",
            );
        child.on("error", (err) => reject(failed(`${err.message} (is pulumi on PATH?)`)));
        child.on("close", (code) => {
            if (code === 0) resolve(stdout);
            else reject(failed(`exit ${code}: ${stderr.trim().split("\n").slice(-3).join(" / ") || "(no message)"}`));
        });
    });
}
