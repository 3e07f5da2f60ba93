// The vhost where hand-made servers have it (issue 20, items 1 and 2), walked to dormant and back with the
// real engine: a regular file in sites-enabled/, which `include sites-enabled/*` reads with anything beside
// it, and a symlink there to a file another user owns (an admin who linked Mastodon's dist/nginx.conf).
// After every up nginx -t is clean and /etc/nginx holds exactly the files it held before the closure (the
// kept original is in the closure's state directory); at the end the site is as found: the same regular file
// or the same symlink, and the file nginx reads with its owner, mode and bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Closure, converge, onHost, startClosure, stopClosure, waitFor } from "./support/e2e";

const ENABLED = "/etc/nginx/sites-enabled/mastodon";
const AVAILABLE = "/etc/nginx/sites-available/mastodon";
/** Where the closure keeps the server's own vhost (lib/host/records.ts: ORIGINAL_VHOST), spelled out so this file
 *  also runs against closure versions that kept it beside the site. */
const ORIGINAL_VHOST = "/var/lib/mastodon-closure/original-vhost";

/** Every path under /etc/nginx with its type and, for a link, its target: what the closure must not add to. */
const NGINX_FILES = "find /etc/nginx -printf '%p %y %l\\n' | sort";

/** What the site is: its type (a symlink's target), and the file nginx reads: owner, mode, sha256. */
const siteShape = (site: string) =>
    `if [ -L ${site} ]; then echo "symlink to $(readlink ${site})"; else echo "$(stat -c %F ${site})"; fi; stat -L -c '%U:%G %a' ${site}; sha256sum < ${site}`;

/** Walks a closure whose nginxSite is `site` to dormant and back to announced, checking nginx after each up. */
async function walk(c: Closure, site: string, checkClosed: () => Promise<void>): Promise<void> {
    const sh = (command: string) => onHost(c.sandbox, command);
    const filesFound = await sh(NGINX_FILES);
    const shapeFound = await sh(siteShape(site));
    const bytesFound = await sh(`cat ${site}`);
    const up = async (stage: string, extra: Record<string, string> = {}) => {
        await converge(c, { stage, ...extra });
        const t = await c.sandbox.exec("nginx -t 2>&1");
        assert.equal(t.code, 0, `${stage}: nginx -t fails after up:\n${t.stdout}${t.stderr}`);
        assert.equal(await sh(NGINX_FILES), filesFound, `${stage}: /etc/nginx holds other files than it did before the closure`);
        const shape = (await sh(siteShape(site))).split("\n").slice(0, 2);
        assert.deepEqual(shape, shapeFound.split("\n").slice(0, 2), `${stage}: the site is the same file (or link), its owner and mode as found`);
    };
    await c.s.set({ nginxSite: site });
    await up("operating");
    await up("announced");
    await up("closed");
    assert.equal(await sh(`cat ${ORIGINAL_VHOST}`), bytesFound, "the original is kept in the closure's state directory, byte for byte");
    await checkClosed();
    await up("self-destructing", { confirmSelfDestruct: "social.example" });
    await waitFor("every deletion notice sent", 120, async () =>
        (await c.sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes(
            "Every deletion notice has been sent",
        ),
    );
    await up("dormant");
    await up("self-destructing");
    await up("closed");
    await up("announced");
    assert.equal(await sh(`cat ${site}`), bytesFound, "the server's own vhost, byte for byte");
    assert.equal(await sh(siteShape(site)), shapeFound, "the site as found: type, owner, mode, bytes");
    assert.equal((await c.sandbox.exec(`test -e ${ORIGINAL_VHOST}`)).code, 1, "nothing kept once restored");
}

test("a vhost as a regular file in sites-enabled/: dormant and back, nginx -t clean, nothing of the closure's in /etc/nginx", async () => {
    let c: Closure | undefined;
    try {
        c = await startClosure({ accounts: 3 });
        // Laid out by hand, as on many servers: the vhost itself in sites-enabled/, an unusual mode.
        await onHost(c.sandbox, `rm ${ENABLED} && mv ${AVAILABLE} ${ENABLED} && chmod 640 ${ENABLED} && nginx -t 2>/dev/null && systemctl reload nginx`);
        await walk(c, ENABLED, async () => {
            assert.equal((await onHost(c!.sandbox, `stat -c '%F %U %a' ${ENABLED}`)).trim(), "regular file root 640");
        });
    } finally {
        await stopClosure(c);
    }
});

test("a symlinked vhost (sites-enabled/mastodon → Mastodon's dist/nginx.conf, owned by mastodon): dormant and back, still the same link, the file's owner and mode kept", async () => {
    let c: Closure | undefined;
    const target = "/home/mastodon/live/dist/nginx.conf";
    try {
        c = await startClosure({ accounts: 3 });
        await onHost(
            c.sandbox,
            `mkdir -p /home/mastodon/live/dist && cp ${AVAILABLE} ${target} && chown mastodon:mastodon ${target} && chmod 664 ${target} && ` +
                `rm ${ENABLED} ${AVAILABLE} && ln -s ${target} ${ENABLED} && nginx -t 2>/dev/null && systemctl reload nginx`,
        );
        await walk(c, ENABLED, async () => {
            // The file the link names holds the 410 vhost, still Mastodon's with its mode; no file took the link's place.
            assert.equal((await onHost(c!.sandbox, `readlink ${ENABLED}; stat -c '%U %a' ${target}`)).trim(), `${target}\nmastodon 664`);
            assert.match(await onHost(c!.sandbox, `head -c 200 ${target}`), /^# Managed by mastodon-closure/);
        });
    } finally {
        await stopClosure(c);
    }
});
