// The SELF_DESTRUCT value (lib/mastodon/self-destruct.ts) against Rails' own ActiveSupport::MessageVerifier, run in
// Ruby, configured as Mastodon 4.3+ configures Rails: the verifier's secret is the KeyGenerator's key for
// the purpose (PBKDF2-HMAC-SHA256, 1000 iterations, 64 bytes: load_defaults 7.0+), the digest SHA1 (the
// default) and the JSON serializer (load_defaults 7.1+). Debian's ActiveSupport 6.1 has no
// hash_digest_class option, so Ruby's OpenSSL derives the key as Rails 7's KeyGenerator#generate_key does.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { envValue, generateSelfDestructValue, isSelfDestructMode, verifySelfDestructValue } from "../lib/mastodon/self-destruct";

const RUBY = `
require 'json'
require 'openssl'
require 'active_support'
require 'active_support/message_verifier'
input = JSON.parse($stdin.read)
key = OpenSSL::PKCS5.pbkdf2_hmac(input['secret_key_base'], 'self-destruct', 1000, 64, OpenSSL::Digest::SHA256.new)
verifier = ActiveSupport::MessageVerifier.new(key, digest: 'SHA1', serializer: JSON)
verified = input['values'].map do |value|
  verifier.verify(value)
rescue ActiveSupport::MessageVerifier::InvalidSignature
  nil
end
puts({ generated: input['domains'].map { |d| verifier.generate(d) }, verified: verified }.to_json)
`;

function rails(secretKeyBase: string, domains: string[], values: string[]): { generated: string[]; verified: (string | null)[] } {
    const r = spawnSync("ruby", ["-e", RUBY], { input: JSON.stringify({ secret_key_base: secretKeyBase, domains, values }), encoding: "utf8" });
    assert.equal(r.status, 0, `ruby failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
}

describe("SELF_DESTRUCT as Rails.application.message_verifier('self-destruct')", () => {
    const secret = randomBytes(64).toString("hex");
    const domains = ["social.example", "mastodon.example.org", "xn--bcher-kva.example"];

    test("what the closure generates is byte for byte what Rails generates, and Rails verifies it", () => {
        const ours = domains.map((d) => generateSelfDestructValue(secret, d));
        const theirs = rails(secret, domains, ours);
        assert.deepEqual(ours, theirs.generated, "generated values differ from ActiveSupport's");
        assert.deepEqual(theirs.verified, domains, "ActiveSupport did not verify the closure's values");
    });

    test("a value Rails generated verifies here to its domain; Mastodon's check needs LOCAL_DOMAIN too", () => {
        const [value] = rails(secret, ["social.example"], []).generated;
        assert.equal(verifySelfDestructValue(secret, value), "social.example");
        assert.equal(isSelfDestructMode({ SELF_DESTRUCT: value, SECRET_KEY_BASE: secret, LOCAL_DOMAIN: "social.example" }), true);
        assert.equal(isSelfDestructMode({ SELF_DESTRUCT: value, SECRET_KEY_BASE: secret, LOCAL_DOMAIN: "other.example" }), false, "another LOCAL_DOMAIN");
    });

    test("wrong values are off, as Rails refuses them", () => {
        const good = generateSelfDestructValue(secret, "social.example");
        const otherSecret = generateSelfDestructValue(randomBytes(64).toString("hex"), "social.example");
        const tampered = good.slice(0, -1) + (good.endsWith("0") ? "1" : "0");
        // The sandbox's old hand-made shape: HMAC-SHA256 with the PBKDF2 key over the same data.
        const sha256Shape = `${good.split("--")[0]}--${"ab".repeat(32)}`;
        const wrong = [otherSecret, tampered, good.slice(0, 20), "InNvY2lhbC5leGFtcGxlIg==", "x", sha256Shape, ` ${good}`];
        assert.deepEqual(
            rails(secret, [], wrong).verified,
            wrong.map(() => null),
            "ActiveSupport accepted a value the test calls wrong",
        );
        for (const value of wrong) {
            assert.equal(verifySelfDestructValue(secret, value), undefined, `verified: ${value}`);
            assert.equal(isSelfDestructMode({ SELF_DESTRUCT: value, SECRET_KEY_BASE: secret, LOCAL_DOMAIN: "social.example" }), false, value);
        }
        for (const env of [
            {},
            { SELF_DESTRUCT: "", SECRET_KEY_BASE: secret, LOCAL_DOMAIN: "social.example" },
            { SELF_DESTRUCT: good, LOCAL_DOMAIN: "social.example" },
        ]) {
            assert.equal(isSelfDestructMode(env), false, JSON.stringify(Object.keys(env)));
        }
    });

    test("envValue reads .env.production as dotenv does: the last assignment, export and quotes", () => {
        const file = "LOCAL_DOMAIN=social.example\nSELF_DESTRUCT=old\n# SELF_DESTRUCT=commented\nexport SELF_DESTRUCT=\"new\"\nSECRET_KEY_BASE='abc'\n";
        assert.equal(envValue(file, "SELF_DESTRUCT"), "new");
        assert.equal(envValue(file, "SECRET_KEY_BASE"), "abc");
        assert.equal(envValue(file, "LOCAL_DOMAIN"), "social.example");
        assert.equal(envValue(file, "OTP_SECRET"), undefined);
    });
});
