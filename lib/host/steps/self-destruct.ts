// Mastodon's self-destruct (one-way): SELF_DESTRUCT in .env.production from 4.3 on, the legacy tootctl
// command before; either only while nginx, asked on the host, answers 410 to the fediverse.
import { createHash } from "node:crypto";
import { envFile, restartMastodonLine } from "../../mastodon/deployment";
import { envValue } from "../../mastodon/self-destruct";
import { shq } from "../../mastodon/shell";
import { versionAtLeast } from "../../mastodon/version";
import { firstStage } from "../../rules/stages";
import { nginxAnswers, railsRunner, readEnvProduction, selfDestructModeOnHost, tootctl } from "../reads";
import { RemoteHost } from "../ssh";
import { Step } from "./step";
import { fediversePaths } from "./vhost";

export interface SelfDestructParams {
    domain: string;
    mastodonVersion: string;
    /** Mastodon is in self-destruct mode: SELF_DESTRUCT in .env.production verifies (4.3+). */
    enabled: true;
}

/** Refuses a one-way step unless nginx, asked on its host (the proxy's) now, answers 410 on the fediverse paths. */
async function require410(host: RemoteHost, domain: string, what: string): Promise<void> {
    const paths = fediversePaths(domain);
    const proxy = await host.on("proxy");
    const codes = await nginxAnswers(proxy, domain, paths);
    const wrong = paths.map((r, i) => ({ ...r, code: codes[i] })).filter((r) => r.code !== "410");
    if (wrong.length) {
        throw new Error(
            `${what} refused, nothing was changed: nginx on the host${proxy === host ? "" : ` in front (${proxy.target.host})`} answers ${wrong.map((w) => `${w.code} to ${w.method} ${w.path.split("?")[0]}`).join(", ")}, ` +
                `not 410: the closure's 410 vhost is not what nginx serves. Run up at stage "${firstStage((s) => s.front !== "original")}" first (or put the closure vhost back)`,
        );
    }
}

/** The legacy command's time limit: it signs and queues a Delete for every local account in one process. */
const LEGACY_SELF_DESTRUCT_LIMIT_SECONDS = 4 * 3600;

/** The sha256 of a SELF_DESTRUCT value: what the step records of it, to see it replaced. The value itself
 *  stays on the host (and in the provider's process): a step's result crosses the engine, which logs it. */
const fingerprint = (value: string) => createHash("sha256").update(value).digest("hex");

type SelfDestructResult = { valueSha256: string; enabledAt: string; mode: string };

/** What the state keeps of a result. One recorded by an earlier version held the value itself (declared
 *  secret): a refresh, or the next apply, records its sha256 instead. */
function recorded(result: SelfDestructResult | { value: string; enabledAt: string; mode: string }): SelfDestructResult {
    if (!("value" in result)) return result;
    const { value, ...rest } = result;
    return { ...rest, valueSha256: value ? fingerprint(value) : "" };
}

/** One-way. 4.3+: the SELF_DESTRUCT value goes into .env.production (on stdin, never in argv) and the
 *  Mastodon services restart once; a value already there is kept only if it verifies (else Mastodon would
 *  silently stay out of self-destruct mode) and is replaced by the one Rails generates. Before 4.3: the
 *  legacy `tootctl self-destruct`, answered and time-limited. Either runs only while nginx, asked on the
 *  host at that moment, answers 410 to the fediverse. */
export const selfDestruct: Step<SelfDestructParams, SelfDestructResult> = {
    async apply(host, access, p, previousResult) {
        const previous = previousResult && recorded(previousResult);
        if (!versionAtLeast(p.mastodonVersion, 4, 3)) {
            if (previous) return previous;
            await require410(host, p.domain, "self-destruct");
            const out = await tootctl(host, access, "self-destruct", { answers: [p.domain, "y"], limitSeconds: LEGACY_SELF_DESTRUCT_LIMIT_SECONDS });
            const said = /Queued \d+ items into Sidekiq for \d+ accounts|It seems like your server has not federated with anything/.exec(out);
            if (!said)
                throw new Error(
                    `the legacy tootctl self-destruct ended without saying it queued the deletions: ${out.trim().split("\n").pop() ?? "(no output)"}`,
                );
            return { valueSha256: "", enabledAt: new Date().toISOString(), mode: `legacy tootctl self-destruct: ${said[0]}` };
        }
        const envText = await readEnvProduction(host, access);
        const existing = envValue(envText, "SELF_DESTRUCT") ?? "";
        const existingWorks = await selfDestructModeOnHost(host, access, envText);
        if (previous && fingerprint(existing) === previous.valueSha256 && existingWorks) return previous;
        await require410(host, p.domain, "self-destruct");
        const value = existingWorks ? existing : String((await railsRunner(host, access, "self_destruct_value.rb", {})).value);
        if (value !== existing) {
            await host.run(
                `set -e; f=${shq(envFile(access.deployment))}; IFS= read -r value; t=$(mktemp "$f.XXXXXX")
grep -Ev '^[[:space:]]*(export[[:space:]]+)?SELF_DESTRUCT[[:space:]]*=' "$f" > "$t" || true
printf 'SELF_DESTRUCT=%s\\n' "$value" >> "$t"
chown --reference="$f" "$t"; chmod --reference="$f" "$t"; mv -f "$t" "$f"`,
                {
                    stdin: `${value}\n`,
                    label: existing ? "replace the SELF_DESTRUCT in .env.production that does not verify" : "write SELF_DESTRUCT to .env.production",
                },
            );
            if (!(await selfDestructModeOnHost(host, access, await readEnvProduction(host, access)))) {
                throw new Error(
                    `the SELF_DESTRUCT value Rails generated does not verify in .env.production on ${host.target.host}: check SECRET_KEY_BASE and LOCAL_DOMAIN there`,
                );
            }
        }
        await host.run(restartMastodonLine(access.deployment), { label: "restart Mastodon into self-destruct mode" });
        return { valueSha256: fingerprint(value), enabledAt: previous?.enabledAt ?? new Date().toISOString(), mode: "SELF_DESTRUCT" };
    },
    async read(host, access, p, result) {
        if (result.mode !== "SELF_DESTRUCT") return { params: p, result: recorded(result) };
        const enabled = await selfDestructModeOnHost(host, access, await readEnvProduction(host, access));
        return { params: { ...p, enabled: enabled as true }, result: recorded(result) };
    },
    // One-way: accounts are being deleted on other servers. Nothing to undo.
    async undo() {},
};
