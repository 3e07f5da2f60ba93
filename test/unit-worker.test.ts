// The parking Worker (lib/edge/cloudflare/worker.ts) run for real: Cloudflare's workerd runtime, started by miniflare on
// loopback, answering real HTTP requests. Checked against the same gone contract as the nginx vhosts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { GONE_PATHS } from "../lib/gone/contract";
import { GonePage, goneForGoodPage } from "../lib/gone/page";
import { WORKER_COMPATIBILITY_DATE, WORKER_MAIN_MODULE, workerSource } from "../lib/edge/cloudflare/worker";
import { assertContract, contractCases, REQUEST_KINDS, request, Target } from "./support/gone-contract";

const DOMAIN = "social.example";

async function startWorker(page: string): Promise<{ mf: Miniflare; target: Target }> {
    const mf = new Miniflare({
        modules: [{ type: "ESModule", path: WORKER_MAIN_MODULE, contents: workerSource(page) }],
        compatibilityDate: WORKER_COMPATIBILITY_DATE,
        host: "127.0.0.1",
        port: 0,
    });
    const url = await mf.ready;
    return { mf, target: { port: Number(url.port), tls: false, host: DOMAIN } };
}

for (const language of ["en", "ja"] as const) {
    describe(`the Worker in workerd, page in ${language} first`, () => {
        const page: GonePage = { domain: DOMAIN, closingDate: "2026-06-01", successor: "https://next.example", language };
        const html = goneForGoodPage(page);
        let mf: Miniflare;
        let target: Target;

        before(async () => {
            ({ mf, target } = await startWorker(html));
        });
        after(async () => {
            await mf?.dispose();
        });

        test("every path and kind of request of the gone contract", async () => {
            const cases = contractCases(DOMAIN);
            assert.equal(cases.length, new Set(GONE_PATHS.map((p) => p.example)).size * REQUEST_KINDS.length);
            assert.equal(await assertContract(target, html, cases), cases.length);
        });

        test("the page arrives byte for byte, Japanese included, as UTF-8", async () => {
            const r = await request(target, "/@alice", { method: "GET", headers: { Accept: "text/html" } });
            assert.equal(r.status, 410);
            assert.equal(Buffer.byteLength(r.body), Buffer.byteLength(html));
            assert.ok(r.body.includes("閉鎖しました"), r.body);
            assert.equal(r.body, html);
        });

        test("other hosts of the route and long, odd paths answer the same", async () => {
            for (const host of [`www.${DOMAIN}`, `files.${DOMAIN}`]) {
                const r = await request({ ...target, host }, "/users/alice", { method: "GET", headers: { Accept: "application/activity+json" } });
                assert.deepEqual([r.status, r.body], [410, '{"error":"Gone"}'], host);
            }
            const odd = await request(target, `/${"a/".repeat(300)}?x=${"%00".repeat(10)}`, { method: "PATCH", headers: {} });
            assert.equal(odd.status, 410);
            assert.equal(odd.body, html);
        });
    });
}

test("a page without a successor still renders and runs (no link)", async () => {
    const html = goneForGoodPage({ domain: DOMAIN });
    const { mf, target } = await startWorker(html);
    try {
        const r = await request(target, "/", { method: "GET", headers: {} });
        assert.equal(r.body, html);
        assert.ok(!r.body.includes("<a "));
    } finally {
        await mf.dispose();
    }
});
