// `npm run demo`: walks a fresh sandbox Mastodon host through all six stages of the closure, the way an
// operator would: set the stage, preview, up, then a preview that must find nothing to change, and a
// look at what the host answers. Where a gate does not hold yet, the preview's refusal is shown and the
// demo waits (as an operator would) until it holds.
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { STAGES, Stage, stageIndex } from "../lib/stages";
import { Sandbox, startSandbox } from "../sandbox/client";
import { openSandboxStack, SandboxStack } from "./sandbox-stack";

const PROBES = ["/users/alice", "/.well-known/webfinger?resource=acct:alice@social.example", "/api/v1/instance", "/auth/sign_in"];

async function statusTable(sandbox: Sandbox): Promise<string> {
    const cells = [];
    for (const path of PROBES) cells.push(`${path.split("?")[0]} ${(await sandbox.http(path)).status}`);
    const archive = await sandbox.sql<{ id: string; dump_file_name: string }>(
        "SELECT id, dump_file_name FROM backups WHERE processed ORDER BY id LIMIT 1",
    ).catch(() => []);
    if (archive[0]) {
        const id = String(archive[0].id).padStart(9, "0").replace(/(\d{3})(?=\d)/g, "$1/");
        cells.push(`/system/…/${archive[0].dump_file_name} ${(await sandbox.http(`/system/backups/dumps/${id}/original/${archive[0].dump_file_name}`)).status}`);
    }
    return cells.join(" | ");
}

/** Preview until the stage's gates hold, showing the refusal and waiting between tries. */
async function previewWhenReady(s: SandboxStack, stage: Stage, timeoutSec: number): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
        let output = "";
        try {
            await s.stack.preview({ diff: true, onOutput: (o) => (output += o) });
            process.stdout.write(output);
            return;
        } catch (err) {
            const refusal = /cannot be entered yet[^]*?(?=\n\s*\n|$)/.exec(output + String(err))?.[0];
            if (!refusal || (Date.now() - started) / 1000 > timeoutSec) throw err;
            if (attempt === 1) console.log(`preview refused "${stage}":\n${refusal}`);
            else console.log(`  waiting for the gate (${Math.round((Date.now() - started) / 1000)}s): ${refusal.split("\n").slice(1).join(" ").trim()}`);
            await new Promise((r) => setTimeout(r, 3000));
        }
    }
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { keep: { type: "boolean", default: false }, accounts: { type: "string", default: "8" } } });
    console.log("== starting a sandbox Mastodon host");
    const sandbox = await startSandbox({ name: `demo${process.pid}`, accounts: Number(values.accounts), sidekiqTickMs: 500 });
    console.log(`   ${sandbox.info.domain} at ${sandbox.info.address}, Mastodon ${sandbox.info.mastodonVersion}`);
    let workDir: string | undefined;
    try {
        const s = await openSandboxStack(sandbox.info, { requestArchives: "true", downloadGraceDays: "0", goneDays: "0" });
        workDir = s.workDir;
        console.log(`   stack state in ${s.workDir}/state`);
        console.log(`   host answers: ${await statusTable(sandbox)}`);
        for (const stage of STAGES) {
            console.log(`\n== stage ${stage}`);
            await s.set({ stage, confirmSelfDestruct: stageIndex(stage) >= stageIndex("self-destructing") ? sandbox.info.domain : undefined });
            await previewWhenReady(s, stage, 240);
            const up = await s.stack.up({ onOutput: (o) => process.stdout.write(o) });
            const second = await s.stack.preview({ expectNoChanges: true });
            console.log(`-- up: ${JSON.stringify(up.summary.resourceChanges)}; second preview: ${JSON.stringify(second.changeSummary)}`);
            console.log(`-- host answers: ${await statusTable(sandbox)}`);
            const active = await sandbox.exec("for u in mastodon-web mastodon-streaming mastodon-sidekiq redis-server postgresql nginx; do printf '%s=%s ' $u $(systemctl is-active $u); done");
            console.log(`-- services: ${active.stdout.trim()}`);
        }
        console.log("\n== all six stages done");
    } finally {
        if (values.keep) console.log(`sandbox kept: sandbox/sandbox stop ${sandbox.info.name}`);
        else {
            await sandbox.stop();
            if (workDir) rmSync(workDir, { recursive: true, force: true });
        }
    }
}

main().catch((err) => {
    console.error(`demo failed: ${(err as Error).message.slice(-3000)}`);
    process.exit(1);
});
