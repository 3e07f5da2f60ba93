// `npm run closure -- preview|up|refresh|cancel [--stack NAME] [--dir DIR] [--expect-no-changes]`
// The closure through the Automation API, for machines without Pulumi's Node.js language plugin.
// With a regular Pulumi install, `pulumi preview` / `pulumi up` in the project do the same.
import { parseArgs } from "node:util";
import { openStack } from "../lib/automation";

const USAGE = "usage: closure preview|up|refresh|cancel [--stack NAME (default closing)] [--dir DIR] [--expect-no-changes]";

async function main(): Promise<number> {
    const { positionals, values } = parseArgs({
        allowPositionals: true,
        options: { stack: { type: "string", default: "closing" }, dir: { type: "string" }, "expect-no-changes": { type: "boolean", default: false } },
    });
    const command = positionals[0];
    if (positionals.length !== 1 || !["preview", "up", "refresh", "cancel"].includes(command)) {
        console.error(USAGE);
        return 2;
    }
    const stack = await openStack({ stackName: values.stack!, workDir: values.dir });
    const onOutput = (s: string) => process.stdout.write(s);
    const expectNoChanges = values["expect-no-changes"];
    if (command === "preview") await stack.preview({ onOutput, diff: true, expectNoChanges });
    else if (command === "up") await stack.up({ onOutput, diff: true, expectNoChanges });
    else if (command === "refresh") await stack.refresh({ onOutput, expectNoChanges });
    // After an interrupted update: releases the stack's lock so that the next up can finish the job.
    else await stack.cancel();
    return 0;
}

/** The program's error diagnostics from the CLI's stderr, each with its indented detail lines. */
function programErrors(message: string): string {
    const stderr = message.split("\n stderr: ")[1]?.split("\n err?: ")[0] ?? message;
    const lines: string[] = [];
    let inError = false;
    for (const line of stderr.split("\n")) {
        if (/^error: /.test(line) && !/One or more errors occurred/.test(line)) {
            inError = true;
            lines.push(line.replace(/^error: (Unhandled exception: )?(ClosureError: )?/, "error: "));
        } else if (inError && /^\s+\S/.test(line)) lines.push(line);
        else inError = false;
    }
    return [...new Set(lines.length ? lines : ["error: the command failed"])].join("\n");
}

main().then(
    (code) => process.exit(code),
    (err) => {
        // The engine's progress was streamed; its errors come at the end, once each.
        console.error(programErrors((err as Error).message));
        process.exit(1);
    },
);
