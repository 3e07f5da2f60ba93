// The front vhost (README: closed, dormant): the closure's 410 vhost in place of the server's own, which is
// kept byte for byte and put back on the way back; and what nginx, asked on the host, must answer for it.
import { CLOSURE_VHOST_MARK } from "../../gone/nginx";
import { CHECK_ACTOR_PATH, CHECK_USERNAME, SIGN_IN_PATH } from "../../gone/contract";
import { shq } from "../../mastodon/shell";
import { curlOnHost } from "../reads";
import { KEPT_VHOST_SITE, KEPT_VHOST_SUM, legacyKeptVhost, NEW_VHOST, ORIGINAL_VHOST, PREVIOUS_VHOST, STATE_DIR } from "../records";
import { RemoteHost } from "../ssh";
import { Step } from "./step";

/**
 * What a 410 vhost must answer, asked on the host: "410", or "not 410" where it hands the request to
 * Mastodon. Keyed "METHOD path". An actor alone cannot tell the closed vhost (sign-in kept) from the
 * dormant one (410 everywhere), so sign-in is asked too: a run killed between writing one of them and the
 * reload leaves nginx serving the other, which only this shows.
 */
export type VhostAnswers = Record<string, "410" | "not 410">;

export function vhostAnswers(signInKept: boolean): VhostAnswers {
    return { [`GET ${CHECK_ACTOR_PATH}`]: "410", [`GET ${SIGN_IN_PATH}`]: signInKept ? "not 410" : "410" };
}

function requestsOf(answers: VhostAnswers): { method: string; path: string }[] {
    return Object.keys(answers).map((k) => ({ method: k.split(" ")[0], path: k.slice(k.indexOf(" ") + 1) }));
}

/** What nginx answers now, in the shape of `expected`. Once a reload took effect old workers still finish
 *  their requests with the old configuration, so with `untilExpected` the host is asked again (for up to
 *  10 s, in one command) until every answer is the expected one. */
async function vhostAnswersOnHost(host: RemoteHost, domain: string, expected: VhostAnswers, untilExpected: boolean): Promise<VhostAnswers> {
    const keys = Object.keys(expected);
    const want = keys.map((k) => `|${expected[k]}`).join("");
    const ask = requestsOf(expected).map((q) => `c=$(${curlOnHost(domain, q, 5)}); [ "$c" = 410 ] && got="$got|410" || got="$got|not 410"`);
    const r = await host.run(
        untilExpected
            ? `for i in $(seq 100); do got=""; ${ask.join("; ")}; [ "$got" = ${shq(want)} ] && break; sleep 0.1; done; echo "$got"`
            : `got=""; ${ask.join("; ")}; echo "$got"`,
        { label: `ask nginx on the host what it answers${untilExpected ? " after the reload" : ""}` },
    );
    const got = r.stdout.trim().split("|").slice(1);
    return Object.fromEntries(keys.map((k, i) => [k, got[i] === "410" ? "410" : "not 410"]));
}

const canonicalAnswers = (a: VhostAnswers) =>
    JSON.stringify(
        Object.keys(a)
            .sort()
            .map((k) => [k, a[k]]),
    );
const describeAnswers = (a: VhostAnswers) =>
    Object.entries(a)
        .map(([k, v]) => `${v} to ${k}`)
        .join(", ");

/** Requests whose 410 shows that the fediverse sees the closure vhost: an actor, WebFinger, the inbox. */
export function fediversePaths(domain: string): { method: string; path: string }[] {
    return [
        { method: "GET", path: CHECK_ACTOR_PATH },
        { method: "GET", path: `/.well-known/webfinger?resource=acct:${CHECK_USERNAME}@${domain}` },
        { method: "POST", path: "/inbox" },
    ];
}

export interface NginxSiteParams {
    site: string;
    domain: string;
    /** "original": the server's own vhost (restored from the kept copy when there is one); else a 410 vhost. */
    mode: "original" | "gone";
    /** The vhost the site file must hold. */
    content: string;
    /** What nginx must answer, asked on the host, for a 410 vhost. */
    answers?: VhostAnswers;
    /** "active": nginx must be running on its host, as at every stage (the front needs it), until an edge
     *  that answers for the domain stops it (then absent, with no answers to ask). Read back as systemd says. */
    nginx?: "active";
}

/**
 * The shell that opens both vhost scripts: the closure's file names, and what an earlier version left. The
 * closure keeps its files in its state directory, never beside the site (`include sites-enabled/*` would read
 * them), and writes the site in place, through a symlink when it is one: the link stays a link, the file it
 * names keeps its owner, mode and inode, and only its bytes change. A kept original beside the site (closure
 * versions before this one) is moved into the state directory once, with the sha256 they recorded in the same
 * place; the previous and new copies they could leave there after a killed run are removed.
 */
export function vhostPrelude(site: string): string {
    const legacy = legacyKeptVhost("$site");
    return `set -euo pipefail; site=${shq(site)}; keep=${shq(ORIGINAL_VHOST)}; sums=${shq(KEPT_VHOST_SUM)}; kept_site=${shq(KEPT_VHOST_SITE)}
prev=${shq(PREVIOUS_VHOST)}; new=${shq(NEW_VHOST)}; legacy="${legacy}"
mkdir -p ${shq(STATE_DIR)}
if [ -e "$legacy" ]; then
  if [ ! -e "$keep" ]; then
    cp --preserve=timestamps "$legacy" "$keep.tmp"; printf '%s\\n' "$site" > "$kept_site"; mv -f "$keep.tmp" "$keep"
  elif ! cmp -s "$legacy" "$keep"; then
    echo "$legacy (kept by an earlier version of the closure) and $keep (kept by this one) differ: check which is your own vhost, put it at $keep with its sha256 in $sums, remove $legacy, then run up again" >&2
    exit 3
  fi
  rm -f "$legacy"
fi
rm -f "$site.closure-previous" "$site.closure-new"
if [ -e "$keep" ] && [ -s "$kept_site" ] && [ "$(cat "$kept_site")" != "$site" ]; then
  echo "the kept original $keep is the vhost of $(cat "$kept_site"), not of nginxSite $site: set nginxSite to $(cat "$kept_site") and move back there first" >&2
  exit 3
fi
`;
}

/**
 * Shell lines that leave nginx running (`start`: the front needs it, at every stage until an edge that answers
 * for the domain stops it) and serving the configuration on disk (`reload`): a stopped nginx is started after
 * nginx -t, as every reload is, so a configuration it rejects never starts. They print "stopped" when nginx
 * is stopped and not to be started.
 */
function nginxServesLines(start: boolean, reload: boolean): string {
    return `if systemctl is-active --quiet nginx; then
  ${reload ? "systemctl reload nginx" : "true"}
elif ${start ? "true" : "false"}; then
  if ! out=$(nginx -t 2>&1); then
    printf '%s\\nnginx is stopped and nginx -t rejects its configuration, so it was not started: fix what nginx -t says, then run up again\\n' "$out" >&2
    exit 1
  fi
  systemctl start nginx
  systemctl is-active --quiet nginx || { echo "nginx did not start (systemctl status nginx and journalctl -u nginx say why): start it by hand, then run up again" >&2; exit 1; }
else
  echo stopped
fi
`;
}

/** What systemd says of nginx on its host: "active", "inactive", "failed"... */
async function nginxState(host: RemoteHost): Promise<string> {
    const r = await host.run("systemctl is-active nginx || true", { label: "ask systemd whether nginx runs" });
    return r.stdout.trim().split("\n").pop() || "unknown";
}

/** Puts the kept original back (nginx -t before the reload), or refuses saying why; "none" when nothing
 *  is kept and the site is the server's own. With `start`, nginx is left running (nginxServesLines). */
async function restoreOriginal(host: RemoteHost, site: string, start: boolean): Promise<"restored" | "none"> {
    const r = await host.run(
        `${vhostPrelude(site)}if [ ! -e "$keep" ]; then
  if grep -q ${shq(`^${CLOSURE_VHOST_MARK}`)} "$site" 2>/dev/null; then
    echo "the server's own vhost is not kept at $keep, so the closure cannot put it back: the 410 vhost stays at $site. Put your own vhost at $site by hand (nginx -t, systemctl reload nginx), then run up again" >&2
    exit 3
  fi
  ${nginxServesLines(start, false)}  echo none; exit 0
fi
want=$(cat "$sums" 2>/dev/null || true); have=$(sha256sum "$keep" | cut -d' ' -f1)
if [ -n "$want" ] && [ "$want" != "$have" ]; then
  echo "the kept original $keep changed since the closure kept it (sha256 $have, kept as $want): check it, put the right vhost at $site by hand, remove $keep, then run up again" >&2
  exit 3
fi
cp --preserve=timestamps "$site" "$prev"; cat "$keep" > "$site"; touch -r "$keep" "$site"
if ! out=$(nginx -t 2>&1); then
  cat "$prev" > "$site"; touch -r "$prev" "$site"; rm -f "$prev"
  printf '%s\\nnginx -t rejected the restored original vhost; the closure vhost stays in place\\n' "$out" >&2
  exit 1
fi
rm -f "$prev"
${nginxServesLines(start, true)}rm -f "$keep" "$sums" "$kept_site"; echo restored`,
        { label: `restore the original vhost at ${site}` },
    );
    return r.stdout.trim().endsWith("restored") ? "restored" : "none";
}

/**
 * The front vhost. A 410 vhost replaces the server's own, which is kept (byte for byte, with its sha256, in
 * the state directory) the first time and never overwritten; the site is written in place (vhostPrelude); nginx -t runs before every reload, and on rejection the previous
 * file is put back and nothing is reloaded. The step is done once nginx, asked on the host, serves it.
 */
export const nginxSite: Step<NginxSiteParams, { reloaded: boolean }> = {
    async apply(host, _access, p) {
        if (p.mode === "original") return { reloaded: (await restoreOriginal(host, p.site, p.nginx === "active")) === "restored" };
        await host.run(
            `${vhostPrelude(p.site)}if [ ! -e "$keep" ]; then
  if grep -q ${shq(`^${CLOSURE_VHOST_MARK}`)} "$site"; then
    echo "$site already holds a closure vhost but the server's own vhost is not kept at $keep: the closure will not keep a 410 vhost as the original. Put your own vhost back at $site, then run up again" >&2
    exit 3
  fi
  cp --preserve=timestamps "$site" "$keep.tmp"; sha256sum "$keep.tmp" | cut -d' ' -f1 > "$sums"
  printf '%s\\n' "$site" > "$kept_site"; mv -f "$keep.tmp" "$keep"
fi
cat > "$new"
if cmp -s "$new" "$site"; then
  rm -f "$new"
  out=$(nginx -t 2>&1) || { printf '%s\\nnginx -t rejects the configuration; nginx was not reloaded\\n' "$out" >&2; exit 1; }
  echo same; exit 0
fi
cp --preserve=timestamps "$site" "$prev"; cat "$new" > "$site"; rm -f "$new"
if ! out=$(nginx -t 2>&1); then
  cat "$prev" > "$site"; touch -r "$prev" "$site"; rm -f "$prev"
  printf '%s\\nnginx -t rejected the closure vhost; the previous vhost is back in place and nginx was not reloaded\\n' "$out" >&2
  exit 1
fi
rm -f "$prev"; echo written`,
            { stdin: p.content, label: `install the closure vhost at ${p.site}` },
        );
        // Reloaded whenever the step runs (only when what the host must have changed): the file may already
        // be in place from a run killed before its reload, with nginx still serving the previous vhost.
        const served = await host.run(`set -euo pipefail\n${nginxServesLines(p.nginx === "active", true)}`, {
            label: p.nginx === "active" ? "reload nginx (started after nginx -t when it was stopped)" : "reload nginx",
        });
        if (served.stdout.trim() === "stopped") return { reloaded: false };
        const expected = p.answers ?? vhostAnswers(false);
        const after = await vhostAnswersOnHost(host, p.domain, expected, true);
        if (canonicalAnswers(after) !== canonicalAnswers(expected)) {
            throw new Error(
                `after the reload nginx answers ${describeAnswers(after)} (asked on the host), not ${describeAnswers(expected)}: the closure vhost at ${p.site} is not what nginx serves`,
            );
        }
        return { reloaded: true };
    },
    async read(host, _access, p, result) {
        const [content] = await host.readFiles([p.site], `read ${p.site}`);
        const found: NginxSiteParams = { ...p, content: content ?? "(no file)" };
        if (p.answers !== undefined) found.answers = await vhostAnswersOnHost(host, p.domain, p.answers, false);
        // nginx stopped by hand is drift at every stage: the front needs it, whatever the vhost.
        if (p.nginx !== undefined) found.nginx = (await nginxState(host)) as "active";
        return { params: found, result };
    },
    async undo(host, _access, p) {
        await restoreOriginal(host, p.site, false);
    },
};
