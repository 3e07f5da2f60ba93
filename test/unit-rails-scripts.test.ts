// The Ruby scripts run with `bin/rails runner` (rails/*.rb): valid Ruby, a header documenting the JSON they
// read on stdin and print on stdout, and found by lib/host/rails-scripts.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { RAILS_SCRIPT_NAMES, RAILS_SCRIPTS, RailsScriptName } from "../lib/host/rails-scripts";
import { HostAccess } from "../lib/host/access";
import { tootctl } from "../lib/host/reads";
import { versionAtLeast } from "../lib/mastodon/version";
import type { ExecOptions, ExecResult, RemoteHost } from "../lib/host/ssh";

const RAILS_DIR = [path.join(__dirname, "..", "rails"), path.join(__dirname, "..", "..", "rails")].find((d) => fs.existsSync(path.join(d, "announce.rb")))!;
const NAMES: readonly RailsScriptName[] = RAILS_SCRIPT_NAMES;

/** The JSON keys each script reads and prints, as the TypeScript side uses them (lib/host/steps/). */
const CONTRACT: Record<RailsScriptName, { stdin: string[]; stdout: string[] }> = {
    "announce.rb": { stdin: ["text", "scheduled_at"], stdout: ["id"] },
    "withdraw_announcement.rb": { stdin: ["id"], stdout: ["deleted"] },
    "request_archives.rb": { stdin: ["recent_days"], stdout: ["requested", "skipped"] },
    "self_destruct_value.rb": { stdin: [], stdout: ["value", "enabled"] },
    "sidekiq_deliveries.rb": { stdin: [], stdout: ["delete", "move", "move_distributions"] },
    "distribute_announcement.rb": { stdin: ["id"], stdout: ["sent_at", "recipients", "sent_now"] },
};

describe("rails/*.rb", () => {
    test("the directory holds exactly the scripts the closure uses", () => {
        assert.ok(RAILS_DIR, "rails/ not found");
        assert.deepEqual(
            fs
                .readdirSync(RAILS_DIR)
                .filter((f) => f.endsWith(".rb"))
                .sort(),
            [...NAMES].sort(),
        );
    });

    for (const name of NAMES) {
        describe(name, () => {
            const file = path.join(RAILS_DIR, name);
            const body = fs.readFileSync(file, "utf8");
            const header = body
                .split("\n")
                .filter((l) => l.startsWith("#"))
                .join("\n");

            test("ruby -c passes", () => {
                const r = spawnSync("ruby", ["-c", file], { encoding: "utf8" });
                assert.equal(r.status, 0, r.stderr);
                assert.match(r.stdout, /Syntax OK/);
            });

            test("the header documents stdin and stdout JSON with the keys the TypeScript side uses", () => {
                const line = header.split("\n").find((l) => /stdin:.*stdout:/.test(l));
                assert.ok(line, `no "# stdin: ...; stdout: ..." line in ${name}`);
                const [stdinDoc, stdoutDoc] = line.split(/stdout:/);
                for (const k of CONTRACT[name].stdin) assert.ok(stdinDoc.includes(`"${k}"`), `stdin key ${k} undocumented`);
                for (const k of CONTRACT[name].stdout) assert.ok(stdoutDoc.includes(`"${k}"`), `stdout key ${k} undocumented`);
                if (CONTRACT[name].stdin.length === 0) assert.match(stdinDoc, /stdin: \{\}/);
            });

            test("reads its input from stdin and prints one JSON line; frozen string literals", () => {
                assert.ok(body.startsWith("# frozen_string_literal: true\n"));
                assert.match(body, /require 'json'/);
                if (CONTRACT[name].stdin.length > 0) assert.match(body, /JSON\.parse\(\$stdin\.read\)/);
                for (const k of CONTRACT[name].stdin) assert.ok(body.includes(`'${k}'`), `${name} does not read ${k}`);
                const puts = body.match(/^puts\(\{(.*)\}\.to_json\)$/m);
                assert.ok(puts, "no final puts({...}.to_json)");
                for (const k of CONTRACT[name].stdout) assert.match(puts[1], new RegExp(`\\b${k}:`), `${name} does not print ${k}`);
            });

            test("RAILS_SCRIPTS carries it byte for byte", () => {
                assert.equal(RAILS_SCRIPTS[name], body);
            });
        });
    }

    test("ruby -c catches a broken script (the check is real)", () => {
        const r = spawnSync("ruby", ["-c", "-e", "puts({ id: 1 }.to_json"], { encoding: "utf8" });
        assert.notEqual(r.status, 0);
    });

    test("request_archives.rb: only users who can sign in to download (confirmed, unsuspended, not a memorial)", () => {
        const body = RAILS_SCRIPTS["request_archives.rb"];
        assert.match(body, /User\.confirmed\.joins\(:account\)\.merge\(Account\.without_suspended\)\.where\(accounts: \{ memorial: false \}\)/);
    });

    test("distribute_announcement.rb: as the distributions controller, once, published only", () => {
        const body = RAILS_SCRIPTS["distribute_announcement.rb"];
        assert.match(body, /raise .* unless announcement\.published\?/);
        assert.match(body, /sent_now = !announcement\.notification_sent\?/);
        assert.match(
            body,
            /announcement\.touch\(:notification_sent_at\)\n\s+Admin::DistributeAnnouncementNotificationWorker\.perform_async\(announcement\.id\)/,
        );
    });

    test("announce.rb: a past scheduled_at publishes at once; the worker is enqueued either way", () => {
        const body = RAILS_SCRIPTS["announce.rb"];
        assert.match(body, /scheduled_at = nil if scheduled_at && scheduled_at <= Time\.now\.utc/);
        assert.match(
            body,
            /announcement\.publish!\n\s+PublishScheduledAnnouncementWorker\.perform_async\(announcement\.id\)/,
            "published before it can be e-mailed",
        );
        assert.match(body, /PublishScheduledAnnouncementWorker\.perform_at\(scheduled_at, announcement\.id\)/);
    });

    test("self_destruct_value.rb: the verifier Mastodon's SelfDestructHelper checks", () => {
        assert.match(RAILS_SCRIPTS["self_destruct_value.rb"], /message_verifier\('self-destruct'\)\.generate\(/);
    });
});

describe("host-step helpers around the scripts", () => {
    test("versionAtLeast compares major.minor numerically", () => {
        assert.equal(versionAtLeast("4.3.0", 4, 3), true);
        assert.equal(versionAtLeast("v4.3.2", 4, 3), true);
        assert.equal(versionAtLeast("4.3.0-beta.1", 4, 3), true);
        assert.equal(versionAtLeast("4.10.0", 4, 3), true);
        assert.equal(versionAtLeast("5.0.0", 4, 3), true);
        assert.equal(versionAtLeast("4.2.12", 4, 3), false);
        assert.equal(versionAtLeast("3.5.19", 4, 3), false);
        assert.equal(versionAtLeast("unknown", 4, 3), false);
        assert.equal(versionAtLeast("", 4, 3), false);
    });

    test("versionAtLeast compares the patch when asked (a missing patch is 0)", () => {
        const seen = ["4.3.6", "4.3.7", "v4.3.10", "4.3", "4.4.0", "5.0.0", "4.2.99"].map((v) => `${v}: ${versionAtLeast(v, 4, 3, 7)}`);
        assert.deepEqual(seen, ["4.3.6: false", "4.3.7: true", "v4.3.10: true", "4.3: false", "4.4.0: true", "5.0.0: true", "4.2.99: false"]);
    });

    describe("tootctl never waits on a prompt: stdin carries the answers and is closed, the run is time-limited", () => {
        // A host that runs each script here with bash, a stub runuser/getent, and a live dir whose
        // bin/tootctl is a shell script standing in for one behaviour.
        function stubHost(dir: string): RemoteHost {
            const run = (script: string, opts: ExecOptions) =>
                new Promise<ExecResult>((resolve, reject) => {
                    const p = require("node:child_process").spawn("bash", ["-c", script], { env: { PATH: `${dir}/bin:/usr/bin:/bin`, HOME: dir } });
                    let stdout = "";
                    let stderr = "";
                    p.stdout.on("data", (d: Buffer) => (stdout += d));
                    p.stderr.on("data", (d: Buffer) => (stderr += d));
                    p.on("close", (code: number) =>
                        code === 0 || opts.okCodes?.includes(code) ? resolve({ code, stdout, stderr }) : reject(new Error(`${opts.label} exit ${code}`)),
                    );
                    p.stdin.end(opts.stdin ?? "");
                });
            return { target: { host: "stub" }, run } as unknown as RemoteHost;
        }
        function withTootctl(body: string, fn: (host: RemoteHost, access: HostAccess) => Promise<void>): () => Promise<void> {
            return async () => {
                const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "closure-tootctl-"));
                try {
                    fs.mkdirSync(path.join(dir, "bin"));
                    fs.mkdirSync(path.join(dir, "live", "bin"), { recursive: true });
                    fs.writeFileSync(path.join(dir, "bin/getent"), `#!/bin/sh\necho "$2:x:991:991::${dir}:/bin/bash"\n`, { mode: 0o755 });
                    fs.writeFileSync(path.join(dir, "bin/runuser"), `#!/bin/sh\nshift 3; exec "$@"\n`, { mode: 0o755 });
                    fs.writeFileSync(path.join(dir, "live/bin/tootctl"), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
                    await fn(stubHost(dir), { deployment: { kind: "systemd", dir: path.join(dir, "live"), mastodonUser: "mastodon" } } as HostAccess);
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                }
            };
        }
        const PROMPTS = `printf 'Type in the domain of the server to confirm: '; read -r d || exit 1; printf 'Are you sure you want to proceed? (y/N) '; read -r y || exit 1; echo "confirmed $d $y"`;

        test(
            "the answers are read, then the input ends",
            withTootctl(PROMPTS, async (host, access) => {
                assert.match(await tootctl(host, access, "self-destruct", { answers: ["social.example", "y"] }), /confirmed social\.example y\n$/);
            }),
        );
        test(
            "a prompt with no answer left ends the command, and the error says so with the prompt",
            withTootctl(PROMPTS, async (host, access) => {
                await assert.rejects(tootctl(host, access, "self-destruct", { answers: ["social.example"] }), (e: Error) => {
                    assert.match(
                        e.message,
                        /^tootctl self-destruct failed on stub \(exit 1\); after the 1 answer\(s\) the closure gives, its input is closed, so a prompt it did not expect ends it: its last output: stdout: .*Are you sure you want to proceed\? \(y\/N\)$/,
                    );
                    return true;
                });
            }),
        );
        test(
            "a command that never ends is stopped at the time limit, and the error says so",
            withTootctl("echo working; exec sleep 600", async (host, access) => {
                const started = Date.now();
                await assert.rejects(tootctl(host, access, "self-destruct", { limitSeconds: 1 }), (e: Error) => {
                    assert.match(e.message, /^tootctl self-destruct did not finish within 1 s on stub and was stopped .*its last output: stdout: working$/);
                    return true;
                });
                assert.ok(Date.now() - started < 8000, `stopped after ${Date.now() - started} ms`);
            }),
        );
    });
});
