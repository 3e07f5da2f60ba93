// The operator's stack file, Pulumi.closing.yaml, through the README's steps with the real CLI (issue 20,
// item 8): `pulumi stack init closing` with a passphrase (which writes `encryptionsalt`), `pulumi config set
// --secret`, `pulumi config set`, later-stage settings edited in the file by hand (a setting written as a
// comment is uncommented where Pulumi left it), another `pulumi config set` after them. Pulumi rewrites the
// file at each command (yaml.v3: comments kept on the node they belong to, those after a mapping's last key
// moved after whatever follows it, new keys at the end of their mapping, keys it does not know dropped):
// every documented setting must still be inside `config:`, where Pulumi reads it, with the value the file
// gives. Nothing runs the program; about 20 seconds.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { load } from "js-yaml";
import { PROJECT_ROOT, runPulumi, sandboxEnv } from "../bin/sandbox-stack";
import { KEYS, OPTIONAL_SECRET_KEYS, SECRET_KEYS } from "../lib/rules/settings/keys";

const NS = "mastodon-closure";
const FILE = "Pulumi.closing.yaml";
const shipped = readFileSync(join(PROJECT_ROOT, FILE), "utf8");
const dir = mkdtempSync(join(tmpdir(), "stack-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "state"));
copyFileSync(join(PROJECT_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
copyFileSync(join(PROJECT_ROOT, FILE), join(dir, FILE));
const env = { ...sandboxEnv(), PULUMI_BACKEND_URL: `file://${join(dir, "state")}`, PULUMI_CONFIG_PASSPHRASE: "stack-file-test" };

const SECRETS: readonly string[] = [...SECRET_KEYS, ...OPTIONAL_SECRET_KEYS];
const PLAIN_KEYS = Object.keys(KEYS.shape).filter((k) => !SECRETS.includes(k));

/** What the shipped file documents: each key inside `config:` with its value, and each written as a comment
 *  (`# mastodon-closure:key: value`, to be uncommented) with the value it shows. */
function documented(text: string): Map<string, string> {
    const settings = new Map<string, string>();
    for (const m of commented(text)) settings.set(m[1], unquote(m[2]));
    const config = ((load(text) as { config?: Record<string, unknown> }).config ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(config)) if (k.startsWith(`${NS}:`) && typeof v === "string") settings.set(k.slice(NS.length + 1), v);
    return settings;
}

/** Settings written as comments, to be uncommented: `# mastodon-closure:key: value  # what it does`. */
const commented = (text: string) => text.matchAll(/^\s*#\s*mastodon-closure:(\w+):\s*("[^"]*"|[^#]*?)\s*(?:\s#.*)?$/gm);

const unquote = (v: string) => (v.startsWith('"') ? v.slice(1, -1) : v);

/** What an operator does in an editor, as the file says: the setting's line, uncommented if it is a comment,
 *  given `value`; its indentation (and so the mapping it is in) as Pulumi left it. */
function editByHand(key: string, value: string): void {
    const path = join(dir, FILE);
    const line = new RegExp(`^( *)(?:# ?)?${NS}:${key}:.*$`, "m");
    const text = readFileSync(path, "utf8");
    assert.match(text, line, `${key} is not in ${FILE} after the CLI rewrote it:\n${text}`);
    writeFileSync(path, text.replace(line, `$1${NS}:${key}: "${value}"`));
}

async function pulumi(args: string[], input?: string): Promise<string> {
    const r = await runPulumi([...args, "--non-interactive"], env, { cwd: dir, ...(input === undefined ? {} : { input }) });
    assert.equal(r.code, 0, `pulumi ${args.join(" ")}:\n${r.output}`);
    return r.output;
}

test("the shipped stack file documents every setting but the secrets inside config:", () => {
    const inConfig = Object.keys((load(shipped) as { config: Record<string, unknown> }).config);
    const missing = PLAIN_KEYS.filter((k) => !inConfig.includes(`${NS}:${k}`));
    assert.deepEqual(missing, [], `settings of lib/rules/settings/keys.ts that are not keys of config: in ${FILE}`);
    const secretsThere = SECRETS.filter((k) => inConfig.includes(`${NS}:${k}`));
    assert.deepEqual(secretsThere, [], "secrets are set with pulumi config set --secret, never written in the file");
});

test("pulumi stack init adds encryptionsalt after config: and changes nothing else", async () => {
    await pulumi(["stack", "init", "closing"]);
    const text = readFileSync(join(dir, FILE), "utf8");
    const salt = /^encryptionsalt: \S+$/m.exec(text);
    assert.ok(salt, `no encryptionsalt written:\n${text}`);
    assert.equal(text.trimEnd(), `${shipped.trimEnd()}\n${salt[0]}`, "the file is the shipped one with encryptionsalt appended");
});

test("after the README's steps (secrets, stage, settings edited by hand) Pulumi reads every documented setting, with its value", async () => {
    const privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nstack-file-test\n-----END OPENSSH PRIVATE KEY-----";
    // Step 2: the secrets, then the settings, by command and by hand; step 4: the stage moves on.
    await pulumi(["config", "set", "--secret", `${NS}:sshPrivateKey`], privateKey);
    await pulumi(["config", "set", "--secret", `${NS}:databasePassword`], "stack-file-password");
    await pulumi(["config", "set", `${NS}:stage`, "announced"]);
    // A file that documents settings as comments: each uncommented, with the value it shows.
    for (const m of commented(shipped)) editByHand(m[1], unquote(m[2]));
    const age = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    editByHand("dumpAgeRecipient", age);
    editByHand("confirmSelfDestruct", "social.example.org");
    // Pulumi rewrites the file after the hand edits: what it does not read, it drops.
    await pulumi(["config", "set", `${NS}:goneDays`, "21"]);

    const expected = new Map(documented(shipped));
    expected.set("stage", "announced");
    expected.set("dumpAgeRecipient", age);
    expected.set("confirmSelfDestruct", "social.example.org");
    expected.set("goneDays", "21");
    const read = JSON.parse(await pulumi(["config", "--json", "--show-secrets"])) as Record<string, { value?: string; secret: boolean }>;
    const wrong = [...expected]
        .filter(([k, v]) => read[`${NS}:${k}`]?.value !== v)
        .map(([k, v]) => `${k}: documented ${JSON.stringify(v)}, Pulumi reads ${JSON.stringify(read[`${NS}:${k}`]?.value ?? "nothing")}`);
    const file = readFileSync(join(dir, FILE), "utf8");
    assert.equal(wrong.length, 0, `settings Pulumi does not read as ${FILE} documents them:\n  ${wrong.join("\n  ")}\n\nthe file as the CLI left it:\n${file}`);
    assert.deepEqual(read[`${NS}:sshPrivateKey`], { value: privateKey, secret: true });
    assert.deepEqual(read[`${NS}:databasePassword`], { value: "stack-file-password", secret: true });
    const topLevel = Object.keys(load(file) as object).sort();
    assert.deepEqual(topLevel, ["config", "encryptionsalt"], "nothing outside config: but the salt");
});

test("pulumi config set changes only the value it sets: every comment stays where it was", () => {
    const text = readFileSync(join(dir, FILE), "utf8");
    const comments = (t: string) => t.split("\n").filter((l) => /^\s*#/.test(l));
    assert.deepEqual(comments(text), comments(shipped), "the file's comments, in order, with their indentation");
});
