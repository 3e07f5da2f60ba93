// Checks a running server (nginx or the Worker in workerd) against the gone contract of lib/gone/contract.ts: every
// path of the contract with every kind of request, over real HTTP(S) on loopback.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as https from "node:https";
import { expectedAnswer, GONE_PATHS, REQUEST_KINDS, RequestKind } from "../../lib/gone/contract";

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
        const base = { host: "127.0.0.1", port: target.port, path, method: kind.method, headers: { Host: target.host, ...kind.headers }, agent: false as const };
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
