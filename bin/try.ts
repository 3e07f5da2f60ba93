// `eval "$(npm run -s try -- [NAME])"`: a first try of the closure on a sandbox host, with nothing to copy
// by hand. Starts the sandbox NAME (or reuses it when it runs), creates its stack `sandbox-NAME` with every
// setting through `pulumi config set`, selects it, and prints the environment lines for this shell: the
// project's engine first on PATH, the sandboxes' file:// backend and passphrase. Then, in that shell:
//   pulumi preview            pulumi up            pulumi config set mastodon-closure:stage announced
// Progress and the next steps go to stderr; stdout carries only the `export` lines.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Sandbox, sandboxesRoot, startSandbox } from "../sandbox/client";
import { openSandboxStack, SandboxStack, sandboxEnv, NO_WAITS } from "./sandbox-stack";

async function main(): Promise<void> {
    const name = process.argv[2] ?? "try";
    const running = existsSync(join(sandboxesRoot(), name, "info.json"));
    if (!running) console.error(`starting sandbox ${name} (a Mastodon-like host in its own network namespace)...`);
    const sandbox = running ? Sandbox.attach(name) : await startSandbox({ name, sidekiqTickMs: 500 });
    // A stack made by an earlier try is selected as it is (its stage included); otherwise it is created.
    let stack = new SandboxStack(`sandbox-${name}`);
    if ((await stack.pulumi(["stack", "select"])).code !== 0) {
        stack = await openSandboxStack(sandbox.info, NO_WAITS);
        const select = await stack.pulumi(["stack", "select"]);
        if (select.code !== 0) throw new Error(select.output);
    }
    // Everything the tests' CLI runs get, plugin acquisition off included: otherwise, on a machine that cannot
    // reach get.pulumi.com, every preview first spends 2.5 s retrying the download of the Cloudflare plugin.
    for (const [key, value] of Object.entries(sandboxEnv())) console.log(`export ${key}='${value}'`);
    console.error(
        [
            `sandbox ${name}: ${sandbox.info.domain} at ${sandbox.info.address}, Mastodon ${sandbox.info.mastodonVersion}`,
            `stack ${stack.name} selected; its settings are in Pulumi.${stack.name}.yaml`,
            "next: pulumi preview, pulumi up, then move forward with pulumi config set mastodon-closure:stage announced",
            `look at the host: curl -k --resolve ${sandbox.info.domain}:443:${sandbox.info.address} https://${sandbox.info.domain}/users/alice`,
            `when done: pulumi stack rm --force --yes ${stack.name}; sandbox/sandbox stop ${name}`,
        ].join("\n"),
    );
}

main().catch((err) => {
    console.error(`try failed: ${(err as Error).message}`);
    process.exit(1);
});
