// The vhost step's files (issue 20, items 1 and 2), its scripts run by bash on this machine against a
// temporary tree: the state directory moved there, nginx, systemctl and curl stand-ins on PATH. Nothing of the
// closure's is written beside the site; a symlinked site stays a symlink, the file it names keeps its owner and
// mode; a kept original an earlier version left beside the site is moved into the state directory and restored.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
    chmodSync,
    chownSync,
    existsSync,
    lstatSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    readlinkSync,
    rmSync,
    statSync,
    symlinkSync,
    utimesSync,
    writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { STATE_DIR } from "../lib/host/records";
import { RemoteHost } from "../lib/host/ssh";
import { nginxSite, NginxSiteParams } from "../lib/host/steps/vhost";
import { HostAccess } from "../lib/host/access";

let root: string;
let state: string;
let enabled: string;
let bin: string;

/** A host whose commands run here, with the state directory in the temporary tree. */
function localHost(): RemoteHost {
    const run = async (script: string, opts: { stdin?: string; okCodes?: number[] }) => {
        const r = spawnSync("bash", ["-c", script.split(STATE_DIR).join(state)], {
            input: opts.stdin ?? "",
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        });
        const result = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
        if (result.code !== 0 && !opts.okCodes?.includes(result.code)) throw new Error(`exit ${result.code}: ${result.stderr}`);
        return result;
    };
    return { run, target: { host: "local" } } as unknown as RemoteHost;
}

const ORIGINAL = "upstream backend { server 127.0.0.1:3000; }\nserver { listen 443 ssl; server_name social.example; }\n";
const GONE = "# Managed by mastodon-closure (stage front mode: gone-everywhere).\nserver { return 410; }\n";
const params = (site: string): NginxSiteParams => ({ site, domain: "social.example", mode: "gone", content: GONE });
const access = {} as HostAccess;
const isRoot = process.getuid?.() === 0;

beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "vhost-files-"));
    state = join(root, "state");
    enabled = join(root, "sites-enabled");
    bin = join(root, "bin");
    mkdirSync(enabled);
    mkdirSync(bin);
    // nginx -t fails while the file `nginx-rejects` exists; curl answers 410 (the 410 vhost served).
    writeFileSync(join(bin, "nginx"), `#!/bin/sh\n[ -e ${root}/nginx-rejects ] && { echo 'duplicate upstream "backend"' >&2; exit 1; }\nexit 0\n`, {
        mode: 0o755,
    });
    writeFileSync(join(bin, "systemctl"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(bin, "curl"), "#!/bin/sh\nprintf 410\n", { mode: 0o755 });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A file owned by someone else than root (when the test runs as root), mode 664, mtime in the past. */
function othersFile(path: string, text: string): void {
    writeFileSync(path, text);
    chmodSync(path, 0o664);
    if (isRoot) chownSync(path, 65534, 65534);
    utimesSync(path, new Date("2024-01-02T03:04:05Z"), new Date("2024-01-02T03:04:05Z"));
}

test("a symlinked site: the link stays, the file it names gets the 410 vhost and keeps its owner and mode; back, its bytes and mtime", async () => {
    const target = join(root, "live-dist-nginx.conf");
    othersFile(target, ORIGINAL);
    const site = join(enabled, "mastodon");
    symlinkSync(target, site);
    const before = statSync(target);

    await nginxSite.apply(localHost(), access, params(site));
    assert.ok(lstatSync(site).isSymbolicLink(), "still a symlink");
    assert.equal(readlinkSync(site), target);
    assert.equal(readFileSync(target, "utf8"), GONE);
    const during = statSync(target);
    assert.deepEqual([during.uid, during.mode, during.ino], [before.uid, before.mode, before.ino], "the same file, its owner and mode");
    assert.deepEqual(readdirSync(enabled), ["mastodon"], "nothing beside the site");
    assert.equal(readFileSync(join(state, "original-vhost"), "utf8"), ORIGINAL);
    assert.equal(readFileSync(join(state, "original-vhost.site"), "utf8"), `${site}\n`);
    const sum = execFileSync("sha256sum", [join(state, "original-vhost")], { encoding: "utf8" }).split(" ")[0];
    assert.equal(readFileSync(join(state, "original-vhost.sha256"), "utf8").trim(), sum);
    if (isRoot) assert.equal(statSync(join(state, "original-vhost")).uid, 0, "the kept copy is root's, not the site owner's");

    await nginxSite.undo(localHost(), access, params(site), { reloaded: true });
    assert.equal(readlinkSync(site), target);
    assert.equal(readFileSync(target, "utf8"), ORIGINAL);
    const after = statSync(target);
    assert.deepEqual([after.uid, after.mode, after.ino, after.mtimeMs], [before.uid, before.mode, before.ino, before.mtimeMs]);
    assert.deepEqual(readdirSync(state).sort(), [], "nothing kept once restored");
});

test("nginx -t rejecting the 410 vhost: the site's bytes as before, nothing beside it, no previous copy left", async () => {
    const site = join(enabled, "mastodon");
    othersFile(site, ORIGINAL);
    writeFileSync(join(root, "nginx-rejects"), "");
    await assert.rejects(nginxSite.apply(localHost(), access, params(site)), /duplicate upstream[\s\S]*nginx -t rejected the closure vhost/);
    assert.equal(readFileSync(site, "utf8"), ORIGINAL);
    assert.deepEqual(readdirSync(enabled), ["mastodon"]);
    assert.ok(!existsSync(join(state, "previous-vhost")) && !existsSync(join(state, "new-vhost")));
});

test("an original kept beside the site by an earlier version: moved into the state directory and restored from there", async () => {
    const site = join(enabled, "mastodon");
    writeFileSync(site, GONE);
    othersFile(`${site}.closure-original`, ORIGINAL);
    writeFileSync(`${site}.closure-previous`, GONE);
    mkdirSync(state);
    const sum = execFileSync("sha256sum", [`${site}.closure-original`], { encoding: "utf8" }).split(" ")[0];
    writeFileSync(join(state, "original-vhost.sha256"), `${sum}\n`);

    await nginxSite.undo(localHost(), access, params(site), { reloaded: true });
    assert.equal(readFileSync(site, "utf8"), ORIGINAL);
    assert.deepEqual(readdirSync(enabled), ["mastodon"], "the earlier version's copies are gone from beside the site");
    assert.deepEqual(readdirSync(state), []);
});

test("an original kept from another site is never put back at this one", async () => {
    const site = join(enabled, "mastodon");
    writeFileSync(site, GONE);
    mkdirSync(state);
    writeFileSync(join(state, "original-vhost"), ORIGINAL);
    writeFileSync(join(state, "original-vhost.site"), "/etc/nginx/sites-available/other\n");
    await assert.rejects(
        nginxSite.undo(localHost(), access, params(site), { reloaded: true }),
        /is the vhost of \/etc\/nginx\/sites-available\/other, not of nginxSite/,
    );
    assert.equal(readFileSync(site, "utf8"), GONE);
});
