// The kinds of value a settings key holds, as zod schemas. Each takes the value as written in
// Pulumi.<stack>.yaml (trimmed; absent or blank: undefined) and gives it typed, or says what is wrong with
// it. A message here is what follows the key's name: parse.ts puts "<key> " before it.
import { z } from "zod";

/** The rest of a problem's message after the key's name, from the value as written. */
type Problem<T = string> = (value: T) => string;

/** A check of a value. `last`: when it fails, no later check of the same key runs. */
export function check<T>(ok: (value: T) => boolean, problem: Problem<T>, last = false) {
    return (value: T, ctx: z.RefinementCtx): void => {
        if (!ok(value)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem(value), fatal: last });
    };
}

/** Any text, taken as written. */
export const text = z.string();

/** A key without which nothing can be done: its absence says what to give. */
export function required<S extends z.ZodTypeAny>(schema: S, what: string) {
    return z.string({ errorMap: () => ({ message: `is required: ${what}` }) }).pipe(schema);
}

/** One of a fixed list of words. */
export function oneOf<T extends string>(allowed: readonly [T, ...T[]]) {
    return z.enum(allowed as [T, ...T[]], { errorMap: (_issue, ctx) => ({ message: `must be one of ${allowed.join(", ")}; got "${ctx.data}"` }) });
}

/** true or false, as written. */
export const flag = oneOf(["true", "false"]).transform((v) => v === "true");

/** A whole number from `min` to `max`, written in decimal digits only. */
export function wholeNumber(min: number, max: number) {
    return text
        .superRefine(
            check(
                (v) => /^\d+$/.test(v) && +v >= min && +v <= max,
                (v) => `must be a whole number from ${min} to ${max}, got "${v}"`,
            ),
        )
        .transform(Number);
}

/** A TCP port. */
export const port = wholeNumber(1, 65535);

/** Absolute and safe unquoted in a shell line: no spaces, quotes, `$`, backquotes or backslashes. What a
 *  path is checked for first; when it is not, nothing more is said about it. */
const shellSafePath = check(
    (v: string) => v.startsWith("/") && !/[\s'"$`\\]/.test(v),
    (v) => `must be an absolute path without spaces or quotes, got "${v}"`,
    true,
);

/** A directory on the host: a shell-safe absolute path without a `..` segment, so that the directory the
 *  closure reads and writes in is the one written. */
export const absolutePath = text.superRefine(shellSafePath).superRefine(
    check(
        (v) => !v.split("/").includes(".."),
        (v) => `must not go up a directory with "..": write the directory itself, got "${v}"`,
    ),
);

/** Where nginx's configuration is, as Debian packages it and Mastodon's install guide uses it. */
export const NGINX_CONFIG_DIR = "/etc/nginx/";

/** A file of nginx's configuration: under /etc/nginx/, written as it is (no `.`, `..` or empty segment), so
 *  that no value can make the closure read a file outside nginx's configuration, nor show one in a preview. */
export const nginxConfigFile = text.superRefine(shellSafePath).superRefine(
    check(
        (v) =>
            v.startsWith(NGINX_CONFIG_DIR) &&
            v
                .slice(1)
                .split("/")
                .every((segment) => segment !== "" && segment !== "." && segment !== ".."),
        (v) =>
            `must be a file under ${NGINX_CONFIG_DIR} (nginx's configuration, e.g. /etc/nginx/sites-available/mastodon), ` +
            `written without ".", "..", "//" or a "/" at the end, got "${v}"`,
    ),
);

export const unixUser = text.superRefine(
    check(
        (v) => /^[a-z_][a-z0-9_-]*$/.test(v),
        (v) => `must be a Unix user name, got "${v}"`,
    ),
);

export const systemdUnit = text.superRefine(
    check(
        (v) => /^[A-Za-z0-9@_.:-]+$/.test(v),
        (v) => `must be a systemd unit name, got "${v}"`,
    ),
);

/** An owner record of a host, as a refusal prints it (lib/rules/owner.ts ownerToken): closure id@since. */
export const ownerRecordToken = text.superRefine(
    check(
        (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v),
        (v) =>
            `must be the host's owner record as the refusal that names it prints it (closure id@since, e.g. 3f2a0c1e-...@2026-01-31T09:00:00.000Z), got "${v}"`,
    ),
);

export const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** A DNS name; `like` is the example the message gives. */
export const dnsName = (like: string) =>
    check(
        (v: string) => DOMAIN.test(v),
        (v) => `must be a DNS name like ${like}, got "${v}"`,
    );

/** A server to send users to: its domain or an https:// URL on it. */
export const serverAddress = text.superRefine(
    check(
        (v) => DOMAIN.test(v.replace(/^https:\/\//, "").replace(/\/.*$/, "")),
        (v) => `must be a server's domain or https:// URL, got "${v}"`,
    ),
);

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date as YYYY-MM-DD that exists (2026-02-30 does not). */
export function isCalendarDate(value: string): boolean {
    const m = ISO_DATE.exec(value);
    if (!m) return false;
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

export const calendarDate = text.superRefine(check(isCalendarDate, (v) => `must be a date as YYYY-MM-DD, got "${v}"`));

/** Days before a date, comma-separated: each from 1 to 365; given furthest first, each once. */
export const daysBefore = text
    .superRefine(
        check(
            (v) => v.split(",").every((day) => /^\d+$/.test(day.trim()) && +day >= 1 && +day <= 365),
            (v) => `must be a comma-separated list of days from 1 to 365, like "30,7,1"; got "${v}"`,
        ),
    )
    .transform((v) => [...new Set(v.split(",").map((day) => Number(day.trim())))].sort((a, b) => b - a));

/** `length` lowercase hexadecimal characters, an id. */
export const lowercaseHex = (length: number) =>
    text.superRefine(
        check(
            (v) => new RegExp(`^[0-9a-f]{${length}}$`).test(v),
            (v) => `must be ${length} lowercase hexadecimal characters, got "${v}"`,
        ),
    );

/** An age public key, the recipient a dump is encrypted to. */
export const ageRecipient = text.superRefine(
    check(
        (v) => /^age1[0-9a-z]{58}$/.test(v),
        (v) => `must be an age public key (age1...), got "${v.slice(0, 20)}"`,
    ),
);

const HOST_KEY_LINE = /^(ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa|rsa-sha2-\d+) [A-Za-z0-9+/=]+/;

/** An OpenSSH public key line, the host key to pin. `last`: a line that is not one is not looked at further. */
export const hostKeyLine = (last = false) =>
    check(
        (v: string) => HOST_KEY_LINE.test(v),
        (v) => `must be an OpenSSH public key line like "ssh-ed25519 AAAA...", got "${v.slice(0, 40)}"`,
        last,
    );

/** What the example stack file (Pulumi.closing.yaml) puts where the operator's own values go: names under
 *  the reserved example.org/.com/.net (RFC 2606) and a host key saying "ReplaceWith". Refused, never used. */
const PLACEHOLDER = /(^|\.)example\.(org|com|net)$|ReplaceWith/i;

/** Not the example's placeholder; `what` says what to set instead. */
export const notPlaceholder = (what: string) =>
    check(
        (v: string) => !PLACEHOLDER.test(v),
        (v) => `is still the example's placeholder "${v.slice(0, 60)}": set it to ${what}`,
    );

/** A DNS name as a zone or a hostname is compared: lower case, without the root's trailing dot. */
export const normalName = (name: string): string => name.trim().toLowerCase().replace(/\.$/, "");

/** Comma-separated names, normalised. */
export const names = (written: string): string[] => written.split(",").map(normalName);

/** Comma-separated DNS names, each checked (every bad one named), given normalised. */
export function hostnames(problem: Problem) {
    const each = check((name: string) => DOMAIN.test(name), problem);
    return text.transform(names).superRefine((list, ctx) => list.forEach((name) => each(name, ctx)));
}

/** A key whose value must be a Pulumi secret: its value is read by the program, never here. */
export const secret = text.optional();
