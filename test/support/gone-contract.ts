// Checks a running server (nginx or the Worker in workerd) against the gone contract of lib/gone/contract.ts: every
// path of the contract with every kind of request, over real HTTP(S) on loopback. The kinds of request and the
// answer the contract asks for each are the tests' own, so they live here rather than in lib/.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as https from "node:https";
import { GONE_HEADERS, GONE_JSON, GONE_JSON_TYPE, GONE_PAGE_TYPE, GONE_PATHS, GONE_STATUS, JSON_ACCEPT, JSON_PATHS } from "../../lib/gone/contract";

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
    {
        name: "GET ld+json (ActivityStreams profile)",
        method: "GET",
        headers: { Accept: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"' },
    },
    { name: "GET jrd+json", method: "GET", headers: { Accept: "application/jrd+json" } },
    { name: "GET JSON in upper case", method: "GET", headers: { Accept: "Application/Activity+JSON" } },
    { name: "HEAD browser", method: "HEAD", headers: { Accept: BROWSER_ACCEPT } },
    { name: "HEAD activity+json", method: "HEAD", headers: { Accept: "application/activity+json" } },
    {
        name: "POST delivery",
        method: "POST",
        headers: { Accept: "application/activity+json", "Content-Type": "application/activity+json" },
        body: '{"type":"Delete","actor":"https://remote.example/users/bob"}',
    },
    {
        name: "POST form",
        method: "POST",
        headers: { Accept: BROWSER_ACCEPT, "Content-Type": "application/x-www-form-urlencoded" },
        body: "user%5Bemail%5D=a%40b.example",
    },
    { name: "PUT JSON", method: "PUT", headers: { Accept: "application/json", "Content-Type": "application/json" }, body: "{}" },
    { name: "DELETE", method: "DELETE", headers: { Accept: "application/json" } },
    { name: "OPTIONS", method: "OPTIONS", headers: {} },
];

export interface Answer {
    status: number;
    body: string;
    headers: http.IncomingHttpHeaders;
}

export interface Target {
    port: number;
    tls: boolean;
    /** The Host (and TLS server name) to send. */
    host: string;
}

/** One real HTTP request; the body is read as UTF-8. */
export function request(target: Target, path: string, kind: Pick<RequestKind, "method" | "headers" | "body">): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const base = {
            host: "127.0.0.1",
            port: target.port,
            path,
            method: kind.method,
            headers: { Host: target.host, ...kind.headers },
            agent: false as const,
        };
        const req = target.tls ? https.request({ ...base, servername: target.host, rejectUnauthorized: false }) : http.request(base);
        req.on("response", (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }));
        });
        req.on("error", reject);
        req.setTimeout(10_000, () => req.destroy(new Error(`timeout ${kind.method} ${path}`)));
        req.end(kind.body);
    });
}

export interface ContractCase {
    path: string;
    kind: RequestKind;
}

/** Every row of the contract: each path's example with each kind of request. */
export function contractCases(domain: string, skip: (path: string, kind: RequestKind) => boolean = () => false): ContractCase[] {
    const paths = [...new Set(GONE_PATHS.map((p) => p.example.replace("{domain}", domain)))];
    return paths.flatMap((path) => REQUEST_KINDS.map((kind) => ({ path, kind }))).filter((c) => !skip(c.path, c.kind));
}

/** Which body a request gets: the decision the nginx vhost and the Worker both make, each in its own terms. */
function goneBody(path: string, accept: string | undefined): "json" | "page" {
    return new RegExp(JSON_ACCEPT, "i").test(accept ?? "") || new RegExp(JSON_PATHS).test(path) ? "json" : "page";
}

interface GoneAnswer {
    status: number;
    contentType: string;
    /** Exact body; empty for HEAD. */
    body: string;
    headers: Readonly<Record<string, string>>;
}

/** What the contract says a request must get, with `page` the host's 410 page. */
function expectedAnswer(path: string, kind: RequestKind, page: string): GoneAnswer {
    const json = goneBody(path.replace(/\?.*$/, ""), kind.headers.Accept) === "json";
    return {
        status: GONE_STATUS,
        contentType: json ? GONE_JSON_TYPE : GONE_PAGE_TYPE,
        body: kind.method === "HEAD" ? "" : json ? GONE_JSON : page,
        headers: GONE_HEADERS,
    };
}

/** Sends every case to `target` and asserts the contract's answer; returns how many were checked. */
export async function assertContract(target: Target, page: string, cases: ContractCase[]): Promise<number> {
    const failures: string[] = [];
    for (const { path, kind } of cases) {
        const got = await request(target, path, kind);
        const want = expectedAnswer(path, kind, page);
        const problems: string[] = [];
        if (got.status !== want.status) problems.push(`status ${got.status}, want ${want.status}`);
        if (got.headers["content-type"] !== want.contentType) problems.push(`content-type ${got.headers["content-type"]}, want ${want.contentType}`);
        if (got.body !== want.body) problems.push(`body ${JSON.stringify(got.body.slice(0, 80))}..., want ${JSON.stringify(want.body.slice(0, 80))}...`);
        for (const [name, value] of Object.entries(want.headers)) {
            if (got.headers[name.toLowerCase()] !== value) problems.push(`${name}: ${got.headers[name.toLowerCase()]}, want ${value}`);
        }
        if (problems.length) failures.push(`${kind.name} ${path}: ${problems.join("; ")}`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} requests broke the gone contract`);
    return cases.length;
}
