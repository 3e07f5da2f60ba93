// The parking Worker: the gone contract (lib/gone/contract.ts) as a Cloudflare Worker (module syntax), answering
// at the edge what the dormant host's nginx answers, with no origin behind it.
import { GONE_HEADERS, GONE_JSON, GONE_JSON_TYPE, GONE_PAGE_TYPE, GONE_STATUS, JSON_ACCEPT, JSON_PATHS } from "../../gone/contract";

/** The Workers runtime version the script is written for (also the one the tests run it with). */
export const WORKER_COMPATIBILITY_DATE = "2026-04-01";
export const WORKER_MAIN_MODULE = "worker.js";

/** The Worker's source, with the page embedded. */
export function workerSource(pageHtml: string): string {
    const j = (v: unknown) => JSON.stringify(v);
    return `// Managed by mastodon-closure: this domain is gone for good. Every path and method answers ${GONE_STATUS}.
const PAGE = ${j(pageHtml)};
const JSON_BODY = ${j(GONE_JSON)};
const JSON_ACCEPT = new RegExp(${j(JSON_ACCEPT)}, "i");
const JSON_PATHS = new RegExp(${j(JSON_PATHS)});
const HEADERS = ${j(GONE_HEADERS)};

export default {
    async fetch(request) {
        const json = JSON_ACCEPT.test(request.headers.get("Accept") ?? "") || JSON_PATHS.test(new URL(request.url).pathname);
        const headers = { ...HEADERS, "Content-Type": json ? ${j(GONE_JSON_TYPE)} : ${j(GONE_PAGE_TYPE)} };
        return new Response(request.method === "HEAD" ? null : json ? JSON_BODY : PAGE, { status: ${GONE_STATUS}, headers });
    },
};
`;
}
