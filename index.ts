// The program `pulumi preview` / `pulumi up` run in this directory (TypeScript, run by Pulumi's Node.js
// language host). Exported as a function: the runtime calls it inside the stack and awaits it at once, so a
// refusal is reported once, with no late-handled rejection. The host-step provider is declared before the
// program's modules load, so that its plugin starts meanwhile.
import { hostStepProvider } from "./lib/provider/provider";

export = async () => {
    hostStepProvider();
    const { closureProgram } = await import("./program");
    return closureProgram();
};
