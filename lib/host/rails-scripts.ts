// The Ruby scripts the closure runs with `bin/rails runner` live in rails/, as files, so they can be
// checked with `ruby -c`. Read once when the program loads (from the source or the compiled location); the
// host-step provider carries their text, so a step's inputs only name the script it runs.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const RAILS_SCRIPT_NAMES = [
    "announce.rb",
    "withdraw_announcement.rb",
    "request_archives.rb",
    "self_destruct_value.rb",
    "sidekiq_deliveries.rb",
    "distribute_announcement.rb",
] as const;
export type RailsScriptName = (typeof RAILS_SCRIPT_NAMES)[number];

const RAILS_DIR = [join(__dirname, "..", "..", "rails"), join(__dirname, "..", "..", "..", "rails")].find((d) => existsSync(join(d, "announce.rb")));
if (!RAILS_DIR) throw new Error(`the closure's rails/ scripts are missing next to ${__dirname}`);

export const RAILS_SCRIPTS = Object.fromEntries(RAILS_SCRIPT_NAMES.map((n) => [n, readFileSync(join(RAILS_DIR, n), "utf8")])) as Record<
    RailsScriptName,
    string
>;
