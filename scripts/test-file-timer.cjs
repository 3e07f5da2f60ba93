// Preloaded (node --require) into every test file's process by scripts/test.js: when the file's process
// exits, its wall time (from the process's start) goes to $MC_TEST_TIMES/<n>.json for the closing table.
// Only in a test runner's child (NODE_TEST_CONTEXT); the runner itself and anything else it loads are left alone.
"use strict";
const dir = process.env.MC_TEST_TIMES;
if (dir && process.env.NODE_TEST_CONTEXT) {
    const { writeFileSync } = require("node:fs");
    const { join } = require("node:path");
    const { performance } = require("node:perf_hooks");
    const file = process.argv[1];
    process.on("exit", (code) => {
        try {
            const ms = Math.round(performance.now());
            writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ file, ms, code }));
        } catch {
            /* the table misses this file; the run itself is unaffected */
        }
    });
}
