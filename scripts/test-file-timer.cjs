// Preloaded (node --require) into every test file's process by scripts/test.js: when the file's process
// exits, its wall time (from the process's start), its CPU time with that of the processes it waited for (the
// CLI runs and everything under them; not the sandboxes' daemons, which are not its children), and its CLI runs
// by verb (bin/sandbox-stack.ts counts them) go to $MC_TEST_TIMES/<n>.json for the closing table.
// Only in a test runner's child (NODE_TEST_CONTEXT); the runner itself and anything else it loads are left alone.
"use strict";
const dir = process.env.MC_TEST_TIMES;
if (dir && process.env.NODE_TEST_CONTEXT) {
    const { readFileSync, writeFileSync } = require("node:fs");
    const { join } = require("node:path");
    const { performance } = require("node:perf_hooks");
    const file = process.argv[1];
    process.on("exit", (code) => {
        try {
            const ms = Math.round(performance.now());
            // /proc/self/stat fields 14-17: utime, stime, cutime, cstime, in clock ticks (100 a second).
            const stat = readFileSync("/proc/self/stat", "utf8");
            const ticks = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 15).map(Number);
            const cpuMs = ticks.reduce((a, b) => a + b, 0) * 10;
            const cli = globalThis[Symbol.for("mastodon-closure.cli-runs")] ?? {};
            writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ file, ms, cpuMs, cli, code }));
        } catch {
            /* the table misses this file; the run itself is unaffected */
        }
    });
}
