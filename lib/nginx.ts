// The vhosts the closure puts in place of the server's own (which is kept, byte for byte, to restore).
// Rendered from the original's TLS and listen lines so certificates and addresses stay as they were.
import { escapeHtml, GONE_HEADERS, GONE_JSON, GONE_JSON_TYPE, GONE_PAGE_TYPE, GONE_STATUS, goneForGoodPage, GonePage, JSON_ACCEPT, JSON_PATHS } from "./gone";
import type { FrontMode } from "./stages";

export type { GonePage } from "./gone";

export interface OriginalVhost {
    /** `listen` parameters of the plain-HTTP server, e.g. ["80", "[::]:80"]. */
    httpListen: string[];
    /** `listen` parameters of the TLS server, e.g. ["443 ssl", "[::]:443 ssl"]. */
    httpsListen: string[];
    sslCertificate: string;
    sslCertificateKey: string;
    /** Mastodon's public directory (the vhost's `root`). */
    root: string;
    /** Upstream of the Rails backend, e.g. "127.0.0.1:3000". */
    backend: string;
}

/** Read what the closure's vhosts keep from the original; throws naming what is missing. */
export function parseOriginalVhost(text: string): OriginalVhost {
    const noComments = text.replace(/#[^\n]*/g, "");
    const all = (re: RegExp) => [...noComments.matchAll(re)].map((m) => m[1].trim().replace(/\s+/g, " "));
    const listens = all(/^\s*listen\s+([^;]+);/gm);
    const first = (what: string, re: RegExp): string => {
        const v = all(re)[0];
        if (!v) throw new Error(`the nginx site has no ${what}; the closure needs it to render its 410 vhost`);
        return v;
    };
    const backendBlock = /upstream\s+backend\s*\{([^}]*)\}/.exec(noComments)?.[1] ?? "";
    const backend = /server\s+([^\s;]+)/.exec(backendBlock)?.[1] ?? "127.0.0.1:3000";
    const httpsListen = listens.filter((l) => /\bssl\b/.test(l));
    const httpListen = listens.filter((l) => !/\bssl\b/.test(l));
    if (httpsListen.length === 0) throw new Error("the nginx site has no `listen ... ssl` line; the closure needs its TLS server");
    return {
        httpListen: httpListen.length ? httpListen : ["80"],
        httpsListen,
        sslCertificate: first("ssl_certificate", /^\s*ssl_certificate\s+([^;]+);/gm),
        sslCertificateKey: first("ssl_certificate_key", /^\s*ssl_certificate_key\s+([^;]+);/gm),
        root: first("root", /^\s*root\s+([^;]+);/gm),
        backend,
    };
}

/** The body of every 410: a short page for people; servers only read the status. */
export function gonePageHtml(page: GonePage): string {
    const successor = page.successor
        ? ` Its community continues at <a href="https://${escapeHtml(page.successor.replace(/^https:\/\//, ""))}">${escapeHtml(page.successor.replace(/^https:\/\//, ""))}</a>.`
        : "";
    const date = page.closingDate ? ` on ${escapeHtml(page.closingDate)}` : "";
    return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(page.domain)} has closed</title></head><body><h1>${escapeHtml(page.domain)} has closed${date}.</h1><p>This Mastodon server is gone for good.${successor}</p></body></html>`;
}

/** Paths the Rails app still serves while closed: sign-in, archive and CSV export downloads. */
export const DOWNLOAD_APP_PATHS = "^/(auth/(sign_in|sign_out|password)|backups/|settings/export)";
/** Static files the sign-in and export pages load (as in Mastodon's dist/nginx.conf). */
export const STATIC_PATHS = "^/(assets|avatars|emoji|headers|packs|shortcuts|sounds)/";

/** The gone contract (lib/gone.ts) in nginx: which body a request gets, decided by path and Accept. */
const GONE_MAPS = `map $uri $mastodon_closure_json_path {
    default 0;
    "~${JSON_PATHS}" 1;
}

map $http_accept $mastodon_closure_gone_json {
    default $mastodon_closure_json_path;
    "~*${JSON_ACCEPT}" 1;
}

`;

/** The contract's answers at `location /` of a server: the page, or JSON through a named location. */
function goneLocations(pageHtml: string): string {
    const q = (s: string) => s.replace(/'/g, "\\'");
    const headers = Object.entries(GONE_HEADERS).map(([k, v]) => `        add_header ${k} "${v}" always;`).join("\n");
    return `    location / {
        error_page 418 = @mastodon_closure_gone_json;
        if ($mastodon_closure_gone_json) {
            return 418;
        }
        default_type "${GONE_PAGE_TYPE}";
${headers}
        return ${GONE_STATUS} '${q(pageHtml)}';
    }

    location @mastodon_closure_gone_json {
        default_type "${GONE_JSON_TYPE}";
${headers}
        return ${GONE_STATUS} '${q(GONE_JSON)}';
    }`;
}

/** The vhost for a closing stage. "original" has no rendering: the kept original is restored instead. */
export function renderVhost(mode: Exclude<FrontMode, "original">, domain: string, original: OriginalVhost, page: GonePage): string {
    const gone = goneLocations(mode === "gone-everywhere" ? goneForGoodPage(page) : gonePageHtml(page));
    const listen = (ls: string[]) => ls.map((l) => `    listen ${l};`).join("\n");
    const acme = `    location /.well-known/acme-challenge/ {\n        root ${original.root};\n        allow all;\n    }`;
    const httpServer = mode === "gone-everywhere" ? gone : `    location / {\n        return 301 https://$host$request_uri;\n    }`;
    const downloads =
        mode === "gone-except-downloads"
            ? `
    # Media and user archives stored locally.
    location /system/ {
        try_files $uri =404;
    }

    location = /sw.js {
        try_files $uri =404;
    }

    location ~ ${STATIC_PATHS} {
        try_files $uri =404;
    }

    # Sign-in, archive download and data export stay reachable while users fetch their data.
    location ~ ${DOWNLOAD_APP_PATHS} {
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_pass http://mastodon_closure_backend;
    }
`
            : "";
    const upstream =
        mode === "gone-except-downloads" ? `upstream mastodon_closure_backend {\n    server ${original.backend} fail_timeout=0;\n}\n\n` : "";
    return `# Managed by mastodon-closure (stage front mode: ${mode}). The server's own vhost is kept next to
# this file as *.closure-original and is restored when the closure moves back.
${upstream}${GONE_MAPS}server {
${listen(original.httpListen)}
    server_name ${domain};

${acme}

${httpServer}
}

server {
${listen(original.httpsListen)}
    server_name ${domain};

    ssl_certificate ${original.sslCertificate};
    ssl_certificate_key ${original.sslCertificateKey};

    root ${original.root};
${downloads}
${gone}
}
`;
}
