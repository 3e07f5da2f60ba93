// `npm run bench`: four benchmarks of the closure against the plain way of doing the same thing, each
// measured in this run on sandbox hosts, printed as ratios with the raw figures behind them. No
// thresholds: the figures are for reading. See bench/README.md.
import { parseArgs } from "node:util";
import { startSandbox, Sandbox, StartOptions } from "../sandbox/client";
import { archiveBench, ArchiveRun } from "./archives";
import { list, median, ratio, Row, secs, setRailsBootMs, timed, withProgress } from "./common";
import { dumpBench, padStatuses } from "./dump";
import { stackRuns } from "./stack-runs";

/** Simulated Rails boot in every measured run (the sandbox's default railsBootMs). */
const BOOT_MS = 300;
/** A labelled assumption, not a measurement: a Rails boot of a real Mastodon install. */
const ASSUMED_REAL_BOOT_MS = 5000;
const NAIVE_SAMPLE = 100;
const TRIALS = 3;
/** The dumps are the noisiest figures (pg_dump on two shared cores): more trials. */
const DUMP_TRIALS = 5;
/** Statuses added per local account before the dump benchmark (10,000 accounts → 300,000 statuses). */
const STATUSES_PER_ACCOUNT = 30;

async function withSandbox<T>(opts: StartOptions & { name: string }, fn: (s: Sandbox) => Promise<T>): Promise<T> {
    const started = await withProgress(`starting sandbox ${opts.name} (${opts.accounts} accounts)`, () => timed(() => startSandbox(opts)));
    const sandbox = started.value;
    console.log(`   sandbox ${sandbox.info.name} at ${sandbox.info.address}: ${opts.accounts} accounts, ready in ${secs(started.ms)}`);
    try {
        return await fn(sandbox);
    } finally {
        await sandbox.stop();
        console.log(`   sandbox ${sandbox.info.name} stopped`);
    }
}

/** Sidekiq off: it would work through every requested archive on the same two cores as the runs. */
async function quietSidekiq(sandbox: Sandbox): Promise<void> {
    await sandbox.exec("systemctl stop mastodon-sidekiq");
    await setRailsBootMs(sandbox, BOOT_MS);
}

function archiveRows(small: ArchiveRun, large: ArchiveRun): { rows: Row[]; notes: string[] } {
    const rows: Row[] = [];
    const notes: string[] = [];
    rows.push({
        benchmark: `2a. archive requests, ${small.accounts} accounts: Rails starts`,
        closure: `${small.closure.boots}`,
        baseline: `${small.naive.boots}`,
        ratio: `${ratio(small.naive.boots, small.closure.boots)} (naive ÷ closure)`,
        raw: `naive ran ${small.naive.accountsRun} tootctl calls; closure requested ${small.closure.requested}, skipped ${small.closure.skipped} (recent archive)`,
    });
    rows.push({
        benchmark: `2a. archive requests, ${small.accounts} accounts: wall time`,
        closure: secs(small.closure.ms),
        baseline: secs(small.naive.ms),
        ratio: `${ratio(small.naive.ms, small.closure.ms)} (naive ÷ closure)`,
        raw: `simulated boot ${small.bootMs} ms`,
    });
    const perCall = large.naive.ms / large.naive.accountsRun;
    const extrapolated = perCall * large.accounts;
    rows.push({
        benchmark: `2b. archive requests, ${large.accounts} accounts: Rails starts`,
        closure: `${large.closure.boots}`,
        baseline: `${large.accounts} (${large.naive.boots} measured on ${large.naive.accountsRun})`,
        ratio: `${ratio(large.accounts, large.closure.boots)} (naive ÷ closure)`,
        raw: `closure requested ${large.closure.requested}, skipped ${large.closure.skipped}; naive made ${large.naive.backupsCreated} backups for ${large.naive.accountsRun} accounts`,
    });
    rows.push({
        benchmark: `2b. archive requests, ${large.accounts} accounts: wall time (sim boot ${large.bootMs} ms)`,
        closure: secs(large.closure.ms),
        baseline: `~${secs(extrapolated)} (extrapolated)`,
        ratio: `~${ratio(extrapolated, large.closure.ms)} (naive ÷ closure)`,
        raw: `naive measured ${secs(large.naive.ms)} for ${large.naive.accountsRun} calls = ${perCall.toFixed(0)} ms/call, × ${large.accounts}`,
    });
    const realNaive = (perCall - large.bootMs + ASSUMED_REAL_BOOT_MS) * large.accounts;
    const realClosure = large.closure.ms - large.bootMs + ASSUMED_REAL_BOOT_MS;
    rows.push({
        benchmark: `2b. same, ASSUMING a ${ASSUMED_REAL_BOOT_MS / 1000} s real Rails boot`,
        closure: `~${secs(realClosure)}`,
        baseline: `~${(realNaive / 3_600_000).toFixed(1)} h`,
        ratio: `~${ratio(realNaive, realClosure)} (naive ÷ closure)`,
        raw: `assumption, not measured: each measured time − ${large.bootMs} ms sim boot + ${ASSUMED_REAL_BOOT_MS} ms per boot`,
    });
    notes.push(
        `2: naive per-call cost with a ${large.bootMs} ms simulated boot: ${perCall.toFixed(0)} ms (${(perCall - large.bootMs).toFixed(0)} ms of it is process start, DB connect and SSH-side shell work)`,
    );
    return { rows, notes };
}

function printTable(rows: Row[]): void {
    const cols: (keyof Row)[] = ["benchmark", "closure", "baseline", "ratio", "raw"];
    const head: Row = { benchmark: "benchmark", closure: "closure", baseline: "baseline", ratio: "ratio", raw: "raw figures" };
    const width = (c: keyof Row) => Math.max(...[head, ...rows].map((r) => r[c].length));
    const line = (r: Row) => cols.map((c) => (c === "raw" ? r[c] : r[c].padEnd(width(c)))).join(" | ");
    console.log(line(head));
    console.log(cols.map((c) => "-".repeat(c === "raw" ? 11 : width(c))).join("-|-"));
    for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
    // --only stack: benchmarks 1, 3, 5 and 6 alone (a few minutes; the 10,000-account ones take longer).
    const only = parseArgs({ options: { only: { type: "string" } } }).values.only;
    const t0 = Date.now();
    const rows: Row[] = [];
    const notes: string[] = [];
    console.log(`== mastodon-closure benchmarks (${new Date().toISOString()}, node ${process.version})`);

    console.log("\n== 1, 3, 5, 6: closure stack on a small sandbox, through the pulumi CLI");
    const runs = await withSandbox({ name: `bench1-${process.pid}`, accounts: 10, railsBootMs: BOOT_MS, sidekiqTickMs: 500 }, (sb) =>
        stackRuns(sb, { trials: TRIALS, ansible: true }),
    );
    const n = runs.noop;
    const noopMed = median(n.closureMs);
    const emptyMed = median(n.emptyMs);
    rows.push({
        benchmark: "1. no-op up --skip-preview: converged 'closed' vs empty program",
        closure: secs(noopMed),
        baseline: secs(emptyMed),
        ratio: `${ratio(noopMed, emptyMed)} (closure ÷ empty)`,
        raw: `alternating; closure ${list(n.closureMs)}; empty ${list(n.emptyMs)}; medians shown`,
    });
    notes.push(
        `1: each no-op up diffed ${n.resources} resources, booted Rails ${n.bootsPerUp.join("/")} time(s) and opened ${n.sshPerUp.join("/")} SSH session(s). ` +
            `Difference ${secs(noopMed - emptyMed)}. Parts timed alone: the probe ${secs(median(n.probeMs))} (of it SSH connect + one command ${secs(median(n.sshConnectMs))}); ` +
            `node + the program's modules ${secs(median(n.programLoadMs))}; the dynamic provider from its start to its port ${secs(median(n.providerStartMs))} ` +
            `(started by the engine while the program loads and probes)`,
    );
    const f = runs.first410;
    const scriptMed = median(f.scriptMs);
    const closureMed = median(f.closureMs);
    const emptyUpMed = median(f.emptyUpMs);
    rows.push({
        benchmark: "3. time to first 410 on /users/alice",
        closure: secs(closureMed),
        baseline: secs(scriptMed),
        ratio: `${ratio(closureMed, scriptMed)} (closure ÷ script)`,
        raw: `closure ${list(f.closureMs)} (up returned after ${list(f.closureUpMs)}); script ${list(f.scriptMs)}; ~50 ms polling, ${f.pollRequests} requests`,
    });
    rows.push({
        benchmark: "3. same, minus an empty program's up",
        closure: secs(closureMed - emptyUpMed),
        baseline: secs(scriptMed),
        ratio: `${ratio(closureMed - emptyUpMed, scriptMed)} (closure ÷ script)`,
        raw: `empty program's up ${list(f.emptyUpMs)} (median ${secs(emptyUpMed)})`,
    });
    const refusedUp = median(runs.refused.upMs);
    rows.push({
        benchmark: "5. refused stage (a skip) at up vs no-op up",
        closure: secs(refusedUp),
        baseline: secs(noopMed),
        ratio: `${ratio(refusedUp, noopMed)} (refused ÷ no-op)`,
        raw: `up ${list(runs.refused.upMs)}; preview ${list(runs.refused.previewMs)}; said: ${runs.refused.message}`,
    });
    if (runs.ansible) {
        const a = runs.ansible;
        rows.push({
            benchmark: "6. no-op check: closure up vs Ansible playbook",
            closure: secs(noopMed),
            baseline: secs(median(a.noopMs)),
            ratio: `${ratio(noopMed, median(a.noopMs))} (closure ÷ ansible)`,
            raw: `ansible-playbook ${list(a.noopMs)} (template + nginx -t + reload handler, over SSH with become)`,
        });
        rows.push({
            benchmark: "6. converge announced → closed: closure up vs Ansible playbook",
            closure: secs(median(a.closureConvergeMs)),
            baseline: secs(median(a.convergeMs)),
            ratio: `${ratio(median(a.closureConvergeMs), median(a.convergeMs))} (closure ÷ ansible)`,
            raw: `closure ${list(a.closureConvergeMs)} (vhost, archive requests, journal); ansible ${list(a.convergeMs)} (vhost only)`,
        });
    }
    if (only === "stack") return finish(rows, notes, t0);

    console.log(`\n== 2a: archive requests on a 10-account sandbox (simulated Rails boot ${BOOT_MS} ms)`);
    const small = await withSandbox({ name: `bench2-${process.pid}`, accounts: 10, railsBootMs: BOOT_MS }, async (sb) => {
        await quietSidekiq(sb);
        return archiveBench(sb, 10, BOOT_MS);
    });
    console.log(`   2a: closure ${secs(small.closure.ms)} with ${small.closure.boots} boot; naive ${secs(small.naive.ms)} with ${small.naive.boots} boots`);

    console.log(`\n== 2b + 4: 10,000-account sandbox: archive requests (naive loop on a sample of ${NAIVE_SAMPLE}), then the dump`);
    const { large, dump, statuses } = await withSandbox({ name: `bench3-${process.pid}`, accounts: 10000, railsBootMs: BOOT_MS }, async (sb) => {
        await quietSidekiq(sb);
        const large = await archiveBench(sb, 10000, BOOT_MS, NAIVE_SAMPLE);
        console.log(
            `   2b: closure ${secs(large.closure.ms)} with ${large.closure.boots} boot; naive ${secs(large.naive.ms)} with ${large.naive.boots} boots for ${large.naive.accountsRun} accounts`,
        );
        console.log(`\n== 4: verified dump vs plain pg_dump -Fc (${DUMP_TRIALS} trials each, alternating)`);
        const statuses = await withProgress("adding statuses", () => padStatuses(sb, STATUSES_PER_ACCOUNT));
        console.log(`   ${statuses} statuses in the database (${STATUSES_PER_ACCOUNT} per local account added for the dump)`);
        const dump = await withProgress("dump trials", () => dumpBench(sb, DUMP_TRIALS));
        return { large, dump, statuses };
    });
    const a = archiveRows(small, large);
    rows.push(...a.rows);
    notes.push(...a.notes);

    const closureDump = median(dump.closureMs);
    const plainDump = median(dump.plainMs);
    rows.push({
        benchmark: "4. verified dump vs pg_dump -Fc (10,000 accounts)",
        closure: secs(closureDump),
        baseline: secs(plainDump),
        ratio: `${ratio(closureDump, plainDump)} (closure ÷ plain)`,
        raw: `closure ${list(dump.closureMs)}; plain ${list(dump.plainMs)}; dump ${(dump.bytes / 1e6).toFixed(1)} MB, ${dump.tocEntries} TOC entries, database ${dump.dbSize} (${statuses} statuses, ~10,000 backups rows)`,
    });
    const p = dump.parts;
    const manifestMs = median(dump.manifestWriteMs);
    rows.push({
        benchmark: "4. same, from the parts timed on the host",
        closure: secs(p.pgDump + p.restoreList + p.sha256 + manifestMs),
        baseline: secs(p.pgDump),
        ratio: `${ratio(p.pgDump + p.restoreList + p.sha256 + manifestMs, p.pgDump)} (closure ÷ plain)`,
        raw: `pg_dump ${secs(p.pgDump)} + pg_restore --list ${secs(p.restoreList)} + sha256sum ${secs(p.sha256)} + manifest write over SSH ${secs(manifestMs)} (medians)`,
    });
    notes.push(
        `4: timed on the host: pg_dump ${secs(dump.parts.pgDump)}, pg_restore --list ${secs(dump.parts.restoreList)}, sha256sum ${secs(dump.parts.sha256)}; ` +
            `the manifest is a second SSH command: ${secs(median(dump.manifestWriteMs))}; the rest of the gap is SSH and shell round trips`,
    );

    finish(rows, notes, t0);
}

function finish(rows: Row[], notes: string[], t0: number): void {
    console.log(`\n== results (one run, ${new Date().toISOString()}, ${secs(Date.now() - t0)} in all)\n`);
    printTable(rows);
    console.log("");
    for (const note of notes) console.log(`note ${note}`);
}

main().catch((err) => {
    console.error(`bench failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
});
