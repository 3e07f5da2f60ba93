// The provider instance every host step runs on: Pulumi's Node.js dynamic-provider plugin. Declared first
// thing in a run (index.ts), so that the engine starts the plugin (half a second of Node.js module loading)
// while the program loads and probes the host, instead of after it.
import * as pulumi from "@pulumi/pulumi";

class DynamicProvider extends pulumi.ProviderResource {
    constructor(name: string) {
        super("pulumi-nodejs", name, {});
    }
}

let provider: DynamicProvider | undefined;

export function hostStepProvider(): pulumi.ProviderResource {
    provider ??= new DynamicProvider("host-steps");
    return provider;
}
