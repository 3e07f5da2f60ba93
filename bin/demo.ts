// `npm run demo`: walks a fresh sandbox Mastodon host through all six stages of the closure with the
// `pulumi` CLI, the way an operator would, each command printed before it runs: set the stage, preview,
// up, then a preview that must find nothing to change, and a look at what the host answers. Where a gate
// does not hold yet, the preview's refusal is shown and the demo waits (as an operator would) until it holds.
import { parseArgs } from "node:util";
import { STAGES, Stage, stageIndex } from "../lib/rules/stages";
import { Sandbox, startSandbox } from "../sandbox/client";
import { CommandResult, openSandboxStack, SandboxStack, NO_WAITS } from "./sandbox-stack";

const PROBES = ["/users/alice", "/.well-known/webfinger?resource=acct:alice@social.example", "/api/v1/instance", "/auth/sign_in"];

async function statusTable(sandbox: Sandbox): Promise<string> {
    const cells = [];
    for (const path of PROBES) cells.push(`${path.split("?")[0]} ${(await sandbox.http(path)).status}`);
    const archive = await sandbox
        .sql<{ id: string; dump_file_name: string }>("SELECT id, dump_file_name FROM backups WHERE processed ORDER BY id LIMIT 1")
        .catch(() => []);
    if (archive[0]) {
        const id = String(archive[0].id)
            .padStart(9, "0")
            .replace(/(\d{3})(?=\d)/g, "$1/");
        cells.push(
            `/system/…/${archive[0].dump_file_name} ${(await sandbox.http(`/system/backups/dumps/${id}/original/${archive[0].dump_file_name}`)).status}`,
        );
    }
    return cells.join(" | ");
}

/** `pulumi ARGS` on the stack, printed as the operator types it, its output streamed. */
async function show(s: SandboxStack, args: string[], opts: { quiet?: boolean } = {}): Promise<CommandResult> {
    console.log(`$ pulumi ${args.join(" ")}`);
    return s.pulumi(args, { onOutput: opts.quiet ? undefined : (o) => process.stdout.write(o) });
}

/** Preview until the stage's gates hold, showing the refusal and waiting between tries. */
async function previewWhenReady(s: SandboxStack, stage: Stage, timeoutSec: number): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
        const r = await show(s, ["preview", "--diff"], { quiet: true });
        if (r.code === 0) {
            process.stdout.write(r.output);
            return;
        }
        const refusal = /cannot be entered yet[^]*?(?=\n\s*\n|$)/.exec(r.output)?.[0];
        if (!refusal || (Date.now() - started) / 1000 > timeoutSec) throw new Error(`preview failed:\n${r.output}`);
        if (attempt === 1) console.log(`preview refused "${stage}":\n${refusal}`);
        else console.log(`  waiting for the gate (${Math.round((Date.now() - started) / 1000)}s): ${refusal.split("\n").slice(1).join(" ").trim()}`);
        await new Promise((r) => setTimeout(r, 3000));
    }
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { keep: { type: "boolean", default: false }, accounts: { type: "string", default: "8" } } });
    console.log("== starting a sandbox Mastodon host");
    const sandbox = await startSandbox({ name: `demo${process.pid}`, accounts: Number(values.accounts), sidekiqTickMs: 500 });
    console.log(`   ${sandbox.info.domain} at ${sandbox.info.address}, Mastodon ${sandbox.info.mastodonVersion}`);
    let s: SandboxStack | undefined;
    try {
        s = await openSandboxStack(sandbox.info, { requestArchives: "true", ...NO_WAITS });
        console.log(`   stack ${s.name}: its settings in Pulumi.${s.name}.yaml, its state in ${s.env.PULUMI_BACKEND_URL}`);
        console.log(`   host answers: ${await statusTable(sandbox)}`);
        for (const stage of STAGES) {
            console.log(`\n== stage ${stage}`);
            const confirm = stageIndex(stage) >= stageIndex("self-destructing") ? ["mastodon-closure:confirmSelfDestruct", sandbox.info.domain] : undefined;
            await show(s, ["config", "set", "mastodon-closure:stage", stage]);
            if (confirm && stage === "self-destructing") await show(s, ["config", "set", ...confirm]);
            await previewWhenReady(s, stage, 240);
            const up = await show(s, ["up", "--yes", "--skip-preview"]);
            if (up.code !== 0) throw new Error("pulumi up failed");
            const second = await show(s, ["preview", "--expect-no-changes"], { quiet: true });
            if (second.code !== 0) throw new Error(`the second preview found changes:\n${second.output}`);
            console.log("-- second preview: no changes");
            console.log(`-- host answers: ${await statusTable(sandbox)}`);
            const active = await sandbox.exec(
                "for u in mastodon-web mastodon-streaming mastodon-sidekiq redis-server postgresql nginx; do printf '%s=%s ' $u $(systemctl is-active $u); done",
            );
            console.log(`-- services: ${active.stdout.trim()}`);
        }
        console.log("\n== all six stages done");
    } finally {
        if (values.keep) console.log(`sandbox and stack kept: sandbox/sandbox stop ${sandbox.info.name}; pulumi stack rm ${s?.name}`);
        else {
            await sandbox.stop();
            await s?.remove();
        }
    }
}

main().catch((err) => {
    console.error(`demo failed: ${(err as Error).message.slice(-3000)}`);
    process.exit(1);
});
