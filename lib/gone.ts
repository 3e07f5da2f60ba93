// The "gone" contract: what a closed Mastodon domain answers, in one place. The nginx vhosts
// (lib/nginx.ts) and the parking Worker (lib/worker.ts) are both rendered from it, and both are tested
// against it (test/support/gone-contract.ts): every path below, with every kind of request.
//
// Every path and method answers 410. The body follows Mastodon's own self-destruct answer
// (ApplicationController#check_self_destruct!): JSON `{"error":"Gone"}` where the client asked for JSON
// (Mastodon registers application/json, activity+json, ld+json and jrd+json as its :json format,
// config/initializers/mime_types.rb) or where the path only ever answers JSON; the page otherwise.
import type { Language } from "./settings";

export const GONE_STATUS = 410;
export const GONE_JSON = JSON.stringify({ error: "Gone" });
export const GONE_PAGE_TYPE = "text/html; charset=utf-8";
export const GONE_JSON_TYPE = "application/json; charset=utf-8";
/** The same for every answer: browsers and caches may keep a 410 for an hour (short enough that a closure
 *  moved back is visible soon), and the body depends on Accept. */
export const GONE_HEADERS: Readonly<Record<string, string>> = {
    "Cache-Control": "public, max-age=3600",
    Vary: "Accept",
};

/** `Accept` values that ask for JSON (a regular expression, case-insensitive; nginx and JavaScript alike). */
export const JSON_ACCEPT = "application/((activity|ld|jrd)\\+)?json";

export interface GonePath {
    /** Regular expression on the path (no query string), anchored at the start. */
    pattern: string;
    /** A request path it covers; the tests send it to every server. `{domain}` is the server's domain. */
    example: string;
    /** JSON whatever the Accept header says (the path only ever answers JSON), or the page for browsers. */
    answer: "json" | "by-accept";
    why: string;
}

/**
 * The paths of the contract. Paths answering JSON by path come first: they are what remote servers and
 * apps call. A path added here is rendered into the nginx vhosts and the Worker and tested on both.
 */
export const GONE_PATHS: readonly GonePath[] = [
    { pattern: "^/api/", example: "/api/v1/instance", answer: "json", why: "Mastodon's REST API (apps)" },
    { pattern: "^/api/", example: "/api/v2/search?q=alice", answer: "json", why: "REST API with a query" },
    { pattern: "^/\\.well-known/webfinger$", example: "/.well-known/webfinger?resource=acct:alice@{domain}", answer: "json", why: "WebFinger: a 410 makes remote servers drop the account" },
    { pattern: "^/\\.well-known/nodeinfo$", example: "/.well-known/nodeinfo", answer: "json", why: "NodeInfo discovery (crawlers, server lists)" },
    { pattern: "^/nodeinfo/", example: "/nodeinfo/2.0", answer: "json", why: "NodeInfo document" },
    { pattern: "^/inbox$", example: "/inbox", answer: "json", why: "shared inbox: deliveries get a 4xx and are not retried" },
    { pattern: "^/users/[^/]+/(inbox|outbox|followers|following|collections/)", example: "/users/alice/inbox", answer: "json", why: "actor inbox and collections (ActivityPub only)" },
    { pattern: "^/actor$", example: "/actor", answer: "json", why: "the instance actor (ActivityPub only)" },
    { pattern: "^/oauth/token$", example: "/oauth/token", answer: "json", why: "OAuth token endpoint (apps)" },
    { pattern: "^/", example: "/users/alice", answer: "by-accept", why: "actor: JSON for servers, the page for browsers" },
    { pattern: "^/", example: "/users/alice/statuses/1", answer: "by-accept", why: "status URI" },
    { pattern: "^/", example: "/@alice", answer: "by-accept", why: "profile page" },
    { pattern: "^/", example: "/", answer: "by-accept", why: "home page" },
    { pattern: "^/", example: "/about", answer: "by-accept", why: "about page" },
    { pattern: "^/", example: "/tags/%E6%97%A5%E6%9C%AC", answer: "by-accept", why: "non-ASCII path (a hashtag)" },
    { pattern: "^/", example: "/.well-known/host-meta", answer: "by-accept", why: "host-meta (XRD)" },
    { pattern: "^/", example: "/system/media_attachments/files/000/000/001/original/a.png", answer: "by-accept", why: "local media" },
    { pattern: "^/", example: "/auth/sign_in", answer: "by-accept", why: "sign-in" },
    { pattern: "^/", example: "/backups/1/download", answer: "by-accept", why: "archive download" },
    { pattern: "^/", example: "/packs/app.js", answer: "by-accept", why: "static files" },
];

/** One regular expression for the paths that answer JSON whatever Accept says. */
export const JSON_PATHS = [...new Set(GONE_PATHS.filter((p) => p.answer === "json").map((p) => p.pattern))].map((p) => `(${p})`).join("|");

/** Which body a request gets: the decision the nginx vhost and the Worker both make. */
export function goneBody(path: string, accept: string | undefined): "json" | "page" {
    return new RegExp(JSON_ACCEPT, "i").test(accept ?? "") || new RegExp(JSON_PATHS).test(path) ? "json" : "page";
}

/** Kinds of request each path of the contract is sent with. */
export interface RequestKind {
    name: string;
    method: string;
    headers: Record<string, string>;
    body?: string;
}

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
export const REQUEST_KINDS: readonly RequestKind[] = [
    { name: "browser GET", method: "GET", headers: { Accept: BROWSER_ACCEPT, "Accept-Language": "ja,en;q=0.8" } },
    { name: "GET without Accept", method: "GET", headers: {} },
    { name: "GET Accept */*", method: "GET", headers: { Accept: "*/*" } },
    { name: "GET application/json", method: "GET", headers: { Accept: "application/json" } },
    { name: "GET activity+json", method: "GET", headers: { Accept: "application/activity+json" } },
    { name: "GET ld+json (ActivityStreams profile)", method: "GET", headers: { Accept: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"' } },
    { name: "GET jrd+json", method: "GET", headers: { Accept: "application/jrd+json" } },
    { name: "GET JSON in upper case", method: "GET", headers: { Accept: "Application/Activity+JSON" } },
    { name: "HEAD browser", method: "HEAD", headers: { Accept: BROWSER_ACCEPT } },
    { name: "HEAD activity+json", method: "HEAD", headers: { Accept: "application/activity+json" } },
    { name: "POST delivery", method: "POST", headers: { Accept: "application/activity+json", "Content-Type": "application/activity+json" }, body: '{"type":"Delete","actor":"https://remote.example/users/bob"}' },
    { name: "POST form", method: "POST", headers: { Accept: BROWSER_ACCEPT, "Content-Type": "application/x-www-form-urlencoded" }, body: "user%5Bemail%5D=a%40b.example" },
    { name: "PUT JSON", method: "PUT", headers: { Accept: "application/json", "Content-Type": "application/json" }, body: "{}" },
    { name: "DELETE", method: "DELETE", headers: { Accept: "application/json" } },
    { name: "OPTIONS", method: "OPTIONS", headers: {} },
];

export interface GoneAnswer {
    status: number;
    contentType: string;
    /** Exact body; empty for HEAD. */
    body: string;
    headers: Readonly<Record<string, string>>;
}

/** What the contract says a request must get, with `page` the host's 410 page. */
export function expectedAnswer(path: string, kind: RequestKind, page: string): GoneAnswer {
    const json = goneBody(path.replace(/\?.*$/, ""), kind.headers.Accept) === "json";
    return {
        status: GONE_STATUS,
        contentType: json ? GONE_JSON_TYPE : GONE_PAGE_TYPE,
        body: kind.method === "HEAD" ? "" : json ? GONE_JSON : page,
        headers: GONE_HEADERS,
    };
}

// --- the page -------------------------------------------------------------------------------------------

export interface GonePage {
    domain: string;
    closingDate?: string;
    successor?: string;
    /** The language shown first; the page carries both. Default en. */
    language?: Language;
}

/** HTML-escaped, and safe inside an nginx string: `$` would start a variable, `\\` an escape. */
export function escapeHtml(s: string): string {
    return s.replace(/[&<>"'$\\]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page of a domain gone for good (dormant and parked), in English and Japanese. */
export function goneForGoodPage(page: GonePage): string {
    const domain = escapeHtml(page.domain);
    const successorName = page.successor ? escapeHtml(page.successor.replace(/^https:\/\//, "")) : undefined;
    const link = successorName ? `<a href="https://${successorName}">${successorName}</a>` : "";
    const date = page.closingDate ? escapeHtml(page.closingDate) : undefined;
    const sections: Record<Language, string> = {
        en:
            `<section lang="en"><h1>${domain} has closed${date ? ` on ${date}` : ""}.</h1>` +
            `<p>This Mastodon server is gone for good. Its accounts and posts have been deleted.${link ? ` Its community continues at ${link}.` : ""}</p></section>`,
        ja:
            `<section lang="ja"><h1>${domain} は${date ? ` ${date} に` : ""}閉鎖しました。</h1>` +
            `<p>この Mastodon サーバーは完全に終了し、アカウントと投稿は削除されました。${link ? `コミュニティは ${link} で続いています。` : ""}</p></section>`,
    };
    const first = page.language ?? "en";
    const order: Language[] = first === "ja" ? ["ja", "en"] : ["en", "ja"];
    return (
        `<!doctype html><html lang="${first}"><head><meta charset="utf-8"><meta name="robots" content="noindex">` +
        `<title>${domain} has closed / 閉鎖しました</title></head><body>${order.map((l) => sections[l]).join("<hr>")}</body></html>`
    );
}
