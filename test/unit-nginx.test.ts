// Unit tests of lib/gone/original-vhost.ts and lib/gone/nginx.ts: reading the server's own vhost (each release's dist/nginx.conf as the sandbox
// installs it, certbot's edits, a www redirect, shapes refused), rendering the 410 vhosts, and checking the
// rendered files with the real nginx: `nginx -t`, then a running nginx answering real requests, against the
// gone contract (lib/gone/contract.ts) and what stays open while users take their data.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { EXPORT_PATH, KEPT_FILE_DIRS, KEPT_ROUTES, keptWhileClosed, SIGN_IN_PATH } from "../lib/gone/contract";
import { goneForGoodPage, closedPage, GonePage } from "../lib/gone/page";
import { renderVhost } from "../lib/gone/nginx";
import { parseOriginalVhost, OriginalVhost } from "../lib/gone/original-vhost";
import { assertContract, contractCases, request as contractRequest } from "./support/gone-contract";

const DOMAIN = "social.example";
const RELEASES = ["4.2", "4.3", "4.5"] as const;
type Release = (typeof RELEASES)[number];
const SANDBOX_HOST = path.resolve(__dirname, "..", "..", "sandbox", "host");

interface Place {
    httpPort?: number;
    httpsPort?: number;
    backend?: string;
    cert?: string;
    key?: string;
    root?: string;
    cache?: string;
}

/** The vhost the sandbox installs for a release (its dist/nginx.conf), moved to loopback ports and paths. */
function releaseVhost(release: Release, o: Place = {}): string {
    let v = fs.readFileSync(path.join(SANDBOX_HOST, `nginx-mastodon-${release}.conf`), "utf8").replace(/@DOMAIN@/g, DOMAIN);
    if (o.httpPort) v = v.replace("  listen 80;\n  listen [::]:80;", `  listen 127.0.0.1:${o.httpPort};`);
    if (o.httpsPort) v = v.replace("  listen 443 ssl http2;\n  listen [::]:443 ssl http2;", `  listen 127.0.0.1:${o.httpsPort} ssl http2;`);
    if (o.backend) v = v.replace("server 127.0.0.1:3000 fail_timeout=0;", `server ${o.backend} fail_timeout=0;`);
    if (o.cert) v = v.replace(`/etc/nginx/ssl/${DOMAIN}.crt`, o.cert);
    if (o.key) v = v.replace(`/etc/nginx/ssl/${DOMAIN}.key`, o.key);
    if (o.root) v = v.replace(/\/home\/mastodon\/live\/public/g, o.root);
    if (o.cache) v = v.replace("/var/lib/nginx/cache", o.cache);
    return v;
}

/** 4.5's vhost after `certbot --nginx`: certbot's port-80 server, its marks, and its TLS options include
 *  (the server's own TLS lines removed, as certbot's options file sets them). */
function certbotVhost(o: Place & { options: string }): string {
    const v = releaseVhost("4.5", o)
        .replace(/^ {2}ssl_(protocols|ciphers|prefer_server_ciphers|session_cache|session_tickets) .*\n/gm, "")
        .replace(/^( {2}ssl_certificate(_key)? +[^;]+;)$/gm, "$1 # managed by Certbot")
        .replace(/^( {2}ssl_certificate_key .*)$/m, `$1\n  include ${o.options}; # managed by Certbot`)
        .replace(/^server \{\n( {2}listen [^;]+;\n)+ {2}server_name [^;]+;\n[\s\S]*?\n\}\n/m, (block) => {
            const listens = block.match(/^ {2}listen [^;]+;$/gm)!.join("\n");
            return `server {\n    if ($host = ${DOMAIN}) {\n        return 301 https://$host$request_uri;\n    } # managed by Certbot\n\n\n${listens}\n  server_name ${DOMAIN};\n    return 404; # managed by Certbot\n\n\n}\n`;
        });
    assert.match(v, /return 404; # managed by Certbot/, "the fixture has certbot's port-80 server");
    return v;
}

/** A vhost with a `www` server on 443 that redirects to the domain (its own certificate lines). */
function wwwVhost(o: Place): string {
    return (
        releaseVhost("4.3", o) +
        `\nserver {\n  listen 127.0.0.1:${o.httpsPort ?? 443} ssl;\n  server_name www.${DOMAIN};\n  ssl_certificate ${o.cert};\n  ssl_certificate_key ${o.key};\n  return 301 https://${DOMAIN}$request_uri;\n}\n`
    );
}

const PAGE: GonePage = { domain: DOMAIN, closingDate: "2026-06-01", successor: "https://next.example", downloadsUntil: "2026-06-08" };

describe("parseOriginalVhost", () => {
    test("each release's vhost: listen lines, names, certificate, TLS lines, root, backend, HSTS, proxy_read_timeout", () => {
        for (const release of RELEASES) {
            const o = parseOriginalVhost(releaseVhost(release), DOMAIN);
            assert.deepEqual(o.httpListen, ["80", "[::]:80"], release);
            assert.deepEqual(o.httpsListen, ["443 ssl http2", "[::]:443 ssl http2"], release);
            assert.deepEqual(o.serverNames, [DOMAIN], release);
            assert.equal(o.sslCertificate, `/etc/nginx/ssl/${DOMAIN}.crt`, release);
            assert.equal(o.sslCertificateKey, `/etc/nginx/ssl/${DOMAIN}.key`, release);
            assert.ok(o.tls.includes("ssl_protocols TLSv1.2 TLSv1.3;") && o.tls.includes("ssl_session_tickets off;"), `${release}: ${o.tls.join(" ")}`);
            assert.equal(o.root, "/home/mastodon/live/public", release);
            assert.equal(o.backend, "127.0.0.1:3000", release);
            assert.equal(o.hsts, '"max-age=63072000; includeSubDomains"', release);
            assert.equal(o.proxyReadTimeout, release === "4.5" ? "120" : undefined, release);
            assert.deepEqual(o.redirectServers, [], release);
        }
    });

    test("certbot's edits: the marks are comments, its options include is kept, its port-80 server gives the listen lines", () => {
        const o = parseOriginalVhost(certbotVhost({ options: "/etc/letsencrypt/options-ssl-nginx.conf" }), DOMAIN);
        assert.deepEqual(o.httpListen, ["80", "[::]:80"]);
        assert.equal(o.sslCertificate, `/etc/nginx/ssl/${DOMAIN}.crt`);
        assert.ok(o.tls.includes("include /etc/letsencrypt/options-ssl-nginx.conf;"), o.tls.join("\n"));
    });

    test("a www server that only redirects is kept as written; several names of the TLS server are kept", () => {
        const o = parseOriginalVhost(wwwVhost({ httpsPort: 443, cert: "/c.pem", key: "/k.pem" }), DOMAIN);
        assert.equal(o.redirectServers.length, 1);
        assert.match(
            o.redirectServers[0],
            /^server \{\n {2}listen 127\.0\.0\.1:443 ssl;\n {2}server_name www\.social\.example;[\s\S]*return 301 https:\/\/social\.example\$request_uri;\n\}$/,
        );
        const both = parseOriginalVhost(
            releaseVhost("4.5").replace(`server_name ${DOMAIN};\n\n  ssl_protocols`, `server_name ${DOMAIN} www.${DOMAIN};\n\n  ssl_protocols`),
            DOMAIN,
        );
        assert.deepEqual(both.serverNames, [DOMAIN, `www.${DOMAIN}`]);
    });

    test("one server block listening on both ports (certbot on a single-block site): TLS and plain listens split", () => {
        const single = `upstream backend {\n    server 127.0.0.1:3000;\n}\nserver {\n    server_name ${DOMAIN};\n    root /srv/live/public;\n    location / { proxy_pass http://backend; }\n\n    listen 443 ssl; # managed by Certbot\n    listen 80;\n    ssl_certificate /etc/letsencrypt/live/${DOMAIN}/fullchain.pem; # managed by Certbot\n    ssl_certificate_key /etc/letsencrypt/live/${DOMAIN}/privkey.pem; # managed by Certbot\n}\n`;
        const o = parseOriginalVhost(single, DOMAIN);
        assert.deepEqual([o.httpsListen, o.httpListen], [["443 ssl"], ["80"]]);
        const v = renderVhost("gone-everywhere", DOMAIN, o, PAGE);
        assert.equal((v.match(/listen 80;/g) ?? []).length, 1, v);
    });

    test("commented-out lines are ignored (certificate, listen, server)", () => {
        const text = releaseVhost("4.2").replace("upstream backend {\n", "upstream backend {\n    # server 10.0.0.9:3000;\n") + "\n# listen 8443 ssl;\n";
        const o = parseOriginalVhost(text, DOMAIN);
        assert.equal(o.backend, "127.0.0.1:3000");
        assert.deepEqual(o.httpsListen, ["443 ssl http2", "[::]:443 ssl http2"]);
    });

    test("the backend is the upstream the TLS server proxies to, whatever its name", () => {
        const v = releaseVhost("4.5")
            .replace("upstream backend {\n    server 127.0.0.1:3000", "upstream puma {\n    server unix:/run/mastodon/web.sock")
            .replace("proxy_pass http://backend;", "proxy_pass http://puma;");
        assert.equal(parseOriginalVhost(v, DOMAIN).backend, "unix:/run/mastodon/web.sock");
    });

    test("no port-80 server for the domain in the file: none rendered (the admin's own stays)", () => {
        const v = releaseVhost("4.5").replace(/server \{\n {2}listen 80;[\s\S]*?\n\}\n/, "");
        const o = parseOriginalVhost(v, DOMAIN);
        assert.deepEqual(o.httpListen, []);
        const r = renderVhost("gone-everywhere", DOMAIN, o, PAGE);
        assert.ok(!/listen 80;/.test(r) && r.includes("No plain-HTTP server for social.example"), r.slice(0, 600));
    });

    test("refused, saying what to do: the TLS server in another file (a split vhost)", () => {
        const portOnly = releaseVhost("4.5").replace(/\nserver \{\n {2}listen 443[\s\S]*$/, "\n");
        assert.throws(
            () => parseOriginalVhost(portOnly, DOMAIN),
            /no `listen \.\.\. ssl` line in a server for social\.example;.*put the whole vhost of social\.example in one file and set nginxSite to it/,
        );
    });

    test("refused: no server for the domain, two TLS servers, a server that serves more than a redirect, an include it cannot read", () => {
        assert.throws(() => parseOriginalVhost(releaseVhost("4.5"), "other.example"), /no server block with server_name other\.example; set nginxSite/);
        const two = releaseVhost("4.5") + releaseVhost("4.5").slice(releaseVhost("4.5").indexOf("server {\n  listen 443"));
        assert.throws(() => parseOriginalVhost(two, DOMAIN), /2 TLS server blocks for social\.example/);
        const serving = releaseVhost("4.5") + `\nserver {\n  listen 443 ssl;\n  server_name files.${DOMAIN};\n  location / { proxy_pass http://backend; }\n}\n`;
        assert.throws(
            () => parseOriginalVhost(serving, DOMAIN),
            /the server block on line \d+ of the nginx site does more than redirect \(proxy_pass on line \d+\).*return 301 https:\/\/social\.example\$request_uri;.*file of its own/,
        );
        const snippet = releaseVhost("4.5").replace(
            "  root /home/mastodon/live/public;\n\n  gzip on;",
            "  root /home/mastodon/live/public;\n  include snippets/mastodon-locations.conf;\n\n  gzip on;",
        );
        assert.throws(
            () => parseOriginalVhost(snippet, DOMAIN),
            /includes a file on line \d+ of the nginx site, which the closure does not read.*copy what it holds into the site file/,
        );
        assert.throws(() => parseOriginalVhost("server {\n  listen 443 ssl;\n", DOMAIN), /cannot be read \(a block is not closed at the end of the file\)/);
    });

    test("refused: no certificate (only the commented lines of the fresh install), no key, no root", () => {
        const fresh = releaseVhost("4.5").replace(/^ {2}ssl_certificate(_key)? .*\n/gm, "");
        assert.throws(() => parseOriginalVhost(fresh, DOMAIN), /the nginx site has no ssl_certificate in the TLS server of social\.example;/);
        const inSnippet = fresh.replace("  ssl_protocols TLSv1.2 TLSv1.3;", "  ssl_protocols TLSv1.2 TLSv1.3;\n  include snippets/ssl-social.conf;");
        assert.throws(
            () => parseOriginalVhost(inSnippet, DOMAIN),
            /no ssl_certificate .*\(if it is in a file included on line \d+, put the line in the site file itself\)/,
        );
        assert.throws(() => parseOriginalVhost(releaseVhost("4.5").replace(/^ {2}ssl_certificate_key .*\n/gm, ""), DOMAIN), /no ssl_certificate_key/);
        assert.throws(() => parseOriginalVhost(releaseVhost("4.5").replace(/^\s*root .*\n/gm, ""), DOMAIN), /the nginx site has no root;/);
    });
});

describe("parseOriginalVhost: a refusal names the line, never what the file says", () => {
    // Previews are posted on pull requests: the file read may be anything under /etc/nginx/.
    const SECRET = "s3cr3t-Zq8vN2pW7xK4mR";
    /** The refusal of `text`, checked not to quote the secret in it. */
    function refusal(text: string): string {
        try {
            parseOriginalVhost(text, DOMAIN);
        } catch (e) {
            const message = (e as Error).message;
            assert.ok(!message.includes(SECRET), `the refusal quotes the file: ${message.replaceAll(SECRET, "(the secret)")}`);
            return message;
        }
        assert.fail("the file was not refused");
    }
    /** The line of the first `needle` in `text`. */
    const lineOfText = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split("\n").length;

    test("a password file (no `;` anywhere): its line 1, not its first line", () => {
        assert.equal(
            refusal(`root:${SECRET}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`),
            'the nginx site cannot be read (line 1: a directive without ";" at its end (the file ends first)); check it with nginx -t',
        );
    });

    test("what does not parse, each by its line and kind", () => {
        const cases: Array<[string, string]> = [
            [`${SECRET};\n}\n`, 'line 2: a "}" that closes no block'],
            [`# ${SECRET}\n${SECRET} }\n`, 'line 2: a directive without ";" before "}"'],
            [`\n\n"${SECRET}\n`, "line 3: a quoted string that is not closed"],
            [`{ ${SECRET}; }\n`, 'line 1: a "{" where a directive should begin'],
        ];
        for (const [text, what] of cases) assert.equal(refusal(text), `the nginx site cannot be read (${what}); check it with nginx -t`);
    });

    test("a server that serves more than a redirect: its line, the known directives by name, the others by line only", () => {
        const text =
            releaseVhost("4.5") +
            `\nserver {\n  listen 443 ssl;\n  server_name ${SECRET}.social.example;\n  ${SECRET} on;\n  location / { proxy_pass http://backend; }\n}\n`;
        const server = lineOfText(text, `server {\n  listen 443 ssl;\n  server_name ${SECRET}`);
        assert.match(
            refusal(text),
            new RegExp(
                `^the server block on line ${server} of the nginx site does more than redirect \\(a directive on line ${server + 3}, proxy_pass on line ${server + 4}\\)`,
            ),
        );
    });

    test("an include the closure does not read, and one that may hold the certificate: by their lines", () => {
        const include = `  include /etc/nginx/${SECRET}.conf;`;
        const foreign = releaseVhost("4.5").replace(
            "  root /home/mastodon/live/public;\n\n  gzip on;",
            `  root /home/mastodon/live/public;\n${include}\n\n  gzip on;`,
        );
        assert.match(
            refusal(foreign),
            new RegExp(`includes a file on line ${lineOfText(foreign, include)} of the nginx site, which the closure does not read`),
        );
        const tlsInclude = `  include /etc/nginx/ssl-${SECRET}.conf;`;
        const noCert = releaseVhost("4.5")
            .replace(/^ {2}ssl_certificate(_key)? .*\n/gm, "")
            .replace("  ssl_protocols TLSv1.2 TLSv1.3;", `  ssl_protocols TLSv1.2 TLSv1.3;\n${tlsInclude}`);
        assert.match(
            refusal(noCert),
            new RegExp(`\\(if it is in a file included on line ${lineOfText(noCert, tlsInclude)}, put the line in the site file itself\\)`),
        );
    });
});

describe("renderVhost (text)", () => {
    const original = parseOriginalVhost(releaseVhost("4.5"), DOMAIN);

    for (const mode of ["gone-except-downloads", "gone-everywhere"] as const) {
        test(`${mode}: keeps listen lines, names, TLS lines and root; ACME served on port 80`, () => {
            const v = renderVhost(mode, DOMAIN, original, PAGE);
            for (const l of ["80", "[::]:80", "443 ssl http2", "[::]:443 ssl http2"]) assert.ok(v.includes(`    listen ${l};\n`), l);
            for (const l of original.tls) assert.ok(v.includes(`    ${l}\n`), l);
            assert.ok(v.includes(`location /.well-known/acme-challenge/ {\n        root /home/mastodon/live/public;`));
            assert.equal((v.match(/server_name social\.example;/g) ?? []).length, 2);
            assert.ok(v.startsWith(`# Managed by mastodon-closure (stage front mode: ${mode})`));
            assert.ok(v.includes('add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;'), "HSTS kept");
        });
    }

    test("the kept routes, the static files and the backend only in gone-except-downloads", () => {
        const some = renderVhost("gone-except-downloads", DOMAIN, original, PAGE);
        const none = renderVhost("gone-everywhere", DOMAIN, original, PAGE);
        for (const s of [
            "location ^~ /system/",
            "location ^~ /packs/",
            "$mastodon_closure_kept",
            "proxy_pass http://mastodon_closure_backend;",
            "server 127.0.0.1:3000 fail_timeout=0;",
            "proxy_read_timeout 120;",
            "X-Content-Type-Options nosniff",
            "default-src 'none'; form-action 'none'",
        ]) {
            assert.ok(some.includes(s), `gone-except-downloads lacks ${s}`);
            assert.ok(!none.includes(s), `gone-everywhere has ${s}`);
        }
        for (const r of KEPT_ROUTES) assert.ok(some.includes(`"~^(${r.methods.join("|")}) ${r.pattern.slice(1)}" 1;`), r.pattern);
        assert.ok(some.includes("return 301 https://$host$request_uri;"), "port 80 redirects while downloads remain");
        assert.ok(!none.includes("return 301"), "gone-everywhere answers 410 on port 80 too");
        assert.equal((none.match(/return 410 /g) ?? []).length, 4);
        assert.equal((some.match(/return 410 /g) ?? []).length, 2);
        assert.ok(some.includes(`return 410 '${closedPage(PAGE)}';`));
        assert.ok(none.includes(`return 410 '${goneForGoodPage(PAGE)}';`));
    });

    test("no HSTS and no proxy_read_timeout where the server's own vhost has none", () => {
        const bare = parseOriginalVhost(releaseVhost("4.2").replace(/^ *add_header Strict-Transport-Security .*\n/gm, ""), DOMAIN);
        const v = renderVhost("gone-except-downloads", DOMAIN, bare, PAGE);
        assert.ok(!v.includes("Strict-Transport-Security") && !v.includes("proxy_read_timeout"), v);
    });

    test("the closed page: both languages, the configured one first, the last day to download, links to sign in and to the export", () => {
        const en = closedPage(PAGE);
        assert.match(en, /^<!doctype html><html lang="en">/);
        assert.ok(en.indexOf('<section lang="en">') < en.indexOf('<section lang="ja">'), en);
        assert.ok(en.includes("<h1>social.example has closed on 2026-06-01.</h1>"), en);
        assert.ok(en.includes("You can still sign in and download the archive of your account until 2026-06-08"), en);
        assert.ok(en.includes("2026-06-08 までは、ログインしてアカウントのアーカイブをダウンロードできます。"), en);
        for (const [href, text] of [
            [SIGN_IN_PATH, "Sign in"],
            [EXPORT_PATH, "Download your archive"],
            [SIGN_IN_PATH, "ログイン"],
            [EXPORT_PATH, "アーカイブをダウンロード"],
        ]) {
            assert.ok(en.includes(`<a href="${href}">${text}</a>`), `${href} ${text}: ${en}`);
        }
        assert.ok(!/gone for good/.test(en), "it does not tell users their data is gone");
        const ja = closedPage({ ...PAGE, language: "ja" });
        assert.ok(ja.indexOf('<section lang="ja">') < ja.indexOf('<section lang="en">'), ja);
        const noDate = closedPage({ domain: DOMAIN });
        assert.ok(noDate.includes("for a short while") && noDate.includes("しばらくの間"), noDate);
        const hostile = closedPage({ domain: DOMAIN, successor: "https://next.example/'$x<script>", downloadsUntil: "<b>" });
        assert.ok(!/'|\$|<script>|<b>/.test(hostile), hostile);
    });

    test("the gone-for-good page: both languages, the configured one first, date and successor only when given", () => {
        const en = goneForGoodPage(PAGE);
        assert.ok(en.includes("<h1>social.example has closed on 2026-06-01.</h1>"), en);
        assert.ok(en.includes("<h1>social.example は 2026-06-01 に閉鎖しました。</h1>"), en);
        assert.ok(en.includes('Its community continues at <a href="https://next.example">next.example</a>.'), en);
        const ja = goneForGoodPage({ ...PAGE, language: "ja" });
        assert.match(ja, /^<!doctype html><html lang="ja">/);
        const bare = goneForGoodPage({ domain: DOMAIN });
        assert.ok(!bare.includes("<a "), bare);
    });
});

describe("keptWhileClosed (the contract's open part)", () => {
    test("each kept route's example with its methods, and no other method", () => {
        for (const r of KEPT_ROUTES) {
            for (const m of ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
                assert.equal(keptWhileClosed(m, r.example), r.methods.includes(m), `${m} ${r.example}`);
            }
        }
    });

    test("what upstream answers 410 to stays 410: sign-up, registration pages, other settings, the app, the API", () => {
        for (const [m, p] of [
            ["GET", "/auth/sign_up"],
            ["GET", "/auth/setup"],
            ["GET", "/auth/cancel"],
            ["DELETE", "/auth"],
            ["GET", "/auth"],
            ["GET", "/settings/profile"],
            ["GET", "/settings/otp_authentication"],
            ["GET", "/settings/two_factor_authentication/confirmation/new"],
            ["GET", "/settings/exports/follows.json"],
            ["GET", "/settings/export.json"],
            ["GET", "/backups/1"],
            ["GET", "/backupsX/1/download"],
            ["GET", "/auth/sign_in.json"],
            ["GET", "/"],
            ["GET", "/home"],
            ["GET", "/api/v1/instance"],
            ["POST", "/inbox"],
            ["GET", "/sw.js"],
            ["GET", "/auth/auth/openid_connect/callback/x"],
        ])
            assert.equal(keptWhileClosed(m, p), false, `${m} ${p}`);
        for (const d of KEPT_FILE_DIRS) assert.equal(keptWhileClosed("GET", `/${d}/x`), true, d);
    });
});

// --- the real nginx ------------------------------------------------------------------------------------

let tmp: string;
let cert: string;
let key: string;
let options: string;

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

/** A minimal nginx.conf in `dir` around a site file. */
function nginxConf(dir: string, vhost: string): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "site.conf"), vhost);
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(
        conf,
        `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/site.conf;
}
`,
    );
    return conf;
}

function nginxTest(dir: string, conf: string): { status: number | null; output: string } {
    const r = spawnSync("nginx", ["-t", "-c", conf, "-p", dir, "-e", path.join(dir, "error.log")], { encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "closure-nginx-"));
    fs.chmodSync(tmp, 0o755);
    cert = path.join(tmp, "cert.pem");
    key = path.join(tmp, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ed25519", "-keyout", key, "-out", cert, "-days", "2", "-nodes", "-subj", `/CN=${DOMAIN}`], {
        stdio: "ignore",
    });
    // certbot's options-ssl-nginx.conf, as `certbot --nginx` writes it.
    options = path.join(tmp, "options-ssl-nginx.conf");
    fs.writeFileSync(
        options,
        "ssl_session_cache shared:le_nginx_SSL:10m;\nssl_session_timeout 1440m;\nssl_session_tickets off;\nssl_protocols TLSv1.2 TLSv1.3;\nssl_prefer_server_ciphers off;\n",
    );
});
after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("nginx -t", () => {
    test("rejects a broken vhost (the check is real)", () => {
        const dir = path.join(tmp, "t-broken");
        const r = nginxTest(dir, nginxConf(dir, "server { listen 127.0.0.1:1 ssl; return 410 'x; }\n"));
        assert.notEqual(r.status, 0);
    });

    test("a successor URL with `$` in its path still renders a valid vhost showing it literally", () => {
        const o = parseOriginalVhost(releaseVhost("4.5", { cert, key, cache: path.join(tmp, "cache-dollar") }), DOMAIN);
        const dir = path.join(tmp, "t-dollar");
        for (const mode of ["gone-everywhere", "gone-except-downloads"] as const) {
            const r = nginxTest(dir, nginxConf(dir, renderVhost(mode, DOMAIN, o, { domain: DOMAIN, successor: "https://next.example/@$closure_owner'a<b>" })));
            assert.equal(r.status, 0, r.output);
        }
    });
});

async function waitListening(port: number): Promise<void> {
    const end = Date.now() + 5000;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
            s.on("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > end) throw new Error(`nginx did not listen on ${port}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

/** The Rails app behind the kept routes: records what reaches it; `?redirect=` answers a redirect there
 *  (as Devise does after signing in), `?slow=` answers after that many ms. */
interface SeenRequest {
    method: string;
    url: string;
    host?: string;
    proto?: string;
    body: string;
}

type Shape = "4.2" | "4.3" | "4.5" | "certbot" | "www";
const SHAPES: Shape[] = ["4.2", "4.3", "4.5", "certbot", "www"];

for (const shape of SHAPES) {
    for (const mode of ["gone-except-downloads", "gone-everywhere"] as const) {
        describe(`running nginx: ${shape} vhost, ${mode}`, () => {
            let nginx: ChildProcess | undefined;
            let backend: http.Server;
            let httpPort: number;
            let httpsPort: number;
            let original: OriginalVhost;
            const seen: SeenRequest[] = [];
            const keep = mode === "gone-except-downloads";
            const https = () => ({ port: httpsPort, tls: true, host: DOMAIN });
            const get = (p: string, o: { method?: string; headers?: Record<string, string>; body?: string; host?: string } = {}) =>
                contractRequest({ port: httpsPort, tls: true, host: o.host ?? DOMAIN }, p, {
                    method: o.method ?? "GET",
                    headers: { ...(o.body !== undefined ? { "Content-Length": String(Buffer.byteLength(o.body)) } : {}), ...(o.headers ?? {}) },
                    body: o.body,
                });

            before(async () => {
                const dir = path.join(tmp, `run-${shape}-${mode}`);
                const root = path.join(dir, "public");
                for (const d of KEPT_FILE_DIRS) {
                    fs.mkdirSync(path.join(root, d), { recursive: true });
                    fs.writeFileSync(path.join(root, d, "x.txt"), `${d} file\n`);
                }
                fs.mkdirSync(path.join(root, ".well-known/acme-challenge"), { recursive: true });
                fs.writeFileSync(path.join(root, ".well-known/acme-challenge/token"), "acme-token\n");
                backend = http.createServer((req, res) => {
                    const chunks: Buffer[] = [];
                    req.on("data", (c: Buffer) => chunks.push(c));
                    req.on("end", () => {
                        seen.push({
                            method: req.method ?? "",
                            url: req.url ?? "",
                            host: req.headers.host,
                            proto: req.headers["x-forwarded-proto"] as string,
                            body: Buffer.concat(chunks).toString(),
                        });
                        const u = new URL(req.url ?? "/", "http://x");
                        const to = u.searchParams.get("redirect");
                        const answer = () => {
                            if (to !== null) res.writeHead(302, { Location: to });
                            else res.writeHead(200, { "Content-Type": "text/plain" });
                            res.end("rails");
                        };
                        const slow = Number(u.searchParams.get("slow") ?? 0);
                        if (slow) setTimeout(answer, slow);
                        else answer();
                    });
                });
                await new Promise<void>((r) => backend.listen(0, "127.0.0.1", () => r()));
                const place: Place = {
                    httpPort: (httpPort = await freePort()),
                    httpsPort: (httpsPort = await freePort()),
                    backend: `127.0.0.1:${(backend.address() as net.AddressInfo).port}`,
                    cert,
                    key,
                    root,
                    cache: path.join(dir, "cache"),
                };
                const own =
                    shape === "certbot"
                        ? certbotVhost({ ...place, options })
                        : shape === "www"
                          ? wwwVhost(place)
                          : releaseVhost(shape, place).replace("proxy_read_timeout 120;", "proxy_read_timeout 1;");
                // The server's own vhost is valid as it stands: the fixtures are real.
                const ownDir = path.join(dir, "own");
                const t0 = nginxTest(ownDir, nginxConf(ownDir, own));
                assert.equal(t0.status, 0, `${shape}'s own vhost: ${t0.output}`);
                original = parseOriginalVhost(own, DOMAIN);
                assert.deepEqual(original.httpListen, [`127.0.0.1:${httpPort}`]);
                const conf = nginxConf(dir, renderVhost(mode, DOMAIN, original, PAGE));
                const t = nginxTest(dir, conf);
                assert.equal(t.status, 0, t.output);
                nginx = spawn("nginx", ["-c", conf, "-p", dir, "-e", path.join(dir, "error.log"), "-g", "daemon off;"], {
                    stdio: ["ignore", "ignore", "pipe"],
                });
                await Promise.all([waitListening(httpPort), waitListening(httpsPort)]);
            });

            after(async () => {
                if (nginx && nginx.exitCode === null) {
                    const exited = new Promise((r) => nginx!.once("exit", r));
                    nginx.kill("SIGTERM");
                    await exited;
                }
                await new Promise((r) => backend?.close(r));
            });

            test("every path and kind of request of the gone contract (but what stays open while closed), over HTTPS", async () => {
                const page = keep ? closedPage(PAGE) : goneForGoodPage(PAGE);
                const cases = contractCases(DOMAIN, keep ? (p, kind) => keptWhileClosed(kind.method, p) : undefined);
                const checked = await assertContract(https(), page, cases);
                assert.ok(checked >= (keep ? 240 : 300), `cases checked: ${checked}`);
                if (!keep) await assertContract({ port: httpPort, tls: false, host: DOMAIN }, page, cases);
                assert.deepEqual(seen, [], "nothing of the contract reached the app");
            });

            test(`kept routes ${keep ? "reach the app with their methods (bodies included), other methods answer 410" : "answer 410"}`, async () => {
                seen.length = 0;
                const problems: string[] = [];
                for (const r of KEPT_ROUTES) {
                    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
                        const body = method === "GET" || method === "OPTIONS" ? undefined : `authenticity_token=t&m=${method}`;
                        const got = await get(r.example, { method, body, headers: body ? { "Content-Type": "application/x-www-form-urlencoded" } : {} });
                        const want = keep && r.methods.includes(method) ? 200 : 410;
                        if (got.status !== want) problems.push(`${method} ${r.example}: ${got.status}, want ${want}`);
                        if (want === 200) {
                            const s = seen.pop();
                            if (!s || s.method !== method || s.url !== r.example || s.body !== (body ?? "") || s.host !== DOMAIN || s.proto !== "https") {
                                problems.push(`${method} ${r.example} reached the app as ${JSON.stringify(s)}`);
                            }
                        }
                    }
                }
                assert.deepEqual(problems, [], problems.join("\n"));
                assert.deepEqual(seen, [], "only kept requests reached the app");
            });

            test(`static files, media and archives: ${keep ? "served with the server's own headers" : "410"}`, async () => {
                for (const d of KEPT_FILE_DIRS) {
                    const r = await get(`/${d}/x.txt`);
                    if (!keep) {
                        assert.equal(r.status, 410, `/${d}/: ${r.status}`);
                        continue;
                    }
                    assert.equal(r.status, 200, `/${d}/x.txt answered ${r.status}`);
                    assert.equal(r.body, `${d} file\n`);
                    assert.equal(r.headers["strict-transport-security"], "max-age=63072000; includeSubDomains", `/${d}/ HSTS`);
                    if (d === "system") {
                        assert.equal(r.headers["x-content-type-options"], "nosniff", "/system/ nosniff");
                        assert.equal(r.headers["content-security-policy"], "default-src 'none'; form-action 'none'", "/system/ CSP");
                        assert.equal(r.headers["cache-control"], "public, max-age=2419200, immutable");
                    }
                    assert.equal((await get(`/${d}/missing.txt`)).status, 404, `/${d}/missing.txt`);
                }
            });

            test("HSTS on the 410 answers, as the server's own vhost sends it", async () => {
                const r = await get("/users/alice", { headers: { Accept: "application/activity+json" } });
                assert.equal(r.status, 410);
                assert.equal(r.headers["strict-transport-security"], "max-age=63072000; includeSubDomains", JSON.stringify(r.headers));
            });

            if (keep) {
                test("after signing in users land on the export page; any other redirect is left as it is", async () => {
                    const home = await get(`/auth/sign_in?redirect=${encodeURIComponent(`https://${DOMAIN}/`)}`, {
                        method: "POST",
                        body: "user%5Bemail%5D=a",
                        headers: { "Content-Type": "application/x-www-form-urlencoded" },
                    });
                    assert.equal(home.status, 302);
                    assert.equal(home.headers.location, `https://${DOMAIN}${EXPORT_PATH}`, "home (the 410 page) becomes the export page");
                    const sso = await get(`/auth/auth/openid_connect/callback?redirect=${encodeURIComponent(`https://${DOMAIN}/`)}`);
                    assert.equal(sso.headers.location, `https://${DOMAIN}${EXPORT_PATH}`, "single sign-on too");
                    const stored = await get(`/auth/sign_in?redirect=${encodeURIComponent(`https://${DOMAIN}/backups/7/download`)}`, {
                        method: "POST",
                        body: "x=1",
                    });
                    assert.equal(stored.headers.location, `https://${DOMAIN}/backups/7/download`, "the stored location (the e-mailed link) is kept");
                    const out = await get(`/auth/sign_out?redirect=${encodeURIComponent(`https://${DOMAIN}/auth/sign_in`)}`, { method: "DELETE" });
                    assert.equal(out.headers.location, `https://${DOMAIN}/auth/sign_in`);
                });

                if (shape === "4.5") {
                    test("the server's own proxy_read_timeout applies to the kept routes (a slow export answers 504 past it)", async () => {
                        assert.equal(original.proxyReadTimeout, "1");
                        assert.equal((await get("/settings/exports/follows.csv?slow=1500")).status, 504);
                        assert.equal((await get("/settings/exports/follows.csv?slow=200")).status, 200);
                    });
                }
            }

            if (shape === "www") {
                test("the www server still redirects to the domain", async () => {
                    const r = await get("/@alice", { host: `www.${DOMAIN}` });
                    assert.equal(r.status, 301, `www answered ${r.status}`);
                    assert.equal(r.headers.location, `https://${DOMAIN}/@alice`);
                });
            }

            test("ACME challenge over plain HTTP answers 200", async () => {
                const r = await contractRequest({ port: httpPort, tls: false, host: DOMAIN }, "/.well-known/acme-challenge/token", {
                    method: "GET",
                    headers: {},
                });
                assert.equal(r.status, 200, `ACME answered ${r.status}`);
                assert.equal(r.body, "acme-token\n");
            });

            test(`plain HTTP elsewhere: ${keep ? "redirect to HTTPS" : "410"}`, async () => {
                const r = await contractRequest({ port: httpPort, tls: false, host: DOMAIN }, "/users/alice", { method: "GET", headers: {} });
                if (keep) {
                    assert.equal(r.status, 301);
                    assert.equal(r.headers.location, `https://${DOMAIN}/users/alice`);
                } else assert.equal(r.status, 410);
            });
        });
    }
}
