// Runs the closure program with the Automation API: the real `pulumi` CLI drives the engine, and the
// program runs in this process (Pulumi's inline-program language host), so no language plugin needs
// to be installed. The CLI is the project's engine (scripts/engine.sh) when present.
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ClosureError, closureProgram } from "./program";

export const PROJECT_ROOT = [resolve(__dirname, ".."), resolve(__dirname, "..", "..")].find((d) => existsSync(join(d, "Pulumi.yaml")))!;
const ENGINE_ROOT = join(PROJECT_ROOT, ".engine");

export interface OpenStackOptions {
    /** Directory with Pulumi.yaml and Pulumi.<stack>.yaml (default: the project). */
    workDir?: string;
    stackName: string;
    /** Extra environment for the CLI (backend URL, passphrase). */
    env?: Record<string, string>;
}

/**
 * The program's error reaches the engine (which prints it and fails the run), then resurfaces in this
 * process as unhandled rejections once Pulumi's inline host has stopped listening (pulumi/pulumi#6057).
 * Those late duplicates are ignored; any other unhandled rejection still ends the process.
 */
let lateDuplicatesIgnored = false;
function ignoreLateDuplicatesOfProgramErrors(): void {
    if (lateDuplicatesIgnored) return;
    lateDuplicatesIgnored = true;
    process.on("unhandledRejection", (reason) => {
        if (reason instanceof ClosureError) return;
        throw reason;
    });
}

export async function openStack(opts: OpenStackOptions): Promise<Stack> {
    ignoreLateDuplicatesOfProgramErrors();
    const engineBin = join(ENGINE_ROOT, "bin");
    const haveEngine = existsSync(join(engineBin, "pulumi"));
    const pulumiCommand = haveEngine ? await PulumiCommand.get({ root: ENGINE_ROOT }) : undefined;
    const envVars: Record<string, string> = {
        PULUMI_SKIP_UPDATE_CHECK: "true",
        ...(haveEngine ? { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true", PATH: `${engineBin}:${process.env.PATH}` } : {}),
        ...opts.env,
    };
    return LocalWorkspace.createOrSelectStack(
        { stackName: opts.stackName, projectName: "mastodon-closure", program: closureProgram },
        { workDir: opts.workDir ?? PROJECT_ROOT, pulumiCommand, envVars },
    );
}
