// The GitOps pipeline (.github/workflows), run here: each job's own steps, in order (test/support/workflow.ts),
// against a sandbox host and a local backend, in a copy of the project as the checkout, with the stack
// `closing` the operator made once. A pull request moves `stage`; its preview is posted on the pull request
// (updated, not duplicated) and leaves the host byte for byte as it was; the merge runs `up`; the scheduled
// check passes on a converged host, fails (and opens, updates, then closes an issue) after hand changes on the
// host, and says when a waiting gate lets the next stage in. The guard rails run in every preview and up:
// the real closure passes them at every stage. GitHub's API is the stand-in in support/fake-gh.ts.
import assert from "node:assert/strict";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ENGINE_BIN, PROJECT_ROOT, runPulumi } from "../bin/sandbox-stack";
import { Sandbox, startSandbox } from "../sandbox/client";
import { expectStatus, hostSnapshot, status, waitFor } from "./support/e2e";
import { FakeGitHub, readFake } from "./support/fake-gh";
import { JobRun, runJob } from "./support/workflow";

const REPOSITORY = "example/closure";
const PR = 7;
const PASSPHRASE = "pipeline-test-passphrase";
const SITE = "/etc/nginx/sites-available/mastodon";
const day = (n: number) => new Date(Date.now() + n * 86400_000).toISOString().slice(0, 10);

mkdirSync(join(PROJECT_ROOT, ".state"), { recursive: true });
const checkout = mkdtempSync(join(PROJECT_ROOT, ".state", "pipeline-"));
const backend = `file://${join(checkout, ".backend")}`;
const fakeState = join(checkout, ".github-state.json");
let sandbox: Sandbox;

before(async () => {
    for (const f of [
        "Pulumi.yaml",
        "index.js",
        "program.ts",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "lib",
        "components",
        "rails",
        "policy",
        "scripts",
        ".github",
    ]) {
        cpSync(join(PROJECT_ROOT, f), join(checkout, f), { recursive: true });
    }
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(checkout, "node_modules"));
    mkdirSync(join(checkout, ".backend"));
    mkdirSync(join(checkout, ".bin"));
    writeFileSync(join(checkout, ".bin", "gh"), `#!/bin/sh\nexec node ${join(PROJECT_ROOT, "dist", "test", "support", "fake-gh.js")} "$@"\n`);
    chmodSync(join(checkout, ".bin", "gh"), 0o755);
    const fake: FakeGitHub = {
        repository: REPOSITORY,
        nextId: 100,
        issues: [{ number: PR, title: "Move the closure on", body: "", state: "open", labels: [], pull_request: {} }],
        comments: [],
    };
    writeFileSync(fakeState, JSON.stringify(fake));

    sandbox = await startSandbox({ sidekiqTickMs: 300, accounts: 3 });
    // What the operator does once (README, The pipeline): the stack in the backend, its plain settings in
    // Pulumi.closing.yaml; the secrets stay in the repository's secrets.
    await operator(["stack", "init"]);
    const settings = {
        stage: "operating",
        host: sandbox.info.address,
        sshPort: String(sandbox.info.sshPort),
        sshUser: sandbox.info.sshUser,
        sshHostKey: sandbox.info.hostKey,
        domain: sandbox.info.domain,
        closingDate: day(1),
        successor: "successor.example",
        downloadGraceDays: "0",
        goneDays: "0",
        minimumNoticeDays: "0",
    };
    await operator(["config", "set-all", ...Object.entries(settings).flatMap(([k, v]) => ["--plaintext", `mastodon-closure:${k}=${v}`])]);
});

after(async () => {
    await sandbox?.stop();
    rmSync(checkout, { recursive: true, force: true });
});

/** The operator's own `pulumi` in the checkout (a commit on the pull request's branch). */
async function operator(args: string[]): Promise<void> {
    const env = {
        PATH: `${ENGINE_BIN}:${process.env.PATH}`,
        PULUMI_BACKEND_URL: backend,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    const r = await runPulumi([...args, "--stack", "closing", "--non-interactive"], env, { cwd: checkout });
    assert.equal(r.code, 0, `pulumi ${args.join(" ")}: ${r.output}`);
}

const change = (settings: Record<string, string>) =>
    operator(["config", "set-all", ...Object.entries(settings).flatMap(([k, v]) => ["--plaintext", `mastodon-closure:${k}=${v}`])]);

function job(workflow: string, name: string): Promise<JobRun> {
    return runJob(join(checkout, ".github", "workflows", workflow), name, {
        cwd: checkout,
        secrets: {
            PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
            SSH_PRIVATE_KEY: readFileSync(sandbox.info.sshPrivateKeyPath, "utf8"),
            DATABASE_PASSWORD: sandbox.info.dbPassword,
        },
        vars: { PULUMI_BACKEND_URL: backend },
        github: {
            repository: REPOSITORY,
            token: "fake-token",
            run_id: String(Date.now()),
            event: { pull_request: { number: PR, head: { repo: { full_name: REPOSITORY } } } },
        },
        env: { ...(process.env as Record<string, string>), PATH: `${join(checkout, ".bin")}:${ENGINE_BIN}:${process.env.PATH}`, FAKE_GITHUB_STATE: fakeState },
    });
}

const steps = (run: JobRun) => run.steps.map((s) => `${s.name}: ${s.outcome}`).join("\n");
const tail = (run: JobRun) => `${steps(run)}\n${run.log.slice(-4000)}`;

async function expectJob(workflow: string, name: string, ok: boolean): Promise<JobRun> {
    const run = await job(workflow, name);
    assert.equal(run.ok, ok, `${workflow} ${name} ${run.ok ? "passed" : "failed"}, expected it to ${ok ? "pass" : "fail"}:\n${tail(run)}`);
    return run;
}

/** The host, byte for byte where the closure could write, and its services and rows. */
async function host(): Promise<string> {
    const files = await sandbox.exec(`sha256sum ${SITE} /home/mastodon/live/.env.production /var/lib/mastodon-closure/* 2>/dev/null; true`);
    return (await hostSnapshot(sandbox)) + files.stdout;
}

const github = () => readFake(fakeState);
const previewComments = () => github().comments.filter((c) => c.issue === PR && c.body.startsWith("<!-- mastodon-closure-preview:closing -->"));
const openIssue = (marker: string) => github().issues.filter((i) => i.state === "open" && i.body.startsWith(`<!-- mastodon-closure-${marker}:closing -->`));
const registrations = async () => (await sandbox.sql<{ value: string }>("SELECT value FROM settings WHERE var = 'registrations_mode'"))[0]?.value;

/** A pull request that changes settings: its preview, posted; the host untouched. Returns the comment. */
async function pullRequest(settings: Record<string, string>, expectInPreview: RegExp): Promise<string> {
    await change(settings);
    const before = await host();
    await expectJob("preview.yml", "preview", true);
    assert.equal(await host(), before, "the preview changed the host");
    const comments = previewComments();
    assert.equal(comments.length, 1, `one preview comment on the pull request, got ${comments.length}`);
    assert.match(comments[0].body, expectInPreview);
    return comments[0].body;
}

test("merged at operating: up runs with the guard rails, the scheduled check passes and opens no issue", async () => {
    const up = await expectJob("up.yml", "up", true);
    assert.match(up.summary, /now at `operating`/, up.summary);
    assert.match(up.log, /Policy Packs run:\s+Name\s+Version\s+mastodon-closure-guard-rails\|local\|policy\/analyzer\s+1\.0\.0/, "the guard rails ran in up");
    await expectJob("drift.yml", "drift", true);
    assert.deepEqual(openIssue("drift"), [], "no drift issue on a converged host");
});

test("a pull request moving stage to announced: the preview is posted, then updated on the next push; the host is untouched; the merge announces", async () => {
    const first = await pullRequest({ stage: "announced" }, /Announcement[^\n]*create/);
    assert.match(first, /Guard rails[^\n]*\n\n```\nPolicy Packs run:[\s\S]*mastodon-closure-guard-rails\|local\|policy\/analyzer/, first.slice(0, 2000));
    assert.match(first, /\n\*\*Resources:\*\* \+ \d+ to create/, first.slice(0, 2000));
    assert.match(first, /\n- next stage "closed": closingDateReached does not hold yet/, "the gates' figures, listed");
    const id = previewComments()[0].id;
    // A second push to the same pull request: the same comment, updated.
    await pullRequest({ stage: "announced", successor: "next.example" }, /next\.example/);
    assert.equal(previewComments()[0].id, id, "the comment of the first push was updated, not a new one posted");

    await expectJob("up.yml", "up", true);
    const [{ n }] = await sandbox.sql<{ n: number }>("SELECT count(*)::int AS n FROM announcements");
    assert.ok(n > 0, `no announcement on the host after the merge (${n})`);
});

test("the closing date is a day away: the scheduled check says closed cannot be entered yet; once the date is reached, that it can", async () => {
    await expectJob("drift.yml", "drift", true);
    let [issue] = openIssue("next");
    assert.ok(issue, `no issue on the next stage: ${JSON.stringify(github().issues)}`);
    assert.match(issue.body, /the next stage, `closed`, cannot be entered yet/, issue.body);
    assert.match(issue.body, /next stage "closed": closingDateReached does not hold yet \(1 day\(s\) left/, issue.body);

    // Time passes (here: the date moves to today, merged to main).
    await change({ closingDate: day(0) });
    await expectJob("up.yml", "up", true);
    await expectJob("drift.yml", "drift", true);
    [issue] = openIssue("next");
    assert.match(issue.body, /the next stage, `closed`, can be entered now/, issue.body);
    const said = github().comments.filter((c) => c.issue === issue.number);
    assert.equal(said.length, 1, `one comment saying the stage can be entered: ${JSON.stringify(said)}`);
    assert.match(said[0].body, /`closed`, can be entered now/);
});

test("closed: the check fails on a hand-edited vhost and on reopened registrations (one issue, updated), passes after up repairs both (issue closed)", async () => {
    await pullRequest({ stage: "closed" }, /NginxSite[^\n]*update/);
    await expectJob("up.yml", "up", true);
    await expectStatus(sandbox, "/users/alice", 410);
    await expectJob("drift.yml", "drift", true);

    const edit = await sandbox.exec(`sed -i 's/return 410/return 200/' ${SITE} && nginx -t 2>/dev/null && systemctl reload nginx`);
    assert.equal(edit.code, 0, edit.stderr);
    await waitFor("nginx serving the hand edit", 10, async () => (await status(sandbox, "/users/alice")) === 200);
    const drifted = await expectJob("drift.yml", "drift", false);
    assert.deepEqual(
        drifted.steps.map((s) => s.outcome).slice(-2),
        ["failure", "success"],
        `the check fails and the issue step still runs:\n${steps(drifted)}`,
    );
    let issues = openIssue("drift");
    assert.equal(issues.length, 1, `one drift issue: ${JSON.stringify(issues)}`);
    assert.match(issues[0].body, /NginxSite[^\n]*update/, issues[0].body.slice(0, 3000));
    assert.match(issues[0].body, /return 200/, "the issue shows the edited line");

    const reopen = await sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl settings registrations open");
    assert.equal(reopen.code, 0, reopen.stderr);
    await expectJob("drift.yml", "drift", false);
    issues = openIssue("drift");
    assert.equal(issues.length, 1, `still one drift issue: ${JSON.stringify(issues)}`);
    assert.match(issues[0].body, /Registrations[^\n]*update/, issues[0].body.slice(0, 3000));
    assert.ok(
        github().comments.some((c) => c.issue === issues[0].number && /Still drifted/.test(c.body)),
        "the issue says it is still drifted",
    );

    // The up workflow, started by hand, repairs the host; the next check closes the issue.
    await expectJob("up.yml", "up", true);
    await expectStatus(sandbox, "/users/alice", 410, { why: "up put the 410 vhost back" });
    assert.match(String(await registrations()), /none/);
    await expectJob("drift.yml", "drift", true);
    assert.deepEqual(openIssue("drift"), [], "the drift issue is closed");
    const closed = github().issues.find((i) => i.number === issues[0].number)!;
    assert.equal(closed.state, "closed");
    assert.ok(github().comments.some((c) => c.issue === closed.number && /as the stack says again/.test(c.body)));
});

test("a pull request that skips a stage is refused by the preview, with the reason on the pull request; the host is untouched", async () => {
    const before = await host();
    await change({ stage: "dormant", confirmSelfDestruct: sandbox.info.domain });
    const run = await expectJob("preview.yml", "preview", false);
    assert.equal(await host(), before, "the refused preview changed the host");
    assert.equal(run.steps.at(-1)!.outcome, "success", `the comment is posted although the preview failed:\n${steps(run)}`);
    assert.match(
        previewComments()[0].body,
        /Preview of stack `closing` failed[^\n]*\n\nRun: [^\n]+\n\n\*\*Refused:\*\*\n\n```\nerror: stage: stage "dormant" skips "self-destructing"/,
    );
    await change({ stage: "closed" });
    await operator(["config", "rm", "mastodon-closure:confirmSelfDestruct"]);
});

test("self-destructing, dormant and parked through pull requests and merges; the check says when dormant can be entered and sees services started by hand", async () => {
    await pullRequest({ stage: "self-destructing", confirmSelfDestruct: sandbox.info.domain }, /SelfDestructMode[^\n]*create/);
    await expectJob("up.yml", "up", true);
    await waitFor("every deletion notice sent", 120, async () =>
        (await sandbox.exec("cd /home/mastodon/live && runuser -u mastodon -- bin/tootctl self-destruct </dev/null")).stdout.includes(
            "Every deletion notice has been sent",
        ),
    );
    await expectJob("drift.yml", "drift", true);
    const [next] = openIssue("next");
    assert.match(next.body, /the next stage, `dormant`, can be entered now/, next.body);

    await pullRequest({ stage: "dormant" }, /StoppedServices[^\n]*create/);
    await expectJob("up.yml", "up", true);
    await expectJob("drift.yml", "drift", true);
    const start = await sandbox.exec("systemctl start postgresql redis-server mastodon-web");
    assert.equal(start.code, 0, start.stderr);
    const drifted = await expectJob("drift.yml", "drift", false);
    assert.match(drifted.log, /StoppedServices[^\n]*update/, drifted.log.slice(-3000));
    assert.equal(openIssue("drift").length, 1, "a drift issue is opened again");
    await expectJob("up.yml", "up", true);
    const units = await sandbox.exec("systemctl is-active postgresql redis-server mastodon-web; true");
    assert.equal(units.stdout.trim(), "inactive\ninactive\ninactive", `up stopped the services again: ${units.stdout}`);
    await expectJob("drift.yml", "drift", true);
    assert.deepEqual(openIssue("drift"), [], "the drift issue is closed again");

    await pullRequest({ stage: "parked" }, /StageJournal[^\n]*update/);
    const up = await expectJob("up.yml", "up", true);
    assert.match(up.summary, /now at `parked`/, up.summary);
    await expectJob("drift.yml", "drift", true);
    assert.deepEqual(openIssue("next"), [], "no next stage after parked: the issue is closed");
});
