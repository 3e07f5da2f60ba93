// Whether an output's value is known yet: in a preview, the outputs of a resource the engine will create or
// update are not. `isKnown` and `promise()` are the runtime's (output.js), missing from its type declarations.
import type * as pulumi from "@pulumi/pulumi";

type RuntimeOutput<T> = { isKnown: Promise<boolean>; promise(): Promise<T> };

/** Whether `output`'s value is known. */
export function isKnown(output: pulumi.Output<unknown>): Promise<boolean> {
    return (output as unknown as RuntimeOutput<unknown>).isKnown;
}

/** An output's value, or undefined while it is unknown: in a preview, a resource not created yet. */
export async function knownValue<T>(output: pulumi.Output<T>): Promise<T | undefined> {
    return (await isKnown(output)) ? (output as unknown as RuntimeOutput<T>).promise() : undefined;
}
