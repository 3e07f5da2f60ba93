// The vhosts the closure puts in place of the server's own (which is kept, byte for byte, to restore).
// Rendered from the original's TLS and listen lines so certificates and addresses stay as they were.
import type { FrontMode } from "./stages";

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

export interface GonePage {
    domain: string;
    closingDate?: string;
    successor?: string;
}

/** HTML-escaped, and safe inside an nginx string: `$` would start a variable, `\\` an escape. */
function escapeHtml(s: string): string {
    return s.replace(/[&<>"'$\\]/g, (c) => `&#${c.charCodeAt(0)};`);
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

/** The vhost for a closing stage. "original" has no rendering: the kept original is restored instead. */
export function renderVhost(mode: Exclude<FrontMode, "original">, domain: string, original: OriginalVhost, page: GonePage): string {
    const q = (s: string) => s.replace(/'/g, "\\'");
    const gone = `default_type text/html;\n        return 410 '${q(gonePageHtml(page))}';`;
    const listen = (ls: string[]) => ls.map((l) => `    listen ${l};`).join("\n");
    const acme = `    location /.well-known/acme-challenge/ {\n        root ${original.root};\n        allow all;\n    }`;
    const httpServer =
        mode === "gone-everywhere"
            ? `    location / {\n        ${gone}\n    }`
            : `    location / {\n        return 301 https://$host$request_uri;\n    }`;
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
${upstream}server {
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
    location / {
        ${gone}
    }
}
`;
}
