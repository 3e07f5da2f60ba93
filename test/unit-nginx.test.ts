// Unit tests of lib/nginx.ts: parsing the server's own vhost, rendering the 410 vhosts, and checking the
// rendered files with the real nginx: `nginx -t`, then a running nginx answering real HTTPS requests.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { goneForGoodPage } from "../lib/gone";
import { DOWNLOAD_APP_PATHS, gonePageHtml, GonePage, parseOriginalVhost, renderVhost, STATIC_PATHS } from "../lib/nginx";
import { assertContract, contractCases, request as contractRequest } from "./support/gone-contract";

const DOMAIN = "social.example";

/** A vhost shaped like Mastodon's dist/nginx.conf (the standard install), with its comments. */
function mastodonVhost(o: { http?: string[]; https?: string[]; backend?: string; cert?: string; key?: string; root?: string } = {}): string {
    const httpListen = (o.http ?? ["80", "[::]:80"]).map((l) => `  listen ${l};`).join("\n");
    const httpsListen = (o.https ?? ["443 ssl http2", "[::]:443 ssl http2"]).map((l) => `  listen ${l};`).join("\n");
    const root = o.root ?? "/home/mastodon/live/public";
    return `map $http_upgrade $connection_upgrade {
  default upgrade;
  ''      close;
}

upstream backend {
    server ${o.backend ?? "127.0.0.1:3000"} fail_timeout=0;
}

upstream streaming {
    # Instruct nginx to send connections to the server with the least number of connections
    # to ensure load is distributed evenly.
    least_conn;

    server 127.0.0.1:4000 fail_timeout=0;
    # Uncomment these lines for load-balancing multiple instances of streaming for scaling,
    # this assumes your running the streaming server on ports 4000, 4001, and 4002:
    # server 127.0.0.1:4001 fail_timeout=0;
}

proxy_cache_path /var/cache/nginx levels=1:2 keys_zone=CACHE:10m inactive=7d max_size=1g;

server {
${httpListen}
  server_name ${DOMAIN};
  root ${root};
  location /.well-known/acme-challenge/ { allow all; }
  location / { return 301 https://$host$request_uri; }
}

server {
${httpsListen}
  server_name ${DOMAIN};

  ssl_protocols TLSv1.2 TLSv1.3;

  # You can use https://ssl-config.mozilla.org/ to generate your cipher set.
  # We recommend their "Intermediate" level.
  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256;

  ssl_prefer_server_ciphers on;
  ssl_session_cache shared:SSL:10m;
  ssl_session_tickets off;

  # Uncomment these lines once you acquire a certificate:
  # ssl_certificate     /etc/letsencrypt/live/example.com/fullchain.pem;
  # ssl_certificate_key /etc/letsencrypt/live/example.com/privkey.pem;
  ssl_certificate     ${o.cert ?? `/etc/letsencrypt/live/${DOMAIN}/fullchain.pem`};
  ssl_certificate_key ${o.key ?? `/etc/letsencrypt/live/${DOMAIN}/privkey.pem`};

  keepalive_timeout    70;
  sendfile             on;
  client_max_body_size 99m;

  root ${root};

  gzip on;
  gzip_disable "msie6";

  location / {
    try_files $uri @proxy;
  }

  # If Docker is used for deployment and Rails serves static files,
  # then needed must replace line \`try_files $uri =404;\` with \`try_files $uri @proxy;\`.
  location = /sw.js {
    add_header Cache-Control "public, max-age=604800, must-revalidate";
    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains";
    try_files $uri =404;
  }

  location ~ ^/system/ {
    add_header Cache-Control "public, max-age=2419200, immutable";
    try_files $uri =404;
  }

  location ^~ /api/v1/streaming {
    proxy_set_header Host $host;
    proxy_pass http://streaming;
  }

  location @proxy {
    proxy_set_header Host $host;
    proxy_pass http://backend;
    proxy_cache CACHE;
    proxy_cache_valid 200 7d;
    proxy_cache_valid 410 24h;
  }

  error_page 404 500 501 502 503 504 /500.html;
}
`;
}

const PAGE: GonePage = { domain: DOMAIN, closingDate: "2026-06-01", successor: "https://next.example" };

describe("parseOriginalVhost", () => {
    test("reads listen lines, certificate, root and backend from Mastodon's vhost", () => {
        const o = parseOriginalVhost(mastodonVhost());
        assert.deepEqual(o, {
            httpListen: ["80", "[::]:80"],
            httpsListen: ["443 ssl http2", "[::]:443 ssl http2"],
            sslCertificate: `/etc/letsencrypt/live/${DOMAIN}/fullchain.pem`,
            sslCertificateKey: `/etc/letsencrypt/live/${DOMAIN}/privkey.pem`,
            root: "/home/mastodon/live/public",
            backend: "127.0.0.1:3000",
        });
    });

    test("commented-out lines are ignored (certificate, listen, server)", () => {
        const text = mastodonVhost().replace(
            "upstream backend {\n",
            "upstream backend {\n    # server 10.0.0.9:3000;\n",
        ) + "\n# listen 8443 ssl;\n";
        const o = parseOriginalVhost(text);
        assert.equal(o.backend, "127.0.0.1:3000");
        assert.deepEqual(o.httpsListen, ["443 ssl http2", "[::]:443 ssl http2"]);
        assert.equal(o.sslCertificate, `/etc/letsencrypt/live/${DOMAIN}/fullchain.pem`);
    });

    test("backend from the upstream, multiple spaces collapsed", () => {
        const o = parseOriginalVhost(mastodonVhost({ backend: "unix:/run/mastodon/web.sock", https: ["10.0.0.5:443   ssl"] }));
        assert.equal(o.backend, "unix:/run/mastodon/web.sock");
        assert.deepEqual(o.httpsListen, ["10.0.0.5:443 ssl"]);
    });

    test("no upstream backend: 127.0.0.1:3000; no plain listen: 80", () => {
        const text = `server {\n  listen 443 ssl;\n  ssl_certificate /c.pem;\n  ssl_certificate_key /k.pem;\n  root /srv/public;\n}\n`;
        const o = parseOriginalVhost(text);
        assert.equal(o.backend, "127.0.0.1:3000");
        assert.deepEqual(o.httpListen, ["80"]);
        assert.deepEqual(o.httpsListen, ["443 ssl"]);
    });

    test("no `listen ... ssl` line: refused", () => {
        assert.throws(() => parseOriginalVhost(mastodonVhost({ https: ["443"] }).replace(/listen \[::\]:443 ssl http2;/, "")), /no `listen \.\.\. ssl` line/);
        // Only a commented one.
        const commented = mastodonVhost().replace(/  listen (\S+ ssl http2);/g, "  # listen $1;");
        assert.throws(() => parseOriginalVhost(commented), /no `listen \.\.\. ssl` line/);
    });

    test("no certificate (only the commented lines of the fresh install): refused naming it", () => {
        const text = mastodonVhost().replace(/^  ssl_certificate(_key)?\s+\/etc.*\n/gm, "");
        assert.throws(() => parseOriginalVhost(text), /the nginx site has no ssl_certificate;/);
        const noKey = mastodonVhost().replace(/^  ssl_certificate_key\s+\/etc.*\n/gm, "");
        assert.throws(() => parseOriginalVhost(noKey), /the nginx site has no ssl_certificate_key;/);
    });

    test("no root: refused", () => {
        assert.throws(() => parseOriginalVhost(mastodonVhost().replace(/^\s*root .*\n/gm, "")), /the nginx site has no root;/);
    });
});

describe("renderVhost (text)", () => {
    const original = parseOriginalVhost(mastodonVhost());

    for (const mode of ["gone-except-downloads", "gone-everywhere"] as const) {
        test(`${mode}: keeps listen lines, certificate and root; ACME served on port 80`, () => {
            const v = renderVhost(mode, DOMAIN, original, PAGE);
            for (const l of ["80", "[::]:80", "443 ssl http2", "[::]:443 ssl http2"]) assert.ok(v.includes(`    listen ${l};\n`), l);
            assert.ok(v.includes(`ssl_certificate ${original.sslCertificate};`));
            assert.ok(v.includes(`ssl_certificate_key ${original.sslCertificateKey};`));
            assert.ok(v.includes(`location /.well-known/acme-challenge/ {\n        root /home/mastodon/live/public;`));
            assert.equal((v.match(/server_name social\.example;/g) ?? []).length, 2);
            assert.ok(v.includes("return 410 '"));
            assert.ok(v.startsWith(`# Managed by mastodon-closure (stage front mode: ${mode})`));
        });
    }

    test("downloads, media and sign-in only in gone-except-downloads", () => {
        const some = renderVhost("gone-except-downloads", DOMAIN, original, PAGE);
        const none = renderVhost("gone-everywhere", DOMAIN, original, PAGE);
        for (const s of ["location /system/", "location = /sw.js", `location ~ ${DOWNLOAD_APP_PATHS}`, "auth/(sign_in|sign_out|password)", "backups/", "settings/export", "proxy_pass http://mastodon_closure_backend;", "server 127.0.0.1:3000 fail_timeout=0;"]) {
            assert.ok(some.includes(s), `gone-except-downloads lacks ${s}`);
            assert.ok(!none.includes(s), `gone-everywhere has ${s}`);
        }
        assert.ok(some.includes("return 301 https://$host$request_uri;"), "port 80 redirects while downloads remain");
        assert.ok(!none.includes("return 301"), "gone-everywhere answers 410 on port 80 too");
        // The page and the JSON answer, in each server that answers 410.
        assert.equal((none.match(/return 410 /g) ?? []).length, 4);
        assert.equal((some.match(/return 410 /g) ?? []).length, 2);
    });

    test("dormant and parked show the page of a domain gone for good; closed shows its own page", () => {
        const none = renderVhost("gone-everywhere", DOMAIN, original, PAGE);
        const some = renderVhost("gone-except-downloads", DOMAIN, original, PAGE);
        assert.ok(none.includes(`return 410 '${goneForGoodPage(PAGE)}';`));
        assert.ok(some.includes(`return 410 '${gonePageHtml(PAGE)}';`));
    });

    test("the 410 page escapes HTML in the domain and the successor", () => {
        const html = gonePageHtml({ domain: "a<b>.example", closingDate: "2026-06-01", successor: "https://next.example/'x\"<script>&" });
        assert.ok(!html.includes("<b>"));
        assert.ok(!html.includes("<script>"));
        assert.ok(html.includes("a&#60;b&#62;.example"));
        assert.ok(html.includes("next.example/&#39;x&#34;&#60;script&#62;&#38;"), html);
        assert.ok(!/'/.test(html), "no raw single quote: it would end nginx's quoted string");
    });

    test("the gone-for-good page: both languages, the configured one first, date and successor only when given", () => {
        const en = goneForGoodPage(PAGE);
        assert.match(en, /^<!doctype html><html lang="en">/);
        assert.ok(en.indexOf('<section lang="en">') < en.indexOf('<section lang="ja">'), en);
        assert.ok(en.includes("<h1>social.example has closed on 2026-06-01.</h1>"), en);
        assert.ok(en.includes("<h1>social.example は 2026-06-01 に閉鎖しました。</h1>"), en);
        assert.ok(en.includes('Its community continues at <a href="https://next.example">next.example</a>.'), en);
        assert.ok(en.includes('コミュニティは <a href="https://next.example">next.example</a> で続いています。'), en);
        const ja = goneForGoodPage({ ...PAGE, language: "ja" });
        assert.match(ja, /^<!doctype html><html lang="ja">/);
        assert.ok(ja.indexOf('<section lang="ja">') < ja.indexOf('<section lang="en">'), ja);
        const bare = goneForGoodPage({ domain: DOMAIN });
        assert.ok(bare.includes("<h1>social.example has closed.</h1>") && bare.includes("<h1>social.example は閉鎖しました。</h1>"), bare);
        assert.ok(!bare.includes("<a "), bare);
        const hostile = goneForGoodPage({ domain: DOMAIN, successor: "https://next.example/'$x<script>" });
        assert.ok(!/'|\$|<script>/.test(hostile), hostile);
    });

    test("the 410 page: date and successor only when given, https:// stripped from the shown name", () => {
        assert.equal(
            gonePageHtml(PAGE),
            '<!doctype html><html><head><meta charset="utf-8"><title>social.example has closed</title></head><body><h1>social.example has closed on 2026-06-01.</h1>' +
                '<p>This Mastodon server is gone for good. Its community continues at <a href="https://next.example">next.example</a>.</p></body></html>',
        );
        const bare = gonePageHtml({ domain: DOMAIN });
        assert.ok(bare.includes("<h1>social.example has closed.</h1>"));
        assert.ok(!bare.includes("continues at"));
    });
});

// --- the real nginx ------------------------------------------------------------------------------------

let tmp: string;
let cert: string;
let key: string;

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

/** A minimal nginx.conf in `dir` around the rendered vhost. */
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
    cert = path.join(tmp, "cert.pem");
    key = path.join(tmp, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ed25519", "-keyout", key, "-out", cert, "-days", "2", "-nodes", "-subj", `/CN=${DOMAIN}`], { stdio: "ignore" });
});
after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("nginx -t accepts the rendered vhosts", () => {
    for (const mode of ["gone-except-downloads", "gone-everywhere"] as const) {
        test(`${mode} from Mastodon's standard vhost`, () => {
            const o = parseOriginalVhost(mastodonVhost({ cert, key }));
            const dir = path.join(tmp, `t-${mode}`);
            const r = nginxTest(dir, nginxConf(dir, renderVhost(mode, DOMAIN, o, { domain: DOMAIN, closingDate: "2026-06-01", successor: "https://next.example/a'b<c>" })));
            assert.equal(r.status, 0, r.output);
            assert.match(r.output, /syntax is ok/);
        });
    }

    test("nginx -t rejects a broken vhost (the check is real)", () => {
        const dir = path.join(tmp, "t-broken");
        const r = nginxTest(dir, nginxConf(dir, "server { listen 127.0.0.1:1 ssl; return 410 'x; }\n"));
        assert.notEqual(r.status, 0);
    });

    test(
        "a successor URL with `$` in its path (accepted by settings) still renders a valid vhost showing it literally",
        () => {
            const o = parseOriginalVhost(mastodonVhost({ cert, key }));
            const dir = path.join(tmp, "t-dollar");
            const r = nginxTest(dir, nginxConf(dir, renderVhost("gone-everywhere", DOMAIN, o, { domain: DOMAIN, successor: "https://next.example/@$closure_owner" })));
            assert.equal(r.status, 0, r.output);
        },
    );
});

const request = (opts: { tls: boolean; port: number; path: string; method?: string; headers?: Record<string, string> }) =>
    contractRequest({ port: opts.port, tls: opts.tls, host: DOMAIN }, opts.path, { method: opts.method ?? "GET", headers: opts.headers ?? {} });

/** Paths the closed vhost keeps open (lib/nginx.ts): the contract is checked on every other path. */
const OPEN_WHILE_CLOSED = [new RegExp(DOWNLOAD_APP_PATHS), new RegExp(STATIC_PATHS), /^\/system\//, /^\/sw\.js$/];

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

for (const mode of ["gone-except-downloads", "gone-everywhere"] as const) {
    describe(`running nginx: ${mode}`, () => {
        let nginx: ChildProcess | undefined;
        let backend: http.Server;
        let httpPort: number;
        let httpsPort: number;
        const backendSeen: string[] = [];

        before(async () => {
            const dir = path.join(tmp, `run-${mode}`);
            const root = path.join(dir, "public");
            fs.mkdirSync(path.join(root, "system"), { recursive: true });
            fs.mkdirSync(path.join(root, ".well-known/acme-challenge"), { recursive: true });
            fs.writeFileSync(path.join(root, "system/x.txt"), "media file\n");
            fs.writeFileSync(path.join(root, ".well-known/acme-challenge/token"), "acme-token\n");
            fs.mkdirSync(path.join(root, "packs"), { recursive: true });
            fs.writeFileSync(path.join(root, "packs/app.js"), "js\n");
            // The Rails app, for the paths still proxied: records what reaches it.
            backend = http.createServer((req, res) => {
                backendSeen.push(`${req.method} ${req.url} host=${req.headers.host} proto=${req.headers["x-forwarded-proto"]}`);
                res.writeHead(200, { "Content-Type": "text/plain" });
                res.end("rails");
            });
            await new Promise<void>((r) => backend.listen(0, "127.0.0.1", () => r()));
            const backendPort = (backend.address() as net.AddressInfo).port;
            httpPort = await freePort();
            httpsPort = await freePort();
            const original = parseOriginalVhost(
                mastodonVhost({ http: [`127.0.0.1:${httpPort}`], https: [`127.0.0.1:${httpsPort} ssl`], backend: `127.0.0.1:${backendPort}`, cert, key, root }),
            );
            assert.deepEqual(original.httpListen, [`127.0.0.1:${httpPort}`]);
            const conf = nginxConf(dir, renderVhost(mode, DOMAIN, original, PAGE));
            fs.chmodSync(tmp, 0o755);
            const t = nginxTest(dir, conf);
            assert.equal(t.status, 0, t.output);
            nginx = spawn("nginx", ["-c", conf, "-p", dir, "-e", path.join(dir, "error.log"), "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
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

        test("every path and kind of request of the gone contract, over HTTPS", async () => {
            const page = (mode === "gone-everywhere" ? goneForGoodPage : gonePageHtml)(PAGE);
            const skip = mode === "gone-except-downloads" ? (p: string) => OPEN_WHILE_CLOSED.some((re) => re.test(p)) : undefined;
            const cases = contractCases(DOMAIN, skip);
            const checked = await assertContract({ port: httpsPort, tls: true, host: DOMAIN }, page, cases);
            assert.ok(checked >= (mode === "gone-everywhere" ? 300 : 200), String(checked));
            if (mode === "gone-everywhere") {
                // Over plain HTTP too: port 80 answers the same (only ACME is served there).
                await assertContract({ port: httpPort, tls: false, host: DOMAIN }, page, cases);
            }
        });

        test(`/system/x.txt answers ${mode === "gone-except-downloads" ? "200" : "410"}`, async () => {
            const r = await request({ tls: true, port: httpsPort, path: "/system/x.txt" });
            if (mode === "gone-except-downloads") {
                assert.equal(r.status, 200);
                assert.equal(r.body, "media file\n");
            } else assert.equal(r.status, 410);
        });

        test(`static packs for the sign-in page: ${mode === "gone-except-downloads" ? "served" : "410"}`, async () => {
            const r = await request({ tls: true, port: httpsPort, path: "/packs/app.js" });
            assert.equal(r.status, mode === "gone-except-downloads" ? 200 : 410);
        });

        test(`sign-in, archive download and export ${mode === "gone-except-downloads" ? "reach Rails" : "answer 410"}`, async () => {
            const paths = ["/auth/sign_in", "/backups/12/download", "/settings/export", "/auth/password/new"];
            for (const p of paths) {
                const r = await request({ tls: true, port: httpsPort, path: p });
                if (mode === "gone-except-downloads") {
                    assert.equal(r.status, 200, p);
                    assert.equal(r.body, "rails");
                } else assert.equal(r.status, 410, p);
            }
            if (mode === "gone-except-downloads") {
                assert.ok(backendSeen.includes(`GET /auth/sign_in host=${DOMAIN} proto=https`), backendSeen.join("\n"));
                assert.equal(backendSeen.length, paths.length);
            } else assert.deepEqual(backendSeen, []);
        });

        test("other app paths (e.g. /auth/sign_up, /backupsX) stay 410", async () => {
            for (const p of ["/auth/sign_up", "/backupsX", "/settings/profile", "/admin/dashboard"]) {
                assert.equal((await request({ tls: true, port: httpsPort, path: p })).status, 410, p);
            }
        });

        test("ACME challenge over plain HTTP answers 200", async () => {
            const r = await request({ tls: false, port: httpPort, path: "/.well-known/acme-challenge/token" });
            assert.equal(r.status, 200);
            assert.equal(r.body, "acme-token\n");
        });

        test(`plain HTTP elsewhere: ${mode === "gone-except-downloads" ? "redirect to HTTPS" : "410"}`, async () => {
            const r = await request({ tls: false, port: httpPort, path: "/users/alice" });
            if (mode === "gone-except-downloads") {
                assert.equal(r.status, 301);
                assert.equal(r.headers.location, `https://${DOMAIN}/users/alice`);
            } else assert.equal(r.status, 410);
        });
    });
}
