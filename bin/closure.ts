// `npm run closure -- preview|up|refresh [--stack NAME] [--dir DIR] [--expect-no-changes]`
// The closure through the Automation API, for machines without Pulumi's Node.js language plugin.
// With a regular Pulumi install, `pulumi preview` / `pulumi up` in the project do the same.
import { parseArgs } from "node:util";
import { openStack } from "../lib/automation";

const USAGE = "usage: closure preview|up|refresh [--stack NAME (default closing)] [--dir DIR] [--expect-no-changes]";

async function main(): Promise<number> {
    const { positionals, values } = parseArgs({
        allowPositionals: true,
        options: { stack: { type: "string", default: "closing" }, dir: { type: "string" }, "expect-no-changes": { type: "boolean", default: false } },
    });
    const command = positionals[0];
    if (positionals.length !== 1 || !["preview", "up", "refresh"].includes(command)) {
        console.error(USAGE);
        return 2;
    }
    const stack = await openStack({ stackName: values.stack!, workDir: values.dir });
    const onOutput = (s: string) => process.stdout.write(s);
    const expectNoChanges = values["expect-no-changes"];
    if (command === "preview") await stack.preview({ onOutput, diff: true, expectNoChanges });
    else if (command === "up") await stack.up({ onOutput, diff: true, expectNoChanges });
    else await stack.refresh({ onOutput, expectNoChanges });
    return 0;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        // The CLI's own output (with the program's message) was already streamed.
        console.error(`closure: ${(err as Error).message.split("\n").find((l) => l.includes("error:")) ?? "failed"}`);
        process.exit(1);
    },
);
