// The Ruby scripts the closure runs with `bin/rails runner` live in rails/, as files, so they can be
// checked with `ruby -c`. Found from the compiled (dist/lib) or the source (lib) location.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RailsScript } from "./host-steps";

const RAILS_DIR = [join(__dirname, "..", "rails"), join(__dirname, "..", "..", "rails")].find((d) => existsSync(join(d, "announce.rb")));

export type RailsScriptName = "announce.rb" | "withdraw_announcement.rb" | "request_archives.rb" | "self_destruct_value.rb";

export function railsScript(name: RailsScriptName): RailsScript {
    if (!RAILS_DIR) throw new Error(`the closure's rails/ scripts are missing next to ${__dirname}`);
    return { name, body: readFileSync(join(RAILS_DIR, name), "utf8") };
}
