// The guard rails (policy/guard-rails.ts) as functions, on resources shaped as the engine hands them to a
// policy pack: each rule refuses what it exists for and lets the closure's own shapes through. The engine
// running the pack is test/policy.test.ts; the real closure under it at every stage, test/pipeline.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { known, noPlainSecrets, parkedDnsKept, plainCredentials, stagesInOrder, verifiedDumpBeforeStop } from "../policy/guard-rails";

const STEP = "pulumi-nodejs:dynamic/closure:";
const opts = (o: Partial<PolicyResource["opts"]> = {}) => ({
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...o,
});
function resource(type: string, name: string, props: Record<string, any>, more: Partial<PolicyResource> = {}): PolicyResource {
    return {
        type,
        name,
        urn: `urn:pulumi:closing::mastodon-closure::${type}::${name}`,
        props,
        opts: opts(),
        dependencies: [],
        propertyDependencies: {},
        ...more,
    } as unknown as PolicyResource;
}
const stack = (outputs: Record<string, unknown>) => resource("pulumi:pulumi:Stack", "mastodon-closure-closing", outputs);

function violations(
    policy: { validateStack: (a: StackValidationArgs, r: (m: string, urn?: string) => void) => unknown },
    resources: PolicyResource[],
): string[] {
    const found: string[] = [];
    policy.validateStack({ resources } as StackValidationArgs, (message) => found.push(message));
    return found;
}
function resourceViolations(r: PolicyResource): string[] {
    const found: string[] = [];
    (noPlainSecrets.validateResource as (a: ResourceValidationArgs, r: (m: string) => void) => void)(r as unknown as ResourceValidationArgs, (m) =>
        found.push(m),
    );
    return found;
}

test("stages-in-order: a skip forward is refused with the stage to set first; one step, or back, passes; the journal must record the declared stage", () => {
    const journal = (stage: string) => resource(STEP + "StageJournal", "closure-journal", { params: { stage } });
    assert.deepEqual(violations(stagesInOrder, [stack({ stage: "closed", hostWasAt: "announced" }), journal("closed")]), []);
    assert.deepEqual(violations(stagesInOrder, [stack({ stage: "operating", hostWasAt: "dormant" }), journal("operating")]), []);
    assert.deepEqual(violations(stagesInOrder, [stack({ stage: "dormant", hostWasAt: "closed" }), journal("dormant")]), [
        'stage: stage "dormant" skips "self-destructing": the host is at "closed"; set stage to "self-destructing" first',
    ]);
    assert.deepEqual(violations(stagesInOrder, [stack({ stage: "closed", hostWasAt: "closed" }), journal("parked")]), [
        'the host\'s journal would record stage "parked" while the stack declares "closed"',
    ]);
    assert.match(violations(stagesInOrder, [stack({}), journal("closed")])[0], /does not say which stage it declares/);
});

test("verified-dump-before-services-stop: a stop needs the manifest of an intact dump step; starting again needs none", () => {
    const dump = (intact: boolean) => resource(STEP + "DatabaseDump", "closure-dump-file", { params: { intact } });
    const stop = (params: Record<string, unknown>, from: PolicyResource[] = []) =>
        resource(STEP + "StoppedServices", "closure-services-stopped", { params }, { propertyDependencies: { params: from } });
    const units = ["mastodon-web", "postgresql"];
    assert.deepEqual(violations(verifiedDumpBeforeStop, [stop({ units, dump: { path: "/d", sha256: "0" } }, [dump(true)])]), []);
    assert.deepEqual(violations(verifiedDumpBeforeStop, [stop({ units: [] })]), []);
    assert.match(violations(verifiedDumpBeforeStop, [stop({ units })])[0], /stops mastodon-web, postgresql without a database dump/);
    assert.match(violations(verifiedDumpBeforeStop, [stop({ units, dump: { path: "/d" } })])[0], /a dump that no DatabaseDump step of this stack made/);
    assert.match(violations(verifiedDumpBeforeStop, [stop({ units, dump: { path: "/d" } }, [dump(false)])])[0], /not checked intact/);
});

test("no-plain-text-secrets: no secret in a step's access, the SELF_DESTRUCT result declared secret; credentials named by path, never shown", () => {
    const step = (kind: string, props: Record<string, unknown>, secret: string[] = []) =>
        Object.assign(resource(STEP + kind, "s", props), { opts: opts({ additionalSecretOutputs: secret }) });
    const stepAccess = { ssh: { host: "203.0.113.10", user: "root", hostKey: "ssh-ed25519 AAAA" }, database: { user: "mastodon" }, stack: "o/p/s" };
    assert.deepEqual(resourceViolations(step("NginxSite", { access: stepAccess, params: { site: "/etc/nginx" } })), []);
    const withSecrets = {
        ...stepAccess,
        splitHosts: { proxy: { host: "203.0.113.11", privateKey: "hunter2" } },
        database: { user: "mastodon", password: "hunter2" },
        statusToken: "hunter2",
    };
    assert.deepEqual(resourceViolations(step("NginxSite", { access: withSecrets, params: {} })), [
        "access.database.password is a host step's input, which the engine logs at -v=9: the host steps read their secrets from the stack's config",
        "access.splitHosts.proxy.privateKey is a host step's input, which the engine logs at -v=9: the host steps read their secrets from the stack's config",
        "access.statusToken is a host step's input, which the engine logs at -v=9: the host steps read their secrets from the stack's config",
    ]);
    assert.deepEqual(resourceViolations(step("SelfDestructMode", { access: stepAccess, params: {} }, ["result"])), []);
    assert.match(
        resourceViolations(step("SelfDestructMode", { access: stepAccess, params: {} }))[0],
        /"result" \(the SELF_DESTRUCT value\) is not declared secret/,
    );
    const leaks = resourceViolations(step("Announcement", { params: { text: "SELF_DESTRUCT=abc123", list: ["postgres://mastodon:hunter2@db/m"] } }));
    assert.deepEqual(leaks, [
        "params.text holds a SELF_DESTRUCT value in plain text; make it a Pulumi secret",
        "params.list.0 holds a URL with a password in plain text; make it a Pulumi secret",
    ]);
    assert.ok(!leaks.join().includes("hunter2") && !leaks.join().includes("abc123"), "the values are never repeated");
    assert.deepEqual(
        plainCredentials({ __provider: "-----BEGIN RSA PRIVATE KEY-----", about: "https://example.org/" }, []),
        [],
        "the provider's code and plain URLs are not credentials",
    );
});

test("parked-dns-kept: no Cloudflare resource protected; at parked every address record proxied", () => {
    const record = (props: Record<string, unknown>, o = {}) =>
        Object.assign(resource("cloudflare:index/dnsRecord:DnsRecord", `edge-dns-${props.type}`, props), { opts: opts(o) });
    const at = (stage: string, ...rs: PolicyResource[]) => violations(parkedDnsKept, [stack({ stage, hostWasAt: stage }), ...rs]);
    assert.deepEqual(
        at(
            "parked",
            record({ type: "A", name: "social.example", content: "192.0.2.1", proxied: true }),
            record({ type: "MX", name: "social.example", content: ".", proxied: false }),
        ),
        [],
    );
    assert.match(
        at("parked", record({ type: "AAAA", name: "www.social.example", content: "2001:db8::1", proxied: false }))[0],
        /AAAA www\.social\.example is not proxied: visitors would reach 2001:db8::1/,
    );
    assert.deepEqual(
        at("dormant", record({ type: "A", name: "social.example", content: "203.0.113.5", proxied: false })),
        [],
        "moved back, the restored records are as they were",
    );
    const worker = Object.assign(resource("cloudflare:index/workersScript:WorkersScript", "edge-worker", {}), { opts: opts({ protect: true }) });
    assert.match(at("parked", worker)[0], /edge-worker is protected: a destroy or a move back would fail/);
});

test("known(): a value unknown in a preview reads as absent, any other error is thrown", () => {
    const props = new Proxy(
        { a: 1 },
        {
            get: (t, k) => {
                if (k === "later") throw new Error("string value at .later can't be known during preview");
                if (k === "bug") throw new TypeError("bug");
                return (t as any)[k];
            },
        },
    );
    assert.equal(known(props, "a"), 1);
    assert.equal(known(props, "later"), undefined);
    assert.throws(() => known(props, "bug"), TypeError);
});
