// Entry point for `pulumi preview` / `pulumi up` with a regular Pulumi install. The same program runs
// through the Automation API in bin/closure.ts, where no language plugin can be installed.
import { closureProgram } from "./lib/program";

export = closureProgram();
