// Mastodon's self-destruct, as each version does it: the SELF_DESTRUCT value (4.3+), and which accounts
// the running version's self-destruct still has to delete. Pure, shared by the probe, the host steps and
// the sandbox's simulated Mastodon (which the unit tests check against Ruby's ActiveSupport).
import * as crypto from "node:crypto";
import { versionAtLeast } from "./version";

/**
 * How the running version self-destructs:
 *  - "legacy" (before 4.3): `tootctl self-destruct` queues the Delete deliveries and calls
 *    `Account#suspend!` on every local account, which files an AccountDeletionRequest due 30 days later
 *    (lib/mastodon/cli/main.rb at v4.2.0);
 *  - "suspend" (4.3 to 4.6): SELF_DESTRUCT; Scheduler::SelfDestructScheduler suspends the accounts
 *    (`suspended_at`) and destroys their deletion requests;
 *  - "requested-deletion" (4.7 on, PR #23617): the scheduler sets `requested_deletion_at` instead.
 */
export type SelfDestructEra = "legacy" | "suspend" | "requested-deletion";

export function selfDestructEra(version: string): SelfDestructEra {
    if (!versionAtLeast(version, 4, 3)) return "legacy";
    return versionAtLeast(version, 4, 7) ? "requested-deletion" : "suspend";
}

/** AccountDeletionRequest::DELAY_TO_DELETION: a suspended account's local data is purged this long after. */
export const DELAY_TO_DELETION_DAYS = 30;

/**
 * SQL counting the local accounts the version's self-destruct still has to send a Delete for:
 *  - legacy: not suspended (the command suspends all of them in one run);
 *  - suspend: `Account.local.without_suspended.count + Account.local.suspended.joins(:deletion_request).count`,
 *    as `tootctl self-destruct` counts them (lib/mastodon/cli/federation.rb);
 *  - requested-deletion: what SelfDestructScheduler still selects, `Account.local.without_requested_deletion`
 *    and `Account.local.joins(:deletion_request)` (app/workers/scheduler/self_destruct_scheduler.rb).
 */
export function accountsLeftSql(era: SelfDestructEra): string {
    const request = "EXISTS (SELECT 1 FROM account_deletion_requests r WHERE r.account_id = a.id)";
    switch (era) {
        case "legacy":
            return "SELECT count(*)::int AS n FROM accounts a WHERE a.domain IS NULL AND a.suspended_at IS NULL";
        case "suspend":
            return `SELECT count(*)::int AS n FROM accounts a WHERE a.domain IS NULL AND (a.suspended_at IS NULL OR ${request})`;
        case "requested-deletion":
            return `SELECT count(*)::int AS n FROM accounts a WHERE a.domain IS NULL AND (a.requested_deletion_at IS NULL OR ${request})`;
    }
}

// --- SELF_DESTRUCT: Rails.application.message_verifier('self-destruct') ------------------------------
// As Mastodon 4.3+ configures Rails (config.load_defaults 7.1, 8.0, 8.1): the verifier's secret is
// KeyGenerator#generate_key(purpose) = PBKDF2-HMAC-SHA256(secret_key_base, purpose, 1000 iterations,
// 64 bytes) (key_generator_hash_digest_class SHA256 since the 7.0 defaults; railties application.rb);
// MessageVerifier's digest is its default, SHA1; the serializer is :json_allow_marshal (7.1 defaults),
// which writes JSON. A message without purpose or expiry has no metadata envelope: it is
// strict_base64(JSON(value)) + "--" + hex HMAC-SHA1(secret, that base64) (active_support/message_verifier.rb).

export const SELF_DESTRUCT_PURPOSE = "self-destruct";

function verifierSecret(secretKeyBase: string, purpose: string): Buffer {
    return crypto.pbkdf2Sync(secretKeyBase, purpose, 1000, 64, "sha256");
}

function digest(secret: Buffer, data: string): string {
    return crypto.createHmac("sha1", secret).update(data).digest("hex");
}

/** `Rails.application.message_verifier('self-destruct').generate(domain)`: what `tootctl self-destruct` prints. */
export function generateSelfDestructValue(secretKeyBase: string, domain: string): string {
    const data = Buffer.from(JSON.stringify(domain)).toString("base64");
    return `${data}--${digest(verifierSecret(secretKeyBase, SELF_DESTRUCT_PURPOSE), data)}`;
}

/** `message_verifier('self-destruct').verify(value)`: the value it signs, or undefined where Rails raises
 *  InvalidSignature (a wrong digest, another secret_key_base, a value that is not base64 JSON). */
export function verifySelfDestructValue(secretKeyBase: string, value: string): unknown {
    const hexLength = 40;
    const at = value.length - hexLength - 2;
    if (at <= 0 || value.slice(at, at + 2) !== "--") return undefined;
    const data = value.slice(0, at);
    const expected = Buffer.from(digest(verifierSecret(secretKeyBase, SELF_DESTRUCT_PURPOSE), data));
    const given = Buffer.from(value.slice(at + 2));
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return undefined;
    // strict_decode64 (or the URL-safe alphabet, which Rails 8 also tries)
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(data) && !/^[A-Za-z0-9_-]+$/.test(data)) return undefined;
    try {
        return JSON.parse(Buffer.from(data, data.includes("-") || data.includes("_") ? "base64url" : "base64").toString("utf8"));
    } catch {
        return undefined;
    }
}

/** SelfDestructHelper.self_destruct?: SELF_DESTRUCT is present and verifies to LOCAL_DOMAIN; anything
 *  else (absent, blank, wrong) means off, silently. */
export function isSelfDestructMode(env: { SELF_DESTRUCT?: string; SECRET_KEY_BASE?: string; LOCAL_DOMAIN?: string }): boolean {
    const value = env.SELF_DESTRUCT;
    if (!value || value.trim() === "" || !env.SECRET_KEY_BASE || !env.LOCAL_DOMAIN) return false;
    return verifySelfDestructValue(env.SECRET_KEY_BASE, value) === env.LOCAL_DOMAIN;
}

/** A variable from .env.production (dotenv syntax, optional quotes); the last assignment wins, as in dotenv. */
export function envValue(envFile: string, name: string): string | undefined {
    const all = [...envFile.matchAll(new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=\\s*(.*)$`, "gm"))];
    const m = all.pop();
    return m ? m[1].trim().replace(/^(['"])(.*)\1$/, "$2") : undefined;
}
