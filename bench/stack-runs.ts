// Benchmarks 1, 3, 5 and 6, on one small sandbox and one closure stack, every run through the `pulumi` CLI
// in the project directory and the project's language host, as an operator runs them:
//  1. no-op `pulumi up --skip-preview` of the converged "closed" stage against the same command on an empty
//     TypeScript program (same CLI, language host and file:// backend), alternating, plus the parts of the
//     difference that can be timed on their own;
//  3. time to first 410: `up` from "announced" to "closed" against a shell script over OpenSSH doing the
//     same nginx change (rendered vhost from lib/nginx renderVhost, nginx -t, systemctl reload nginx), with
//     /users/alice polled through nginx every ~50 ms; both minus nothing, and the closure also minus an empty
//     program's up (the engine's own fixed cost);
//  5. a refused stage (a skip) at preview and at up, against the no-op up;
//  6. the peer: the same no-op check and converge as the Ansible playbook an admin would write (template +
//     validate + handler), against the closure's no-op up and converge.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openSandboxStack, PROJECT_ROOT, runPulumi, SandboxStack, sandboxEnv, NO_WAITS } from "../bin/sandbox-stack";
import { renderVhost } from "../lib/gone/nginx";
import { parseOriginalVhost } from "../lib/gone/original-vhost";
import { probeHost } from "../lib/host/probe";
import { parseSettings, Settings } from "../lib/rules/settings";
import { RemoteHost } from "../lib/host/ssh";
import { ORIGINAL_VHOST } from "../lib/host/records";
import type { Sandbox } from "../sandbox/client";
import { accessFor, bootCount, now, secs, sleep, sshScript, timed, withProgress } from "./common";

const SITE = "/etc/nginx/sites-available/mastodon";

/** Polls a path through the sandbox's nginx every `everyMs`, noting when a 410 first arrives. */
class StatusPoller {
    private stopped = false;
    private done: Promise<void>;
    private t0 = now();
    first410?: number;
    requests = 0;
    constructor(
        private sandbox: Sandbox,
        private path: string,
        private everyMs = 50,
    ) {
        this.done = this.loop();
    }
    /** Counts from here. */
    mark(): void {
        this.t0 = now();
        this.first410 = undefined;
    }
    private async loop(): Promise<void> {
        while (!this.stopped) {
            const sent = now();
            const status = await this.sandbox.http(this.path).then(
                (r) => r.status,
                () => 0,
            );
            this.requests++;
            if (status === 410 && this.first410 === undefined) this.first410 = now() - this.t0;
            await sleep(Math.max(0, this.everyMs - (now() - sent)));
        }
    }
    async waitFor410(timeoutMs: number): Promise<number> {
        const start = now();
        while (this.first410 === undefined) {
            if (now() - start > timeoutMs) throw new Error(`no 410 on ${this.path} within ${timeoutMs} ms`);
            await sleep(10);
        }
        return this.first410;
    }
    async stop(): Promise<void> {
        this.stopped = true;
        await this.done;
    }
}

export interface StackRuns {
    first410: { scriptMs: number[]; closureMs: number[]; closureUpMs: number[]; emptyUpMs: number[]; pollRequests: number };
    noop: {
        closureMs: number[];
        emptyMs: number[];
        bootsPerUp: number[];
        sshPerUp: number[];
        resources: number;
        probeMs: number[];
        sshConnectMs: number[];
        providerStartMs: number[];
        programLoadMs: number[];
    };
    refused: { previewMs: number[]; upMs: number[]; message: string };
    ansible?: { noopMs: number[]; convergeMs: number[]; closureConvergeMs: number[] };
}

/** The same change as the closure's `closed` stage, as an operator's shell script over OpenSSH. */
function scriptFor(vhost: string): string {
    const eof = "MASTODON_CLOSURE_BENCH_VHOST";
    if (vhost.includes(eof)) throw new Error("vhost contains the heredoc delimiter");
    return `set -e\ncat > ${SITE} <<'${eof}'\n${vhost}${eof}\nnginx -t 2>/dev/null\nsystemctl reload nginx\n`;
}

function settingsFor(sandbox: Sandbox, stage: string): Settings {
    const info = sandbox.info;
    const values: Record<string, string> = {
        stage,
        host: info.address,
        sshPort: String(info.sshPort),
        sshUser: info.sshUser,
        sshHostKey: info.hostKey,
        sshPrivateKey: "(read from the sandbox)",
        domain: info.domain,
        databasePassword: info.dbPassword,
        closingDate: new Date().toISOString().slice(0, 10),
        successor: "successor.example",
    };
    return parseSettings({ get: (k) => values[k], isSecret: (k) => k === "sshPrivateKey" || k === "databasePassword" });
}

/** `pulumi up --yes --skip-preview` on the stack, timed; fails unless it succeeds with `expect` changes. */
async function up(s: SandboxStack, label: string): Promise<number> {
    const r = await withProgress(label, () => timed(() => s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"])));
    if (r.value.code !== 0) throw new Error(`${label} failed:\n${r.value.output.slice(-2000)}`);
    return r.ms;
}

/** An empty TypeScript program in its own project, run by the same CLI and language host. */
async function emptyProgram(dir: string): Promise<() => Promise<number>> {
    writeFileSync(join(dir, "Pulumi.yaml"), "name: bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-empty", private: true }));
    writeFileSync(join(dir, "index.ts"), "export = async () => ({});\n");
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"));
    mkdirSync(join(dir, "state"));
    const env = { ...sandboxEnv(), PULUMI_BACKEND_URL: `file://${join(dir, "state")}` };
    const run = async (args: string[]) => {
        const r = await timed(() => runPulumi([...args, "--non-interactive"], env, { cwd: dir }));
        if (r.value.code !== 0) throw new Error(`empty program: pulumi ${args.join(" ")} failed:\n${r.value.output}`);
        return r.ms;
    };
    await run(["stack", "init", "empty"]);
    await run(["up", "--yes", "--skip-preview"]);
    return () => run(["up", "--yes", "--skip-preview"]);
}

function nodeMs(script: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const t0 = now();
        const p = spawn(process.execPath, ["-e", script], { cwd: PROJECT_ROOT, stdio: "ignore" });
        p.on("error", reject);
        p.on("close", (code) => (code === 0 ? resolve(now() - t0) : reject(new Error(`node -e ${script} exited ${code}`))));
    });
}

/** The dynamic provider's start as the engine waits for it: from spawn to the port it prints. The engine
 *  address is loopback port 1, which it does not dial before printing its port. */
function providerReadyMs(): Promise<number> {
    return new Promise((resolve, reject) => {
        const t0 = now();
        const p = spawn(process.execPath, [join(PROJECT_ROOT, "node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"), "127.0.0.1:1"], {
            cwd: PROJECT_ROOT,
            stdio: ["ignore", "pipe", "ignore"],
        });
        p.on("error", reject);
        p.stdout.on("data", (chunk: Buffer) => {
            if (/^\d+\s*$/m.test(chunk.toString())) {
                resolve(now() - t0);
                p.kill();
            }
        });
        p.on("close", (code) => reject(new Error(`the dynamic provider exited ${code} before printing its port`)));
    });
}

/** SSH sessions the sandbox's sshd accepted so far (its own log, see sandbox/host/systemctl). */
async function sshLogins(sandbox: Sandbox): Promise<number> {
    return sandbox.sshSessions();
}

export async function stackRuns(sandbox: Sandbox, opts: { trials: number; ansible: boolean }): Promise<StackRuns> {
    mkdirSync(join(PROJECT_ROOT, ".state"), { recursive: true });
    const emptyDir = mkdtempSync(join(PROJECT_ROOT, ".state", "bench-empty-"));
    const s = await openSandboxStack(sandbox.info, { requestArchives: "true", ...NO_WAITS });
    try {
        const emptyUp = await emptyProgram(emptyDir);

        // --- 3. time to first 410 -------------------------------------------------------------------
        const original = (await sandbox.exec(`cat ${SITE}`)).stdout;
        const closed = settingsFor(sandbox, "closed");
        const vhost = renderVhost("gone-except-downloads", closed.domain, parseOriginalVhost(original, closed.domain), {
            domain: closed.domain,
            closingDate: closed.closingDate,
            successor: closed.successor,
        });
        const script = scriptFor(vhost);
        const poller = new StatusPoller(sandbox, "/users/alice");
        const f: StackRuns["first410"] = { scriptMs: [], closureMs: [], closureUpMs: [], emptyUpMs: [], pollRequests: 0 };
        try {
            for (let i = 0; i < opts.trials; i++) {
                await s.set({ stage: "announced" });
                await up(s, `trial ${i + 1}: up to announced (setup, not timed)`);
                await sandbox.exec(`cp -p ${SITE} /root/bench-vhost-original`);
                poller.mark();
                const r = await sshScript(sandbox.info, script);
                if (r.code !== 0) throw new Error(`the nginx script failed (exit ${r.code}): ${r.stderr}`);
                f.scriptMs.push(await poller.waitFor410(30_000));
                const restore = await sandbox.exec(`cp -p /root/bench-vhost-original ${SITE} && nginx -t 2>/dev/null && systemctl reload nginx`);
                if (restore.code !== 0) throw new Error(`restoring the original vhost failed: ${restore.stderr}`);
                for (let k = 0; (await sandbox.http("/users/alice")).status !== 200; k++) {
                    if (k > 200) throw new Error("/users/alice never answered 200 again");
                    await sleep(50);
                }
                f.emptyUpMs.push(await emptyUp());
                await s.set({ stage: "closed" });
                poller.mark();
                f.closureUpMs.push(await up(s, `trial ${i + 1}: up announced → closed (timed)`));
                f.closureMs.push(await poller.waitFor410(5000));
                console.log(
                    `   trial ${i + 1}: script ${secs(f.scriptMs[i])}; closure first 410 after ${secs(f.closureMs[i])}, up ${secs(f.closureUpMs[i])}; empty up ${secs(f.emptyUpMs[i])}`,
                );
            }
        } finally {
            await poller.stop();
        }
        f.pollRequests = poller.requests;

        // --- 1. no-op up, alternating with the empty program ----------------------------------------
        const n: StackRuns["noop"] = {
            closureMs: [],
            emptyMs: [],
            bootsPerUp: [],
            sshPerUp: [],
            resources: 0,
            probeMs: [],
            sshConnectMs: [],
            providerStartMs: [],
            programLoadMs: [],
        };
        const noopTrials = Math.max(5, opts.trials);
        for (let i = 0; i < noopTrials; i++) {
            const [b0, l0] = [await bootCount(sandbox), await sshLogins(sandbox)];
            const r = await timed(() => s.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]));
            if (r.value.code !== 0) throw new Error(`no-op up failed:\n${r.value.output}`);
            const same = /(\d+) unchanged/.exec(r.value.output);
            if (/\d+ (created|updated|deleted|replaced)/.test(r.value.output) || !same) throw new Error(`the "no-op" up changed something:\n${r.value.output}`);
            n.resources = Number(same[1]);
            n.closureMs.push(r.ms);
            n.bootsPerUp.push((await bootCount(sandbox)) - b0);
            n.sshPerUp.push((await sshLogins(sandbox)) - l0);
            n.emptyMs.push(await emptyUp());
            console.log(
                `   no-op up ${i + 1}: closure ${secs(n.closureMs[i])} (${n.resources} unchanged, ${n.bootsPerUp[i]} Rails boot(s), ${n.sshPerUp[i]} SSH session(s)); empty ${secs(n.emptyMs[i])}`,
            );
        }
        const access = accessFor(sandbox.info);
        for (let i = 0; i < noopTrials; i++) {
            n.probeMs.push((await timed(() => probeHost(access, closed))).ms);
            n.sshConnectMs.push((await timed(() => RemoteHost.with(access.ssh, (h) => h.run("true", { label: "true" })))).ms);
            n.providerStartMs.push(await providerReadyMs());
            n.programLoadMs.push(await nodeMs("require('./dist/program')"));
        }

        // --- 5. a refused stage ----------------------------------------------------------------------
        // Confirmed, so that what refuses it is the skip itself, not the missing confirmation.
        await s.set({ stage: "dormant", confirmSelfDestruct: sandbox.info.domain });
        const refused: StackRuns["refused"] = { previewMs: [], upMs: [], message: "" };
        for (let i = 0; i < noopTrials; i++) {
            const p = await timed(() => s.pulumi(["preview", "--non-interactive"]));
            const u = await timed(() => s.pulumi(["up", "--yes", "--non-interactive"]));
            for (const r of [p, u])
                if (r.value.code === 0 || !/skips "self-destructing"/.test(r.value.output)) throw new Error(`the skip was not refused:\n${r.value.output}`);
            refused.previewMs.push(p.ms);
            refused.upMs.push(u.ms);
            refused.message = /error: (stage: stage "dormant" skips[^\n]*)/.exec(u.value.output)?.[1] ?? "";
        }
        console.log(`   refused skip: preview ${refused.previewMs.map(secs).join(", ")}; up ${refused.upMs.map(secs).join(", ")}`);
        await s.set({ stage: "closed", confirmSelfDestruct: undefined });

        // --- 6. the Ansible peer ---------------------------------------------------------------------
        const ansible = opts.ansible ? await ansiblePeer(sandbox, s, vhost, emptyDir, opts.trials) : undefined;
        return { first410: f, noop: n, refused, ansible };
    } finally {
        await s.remove();
        rmSync(emptyDir, { recursive: true, force: true });
    }
}

/**
 * The playbook an admin would write for the `closed` front: the vhost from a template, checked by nginx
 * before the reload (a handler, as geerlingguy.nginx does), over the same SSH access with become.
 */
async function ansiblePeer(sandbox: Sandbox, s: SandboxStack, vhost: string, dir: string, trials: number): Promise<StackRuns["ansible"]> {
    const info = sandbox.info;
    const a = join(dir, "ansible");
    mkdirSync(a);
    writeFileSync(join(a, "closed.conf.j2"), `{% raw %}${vhost}{% endraw %}`);
    writeFileSync(
        join(a, "inventory.ini"),
        `mastodon ansible_host=${info.address} ansible_user=${info.sshUser} ansible_ssh_private_key_file=${info.sshPrivateKeyPath} ` +
            `ansible_ssh_common_args='-o UserKnownHostsFile=${info.root}/client/known_hosts -o StrictHostKeyChecking=yes' ansible_python_interpreter=/usr/bin/python3\n`,
    );
    writeFileSync(
        join(a, "closed.yml"),
        `- hosts: mastodon
  become: true
  gather_facts: false
  tasks:
    - name: the closed vhost (410 except sign-in and downloads)
      ansible.builtin.template:
        src: closed.conf.j2
        dest: ${SITE}
        owner: root
        group: root
        mode: "0644"
        backup: true
      notify: reload nginx
  handlers:
    # Validate, then reload: two handlers on one topic run in this order (a block cannot be a handler).
    - name: validate nginx configuration
      ansible.builtin.command: nginx -t
      changed_when: false
      listen: reload nginx
    # systemctl as a command: Ansible's systemd module reads properties the sandbox's systemctl does not show.
    - name: reload nginx service
      ansible.builtin.command: systemctl reload nginx
      listen: reload nginx
`,
    );
    const play = async () => {
        const r = await timed(
            () =>
                new Promise<{ code: number; out: string }>((resolve, reject) => {
                    const p = spawn("ansible-playbook", ["-i", "inventory.ini", "closed.yml"], {
                        cwd: a,
                        env: { ...process.env, ANSIBLE_HOST_KEY_CHECKING: "True", ANSIBLE_NOCOLOR: "1" },
                    });
                    let out = "";
                    p.stdout.on("data", (d) => (out += d));
                    p.stderr.on("data", (d) => (out += d));
                    p.on("error", reject);
                    p.on("close", (code) => resolve({ code: code ?? 1, out }));
                }),
        );
        if (r.value.code !== 0) throw new Error(`ansible-playbook failed:\n${r.value.out}`);
        return { ms: r.ms, changed: /changed=([1-9])/.test(r.value.out) };
    };
    const result = { noopMs: [] as number[], convergeMs: [] as number[], closureConvergeMs: [] as number[] };
    const original = (await sandbox.exec(`cat ${ORIGINAL_VHOST}`)).stdout;
    for (let i = 0; i < trials; i++) {
        // Converge from the server's own vhost, for both.
        await s.set({ stage: "announced" });
        await up(s, `ansible trial ${i + 1}: closure back to announced (setup)`);
        const c = await play();
        if (!c.changed) throw new Error("the playbook's converge changed nothing");
        result.convergeMs.push(c.ms);
        const n = await play();
        if (n.changed) throw new Error("the playbook's second run changed something");
        result.noopMs.push(n.ms);
        await sandbox.exec(`cat > ${SITE} && nginx -t 2>/dev/null && systemctl reload nginx`, original);
        await s.set({ stage: "closed" });
        result.closureConvergeMs.push(await up(s, `ansible trial ${i + 1}: closure converge to closed (timed)`));
        console.log(`   ansible trial ${i + 1}: playbook converge ${secs(c.ms)}, no-op ${secs(n.ms)}; closure converge ${secs(result.closureConvergeMs[i])}`);
    }
    return result;
}
