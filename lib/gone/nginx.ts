// The vhosts the closure puts in place of the server's own (which is kept, byte for byte, to restore).
// Rendered from what the original says about TLS, listening, names, headers and the backend, so
// certificates (certbot's included), addresses and the hardening of the server stay as they were.
import {
    EXPORT_PATH,
    GONE_HEADERS,
    GONE_JSON,
    GONE_JSON_TYPE,
    GONE_PAGE_TYPE,
    GONE_STATUS,
    JSON_ACCEPT,
    JSON_PATHS,
    KEPT_FILE_DIRS,
    KEPT_ROUTES,
} from "./contract";
import type { FrontMode } from "./contract";
import type { OriginalVhost } from "./original-vhost";
import { closedPage, goneForGoodPage, GonePage } from "./page";

/** The gone contract (lib/gone/contract.ts) in nginx: which body a request gets, decided by path and Accept; and,
 *  while users take their data, which requests still reach the app (method and path). */
function maps(keep: boolean): string {
    const kept = KEPT_ROUTES.map((r) => `    "~^(${r.methods.join("|")}) ${r.pattern.slice(1)}" 1;`).join("\n");
    return `map $uri $mastodon_closure_json_path {
    default 0;
    "~${JSON_PATHS}" 1;
}

map $http_accept $mastodon_closure_gone_json {
    default $mastodon_closure_json_path;
    "~*${JSON_ACCEPT}" 1;
}
${
    keep
        ? `
# Routes Mastodon keeps in self-destruct mode (the controllers that skip check_self_destruct!).
map "$request_method $uri" $mastodon_closure_kept {
    default 0;
${kept}
}
`
        : ""
}
`;
}

const addHeaders = (headers: [string, string][], indent: string) => headers.map(([k, v]) => `${indent}add_header ${k} ${v} always;`).join("\n");

/** The contract's answers at `location /` of a server: the page, or JSON through a named location; with
 *  `keep`, the kept routes go to the app first. */
function goneLocations(pageHtml: string, hsts: [string, string][], keep: boolean): string {
    const q = (s: string) => s.replace(/'/g, "\\'");
    const headers = addHeaders([...Object.entries(GONE_HEADERS).map(([k, v]) => [k, `"${v}"`] as [string, string]), ...hsts], "        ");
    const toApp = keep ? `        error_page 419 = @mastodon_closure_app;\n        if ($mastodon_closure_kept) {\n            return 419;\n        }\n` : "";
    return `    location / {
${toApp}        error_page 418 = @mastodon_closure_gone_json;
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

/** Static files and the kept app routes, as Mastodon's dist/nginx.conf serves them (its headers kept). */
function keptLocations(original: OriginalVhost, hsts: [string, string][]): string {
    const files = KEPT_FILE_DIRS.map((dir) => {
        const headers: [string, string][] =
            dir === "system"
                ? [
                      ["Cache-Control", `"public, max-age=2419200, immutable"`],
                      ...hsts,
                      ["X-Content-Type-Options", "nosniff"],
                      ["Content-Security-Policy", `"default-src 'none'; form-action 'none'"`],
                  ]
                : [["Cache-Control", `"public, max-age=2419200, must-revalidate"`], ...hsts];
        return `    location ^~ /${dir}/ {\n${addHeaders(headers, "        ")}\n        try_files $uri =404;\n    }`;
    }).join("\n\n");
    const timeout = original.proxyReadTimeout ? `        proxy_read_timeout ${original.proxyReadTimeout};\n` : "";
    return `
    # Media, user archives and the static files the sign-in and export pages load.
${files}

    # Sign-in, archive download and data export reach Rails while users take their data. After signing in,
    # Mastodon sends users home (/), which is the 410 page now: they land on the export page instead.
    location @mastodon_closure_app {
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Proxy "";
        proxy_pass_header Server;
        # Only a redirect home is rewritten: an archive download's redirect to object storage passes as it is.
        proxy_redirect ~^(https?://[^/]+)?/$ https://$host${EXPORT_PATH};
${timeout}${hsts.length ? addHeaders(hsts, "        ") + "\n" : ""}        proxy_pass http://mastodon_closure_backend;
    }
`;
}

/** The first line of every vhost the closure renders: how the steps (lib/host/steps/vhost.ts) tell a vhost of
 *  the closure's from the server's own. */
export const CLOSURE_VHOST_MARK = "# Managed by mastodon-closure";

/** The vhost for a closing stage. "original" has no rendering: the kept original is restored instead. */
export function renderVhost(mode: Exclude<FrontMode, "original">, domain: string, original: OriginalVhost, page: GonePage): string {
    const keep = mode === "gone-except-downloads";
    const hsts: [string, string][] = original.hsts ? [["Strict-Transport-Security", original.hsts]] : [];
    const pageHtml = keep ? closedPage(page) : goneForGoodPage(page);
    const gone = goneLocations(pageHtml, hsts, keep);
    const listen = (ls: string[]) => ls.map((l) => `    listen ${l};`).join("\n");
    const names = (ns: string[]) => (ns.length ? ns : [domain]).join(" ");
    const acme = `    location /.well-known/acme-challenge/ {\n        root ${original.root};\n        allow all;\n    }`;
    const httpServer = original.httpListen.length
        ? `server {
${listen(original.httpListen)}
    server_name ${names(original.httpServerNames)};

${acme}

${keep ? `    location / {\n        return 301 https://$host$request_uri;\n    }` : goneLocations(pageHtml, [], false)}
}

`
        : `# No plain-HTTP server for ${domain} in the server's own site: the one it has elsewhere stays as it is.\n\n`;
    const upstream = keep ? `upstream mastodon_closure_backend {\n    server ${original.backend} fail_timeout=0;\n}\n\n` : "";
    const kept = original.redirectServers.length
        ? `# Kept as the server's own site has them: they only redirect.\n${original.redirectServers.join("\n\n")}\n\n`
        : "";
    return `${CLOSURE_VHOST_MARK} (stage front mode: ${mode}). The server's own vhost is kept in the
# closure's state directory on this host and is restored here when the closure moves back.
${upstream}${maps(keep)}${httpServer}${kept}server {
${listen(original.httpsListen)}
    server_name ${names(original.serverNames)};

${original.tls.map((l) => `    ${l}`).join("\n")}

    root ${original.root};
${keep ? keptLocations(original, hsts) : ""}
${gone}
}
`;
}
