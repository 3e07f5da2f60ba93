// Preview never reads a host file the closure has no business with, nor quotes one (issue 20, item 3): the
// pipeline posts preview output on pull requests, so whoever opens one would otherwise read root-only files
// of the server through nginxSite. One sandbox, previews only: a root-only file holds a marker; nginxSite
// pointed at it (outside /etc/nginx, or through `..`) is refused naming the setting before anything connects,
// and a file under /etc/nginx that is not a vhost is refused naming its line, never quoting it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { Closure, pulumi, startClosure, stopClosure } from "./support/e2e";

const MARKER = `closure-leak-marker-${randomBytes(12).toString("hex")}`;
/** Root-only, outside nginx's configuration (the sandbox's /home is its own). */
const SECRET = "/home/closure-secret";
/** Root-only, under /etc/nginx, not a vhost. */
const SECRET_IN_NGINX = "/etc/nginx/closure-secret";

let c: Closure;

before(async () => {
    c = await startClosure();
    // Its first line is the marker, as a password file's first line is its first secret.
    const r = await c.sandbox.exec(`umask 077; cat > ${SECRET} && cp -p ${SECRET} ${SECRET_IN_NGINX}`, `${MARKER}\nsecond-line ${MARKER}\n`);
    assert.equal(r.code, 0, r.stderr);
});
after(() => stopClosure(c));

/** A preview with nginxSite at `site`: refused, and its whole output (stdout and stderr) free of the marker. */
async function previewWith(site: string): Promise<string> {
    await c.s.set({ nginxSite: site });
    const r = await pulumi(c, "preview");
    // Never print the output of a failing check whole: on a leaky closure it holds the marker.
    assert.notEqual(r.code, 0, `the preview with nginxSite=${site} was not refused`);
    assert.ok(!r.output.includes(MARKER), `the preview with nginxSite=${site} quotes the root-only file`);
    return r.output;
}

test("nginxSite outside /etc/nginx, or going up with `..`, is refused naming the setting, before anything connects", async () => {
    for (const site of [SECRET, `/etc/nginx/../..${SECRET}`]) {
        const sessions = c.sandbox.sshSessions();
        const out = await previewWith(site);
        assert.ok(
            /nginxSite must be a file under \/etc\/nginx\//.test(out),
            `the preview with nginxSite=${site} is not refused naming nginxSite:\n${out.replaceAll(MARKER, "(marker)").slice(-1500)}`,
        );
        assert.equal(c.sandbox.sshSessions(), sessions, `the preview with nginxSite=${site} connected to the host`);
    }
});

test("a file under /etc/nginx that is not a vhost is refused naming its line, without quoting it", async () => {
    const out = await previewWith(SECRET_IN_NGINX);
    assert.match(out.replaceAll(MARKER, "(marker)"), new RegExp(`${SECRET_IN_NGINX}: the nginx site cannot be read \\(line 1:`));
});
