// The server's own vhost as the closure reads it: what it says about TLS, listening, names, headers and the
// backend, which the 410 vhosts (nginx.ts) keep; a shape the closure cannot close safely is refused here.
//
// A refusal names the line and what kind of thing is there, never what the file says (server names, include
// paths, directive names other than those the closure knows): previews are posted on pull requests, and the
// file read is whatever nginxSite names under /etc/nginx/. What it quotes is the closure's own: the domain,
// directive names from its lists below, the redirect it asks for.
import { allDirectives, Directive, lineOf, parseNginxConf, renderDirective, unquote } from "./nginx-conf";
export interface OriginalVhost {
    /** `server_name` of the domain's TLS server (the domain, maybe with other names it serves). */
    serverNames: string[];
    /** `listen` parameters of the domain's plain-HTTP server, e.g. ["80", "[::]:80"]; empty when the site has
     *  none (the admin's port-80 server lives elsewhere and stays as it is). */
    httpListen: string[];
    httpServerNames: string[];
    /** `listen` parameters of the TLS server, e.g. ["443 ssl http2", "[::]:443 ssl http2"]. */
    httpsListen: string[];
    sslCertificate: string;
    sslCertificateKey: string;
    /** The TLS server's TLS directives as written (ssl_*, http2, certbot's options include), one per line. */
    tls: string[];
    /** Mastodon's public directory (the vhost's `root`). */
    root: string;
    /** Upstream of the Rails backend, e.g. "127.0.0.1:3000". */
    backend: string;
    /** The server's HSTS header value as written (with its quotes), when it sends one. */
    hsts?: string;
    /** `proxy_read_timeout` towards the backend, when the server sets one (4.5+: 120). */
    proxyReadTimeout?: string;
    /** Server blocks for other names that only redirect (www, certbot's port-80 redirect): kept as written. */
    redirectServers: string[];
}

/** Includes of TLS settings that may stay in the closure's TLS server (certbot's options, ssl snippets). */
const TLS_INCLUDE = /letsencrypt|ssl|tls/i;
/** Directives of a server that only redirects. */
const REDIRECT_ONLY = new Set([
    "listen",
    "server_name",
    "return",
    "if",
    "location",
    "access_log",
    "error_log",
    "root",
    "allow",
    "deny",
    "include",
    "http2",
    "http3",
    "add_header",
]);

const listensOf = (server: Directive) => (server.block ?? []).filter((d) => d.name === "listen").map((d) => d.args.join(" "));
const namesOf = (server: Directive) => (server.block ?? []).filter((d) => d.name === "server_name").flatMap((d) => d.args.map(unquote));
const isTls = (listen: string) => /(^|\s)(ssl|quic)(\s|$)/.test(listen);

/** Directives that serve requests, named when a server that should only redirect has them. */
const SERVING = new Set([
    "proxy_pass",
    "fastcgi_pass",
    "uwsgi_pass",
    "scgi_pass",
    "grpc_pass",
    "memcached_pass",
    "try_files",
    "alias",
    "rewrite",
    "index",
    "autoindex",
]);

/** Directives by their names when those are among the closure's own words (never the file's), and their
 *  lines; the first five. */
function placesOf(text: string, ds: Directive[]): string {
    const place = (d: Directive) => `${SERVING.has(d.name) ? d.name : "a directive"} on line ${lineOf(text, d.start)}`;
    return ds.slice(0, 5).map(place).join(", ") + (ds.length > 5 ? `, and ${ds.length - 5} more` : "");
}

/** Lines, as "line 3" or "lines 3, 7". */
function linesOf(text: string, ds: Directive[]): string {
    const lines = [...new Set(ds.map((d) => lineOf(text, d.start)))];
    return `line${lines.length > 1 ? "s" : ""} ${lines.join(", ")}`;
}

/**
 * Read what the closure's vhosts keep from the server's own site file; throws, saying what to do, when the
 * site has a shape the closure cannot close safely. The domain's servers are found by server_name; other
 * servers in the file are kept only when they merely redirect.
 */
export function parseOriginalVhost(text: string, domain: string): OriginalVhost {
    let conf: Directive[];
    try {
        conf = parseNginxConf(text);
    } catch (e) {
        // The parser's message names a line, never the text there (nginx-conf.ts).
        throw new Error(`the nginx site cannot be read (${(e as Error).message}); check it with nginx -t`);
    }
    const servers = conf.filter((d) => d.name === "server");
    const ours = servers.filter((s) => namesOf(s).some((n) => n.toLowerCase() === domain.toLowerCase()));
    if (ours.length === 0) {
        throw new Error(`the nginx site has no server block with server_name ${domain}; set nginxSite to the file that holds the vhost of ${domain}`);
    }
    const tlsServers = ours.filter((s) => listensOf(s).some(isTls));
    if (tlsServers.length === 0) {
        throw new Error(
            `the nginx site has no \`listen ... ssl\` line in a server for ${domain}; the closure needs its TLS server in this file ` +
                `(it replaces one file): if the TLS server of ${domain} is in another file, put the whole vhost of ${domain} in one file and set nginxSite to it`,
        );
    }
    if (tlsServers.length > 1) {
        throw new Error(`the nginx site has ${tlsServers.length} TLS server blocks for ${domain}; keep one (nginx serves only the first) and preview again`);
    }
    const tlsServer = tlsServers[0];
    const top = tlsServer.block ?? [];
    const inTls = allDirectives(top);

    const foreignIncludes = top.filter((d) => d.name === "include" && !TLS_INCLUDE.test(d.args.join(" ")));
    if (foreignIncludes.length > 0) {
        throw new Error(
            `the TLS server of ${domain} includes a file on ${linesOf(text, foreignIncludes)} of the nginx site, which the closure does not read ` +
                `(it may route requests past the 410): copy what it holds into the site file, then preview again`,
        );
    }

    const direct = (name: string) => top.filter((d) => d.name === name);
    const value = (name: string, what: string): string => {
        const d = direct(name)[0];
        if (!d) {
            const includes = top.filter((i) => i.name === "include");
            const hint = includes.length ? ` (if it is in a file included on ${linesOf(text, includes)}, put the line in the site file itself)` : "";
            throw new Error(`the nginx site has no ${what} in the TLS server of ${domain}; the closure needs it to render its 410 vhost${hint}`);
        }
        return d.args.map(unquote).join(" ");
    };
    const sslCertificate = value("ssl_certificate", "ssl_certificate");
    const sslCertificateKey = value("ssl_certificate_key", "ssl_certificate_key");
    const tls = top.filter((d) => d.name.startsWith("ssl_") || d.name === "http2" || d.name === "include").map(renderDirective);

    const httpServers = ours.filter((s) => listensOf(s).some((l) => !isTls(l)));
    const httpListen = [...new Set(httpServers.flatMap((s) => listensOf(s).filter((l) => !isTls(l))))];
    const httpServerNames = [...new Set(httpServers.flatMap(namesOf))];

    const rootOf = (s: Directive) =>
        (s.block ?? [])
            .find((d) => d.name === "root")
            ?.args.map(unquote)
            .join(" ");
    const root = rootOf(tlsServer) ?? httpServers.map(rootOf).find((r) => r !== undefined);
    if (!root) throw new Error(`the nginx site has no root; the closure needs it to render its 410 vhost (Mastodon's public directory)`);

    // The backend: the upstream the TLS server proxies to (outside the streaming location), else `backend`.
    const upstreams = new Map(
        conf.filter((d) => d.name === "upstream").map((u) => [u.args[0], (u.block ?? []).find((d) => d.name === "server")?.args[0]] as const),
    );
    const streaming = new Set(allDirectives(top.filter((d) => d.name === "location" && d.args.join(" ").includes("/api/v1/streaming"))));
    const pass = inTls.find((d) => d.name === "proxy_pass" && !streaming.has(d));
    const target = pass ? /^https?:\/\/([^/]+)/.exec(unquote(pass.args[0]))?.[1] : undefined;
    const backend = (target && (upstreams.get(target) ?? (target.includes(":") ? target : undefined))) ?? upstreams.get("backend") ?? "127.0.0.1:3000";

    const hsts = inTls.find((d) => d.name === "add_header" && d.args[0]?.toLowerCase() === "strict-transport-security")?.args[1];
    const proxyReadTimeout = (direct("proxy_read_timeout")[0] ?? inTls.find((d) => d.name === "proxy_read_timeout"))?.args[0];

    const redirectServers: string[] = [];
    for (const s of servers.filter((s) => !ours.includes(s))) {
        const serving = allDirectives(s.block ?? []).filter((d) => !REDIRECT_ONLY.has(d.name) && !d.name.startsWith("ssl_"));
        const returns = allDirectives(s.block ?? []).some((d) => d.name === "return" && /^30[1278]$/.test(d.args[0]));
        if (serving.length > 0 || !returns) {
            throw new Error(
                `the server block on line ${lineOf(text, s.start)} of the nginx site does more than redirect ` +
                    `(${placesOf(text, serving) || "no return 301"}): ` +
                    `the closure answers 410 for ${domain} and cannot tell what that server is for. Make it redirect (return 301 https://${domain}$request_uri;), ` +
                    `or move it to a file of its own, then preview again`,
            );
        }
        redirectServers.push(text.slice(s.start, s.end));
    }

    return {
        serverNames: namesOf(tlsServer),
        httpListen,
        httpServerNames,
        httpsListen: listensOf(tlsServer).filter(isTls),
        sslCertificate,
        sslCertificateKey,
        tls,
        root,
        backend,
        ...(hsts ? { hsts } : {}),
        ...(proxyReadTimeout ? { proxyReadTimeout } : {}),
        redirectServers,
    };
}
