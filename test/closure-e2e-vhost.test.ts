// The closed vhost on a Mastodon 4.7 host, whose dist/nginx.conf is the one rewritten in 4.5 (`^~` prefixes,
// `@mastodon`, proxy_read_timeout 120), with what admins add to it: a `www` server that redirects is kept as
// written; a server that serves more is refused at preview, saying what to do, and nothing changes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Closure, converge, expectStatus, hostSnapshot, postSignIn, refusedPreview, sessionOf, startClosure, stopClosure } from "./support/e2e";

const SITE = "/etc/nginx/sites-available/mastodon";
let c: Closure;
let own: string;

before(async () => {
    c = await startClosure({ accounts: 4, mastodonVersion: "4.7.0" });
    own = (await c.sandbox.exec(`cat ${SITE}`)).stdout;
});
after(() => stopClosure(c));

const server = (name: string, body: string) =>
    `\nserver {\n  listen 443 ssl;\n  server_name ${name};\n  ssl_certificate /etc/nginx/ssl/social.example.crt;\n  ssl_certificate_key /etc/nginx/ssl/social.example.key;\n${body}}\n`;

async function writeSite(text: string): Promise<void> {
    const r = await c.sandbox.exec(`cat > ${SITE} && nginx -t 2>&1 && systemctl reload nginx`, text);
    assert.equal(r.code, 0, `the admin's edit: ${r.stdout}${r.stderr}`);
}

test("the sandbox serves 4.7's own vhost (the 4.5 rewrite)", () => {
    for (const line of ["location ^~ /ocr/ {", "location @mastodon {", "proxy_read_timeout 120;"]) assert.ok(own.includes(line), `${line} not in:\n${own}`);
    assert.ok(!own.includes("/sw.js"), "no /sw.js location since 4.5");
});

test("a server block that serves more than a redirect is refused at preview with what to do; the host is untouched", async () => {
    await converge(c, { stage: "announced", closingDate: new Date(Date.now() + 86400_000).toISOString().slice(0, 10) });
    await writeSite(own + server("media.social.example", "  location / { proxy_pass http://backend; }\n"));
    const before = await hostSnapshot(c.sandbox);
    const out = await refusedPreview(c, { stage: "closed", closingDate: new Date().toISOString().slice(0, 10) });
    assert.match(out, /the server block on line \d+ of the nginx site does more than redirect \(proxy_pass on line \d+\)/, out.slice(-3000));
    assert.match(out, /Make it redirect \(return 301 https:\/\/social\.example\$request_uri;\), or move it to a file of its own/);
    assert.equal(await hostSnapshot(c.sandbox), before);
});

test("closed on 4.7: rendered from its vhost, a www redirect kept; sign-in lands on the export page; back restores the admin's vhost", async () => {
    const withWww = own + server("www.social.example", "  return 301 https://social.example$request_uri;\n");
    await writeSite(withWww);
    await converge(c, { stage: "closed" });
    const site = (await c.sandbox.exec(`cat ${SITE}`)).stdout;
    assert.ok(site.startsWith("# Managed by mastodon-closure"), site.slice(0, 200));
    assert.ok(site.includes("        proxy_read_timeout 120;\n"), "4.7's proxy_read_timeout kept for the exports");
    const www = await c.sandbox.http("/@alice", { headers: { Host: "www.social.example" } });
    assert.equal(www.status, 301, `www answered ${www.status}`);
    assert.equal(www.headers.location, "https://social.example/@alice");

    const home = await postSignIn(c.sandbox, "alice");
    assert.equal(home.headers.location, "https://social.example/settings/export", `sign-in answered ${home.status} to ${home.headers.location}`);
    const cookie = sessionOf(home);
    await expectStatus(c.sandbox, "/settings/export", 200, { cookie });
    await expectStatus(c.sandbox, "/settings/exports/custom_filters.json", 200, { cookie, why: "4.7's custom filters export is kept" });
    await expectStatus(c.sandbox, "/settings/preferences/appearance", 410, { cookie, why: "dropped" });
    await expectStatus(c.sandbox, "/users/alice", 410);

    await converge(c, { stage: "announced" });
    assert.equal((await c.sandbox.exec(`cat ${SITE}`)).stdout, withWww, "the admin's own vhost, byte for byte");
    await expectStatus(c.sandbox, "/users/alice", 200);
});
