// Unit tests of media on object storage: the bucket read from .env.production as Mastodon resolves it
// (config/initializers/paperclip.rb), its retention in the plan and what is left by hand, and the setting.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { HostFacts } from "../lib/rules/facts";
import { objectStorageFromEnv, ObjectStorage } from "../lib/mastodon/object-storage";
import { planClosure } from "../lib/rules/plan";
import { DEFAULTS } from "../lib/rules/settings";
import { Stage } from "../lib/rules/stages";
import { reachedUpTo, testFacts } from "./support/facts";
import { testSettings } from "./support/settings";

const NOW = new Date("2026-07-20T12:00:00Z");

const settings = testSettings;

const BUCKET: ObjectStorage = {
    bucket: "social-media",
    endpoint: "https://s3.eu-central-003.backblazeb2.com",
    region: "eu-central-003",
    aliasHost: "files.social.example",
};

/** A host at `stage`, every stage below it reached on 2026-07-01 (dormant, when reached, on 2026-07-10). */
function facts(stage: Stage, extra: Partial<HostFacts> = {}): HostFacts {
    const reachedAt = reachedUpTo(stage, (s) => (s === "dormant" ? "2026-07-10T08:00:00Z" : "2026-07-01T00:00:00Z"));
    return testFacts(stage, { reachedAt, objectStorage: BUCKET, ...extra });
}

describe("the bucket, read from .env.production", () => {
    test("local storage: S3_ENABLED missing or anything but true", () => {
        assert.equal(objectStorageFromEnv("LOCAL_DOMAIN=social.example\n"), undefined);
        assert.equal(objectStorageFromEnv("S3_ENABLED=false\nS3_BUCKET=b\n"), undefined);
        assert.equal(objectStorageFromEnv("S3_ENABLED=TRUE\nS3_BUCKET=b\n"), undefined, "paperclip.rb compares with 'true'");
    });

    test("an S3-compatible provider: S3_ENDPOINT, the alias host for media, the key prefix", () => {
        const env = [
            "S3_ENABLED=true",
            "S3_BUCKET=social-media",
            "S3_REGION=eu-central-003",
            "S3_ENDPOINT=https://s3.eu-central-003.backblazeb2.com",
            "S3_ALIAS_HOST=files.social.example",
            "S3_KEY_PREFIX=mastodon",
            "AWS_SECRET_ACCESS_KEY=never-shown",
        ].join("\n");
        assert.deepEqual(objectStorageFromEnv(env), { ...BUCKET, keyPrefix: "mastodon" });
        assert.doesNotMatch(JSON.stringify(objectStorageFromEnv(env)), /never-shown/, "the key is not read");
    });

    test("AWS: the endpoint from S3_PROTOCOL and S3_HOSTNAME, defaulting to us-east-1; S3_CLOUDFRONT_HOST as the alias", () => {
        assert.deepEqual(objectStorageFromEnv("S3_ENABLED=true\nS3_BUCKET=b\n"), {
            bucket: "b",
            endpoint: "https://s3-us-east-1.amazonaws.com",
            region: "us-east-1",
        });
        assert.deepEqual(objectStorageFromEnv("S3_ENABLED=true\nS3_BUCKET=b\nS3_REGION=eu-west-1\nS3_PROTOCOL=http\nS3_CLOUDFRONT_HOST=cdn.example.net\n"), {
            bucket: "b",
            endpoint: "http://s3-eu-west-1.amazonaws.com",
            region: "eu-west-1",
            aliasHost: "cdn.example.net",
        });
        assert.equal(objectStorageFromEnv("S3_ENABLED=true\nS3_BUCKET=b\nS3_HOSTNAME=minio.internal:9000\n")!.endpoint, "https://minio.internal:9000");
    });

    test("as dotenv reads it: quotes, export, the last definition, comments", () => {
        const env = "# S3_ENABLED=true\nS3_ENABLED=false\nexport S3_ENABLED=\"true\"\nS3_BUCKET='quoted-bucket'\n";
        assert.equal(objectStorageFromEnv(env)?.bucket, "quoted-bucket");
    });
});

describe("the bucket in the plan", () => {
    test("below dormant: shown, kept, no retention date and nothing by hand", () => {
        for (const stage of ["operating", "announced", "closed", "self-destructing"] as const) {
            const plan = planClosure(settings(stage), facts(stage), NOW);
            assert.equal(plan.bucket?.bucket, "social-media", stage);
            assert.equal(plan.bucket?.keptUntil, undefined, stage);
            assert.match(plan.bucket!.kept, /the closure never empties or deletes it/);
            assert.match(plan.bucket!.archives, /^backups\/dumps\/ \(private; .*expires after 10 seconds, an hour from Mastodon 4\.3\.7\)$/);
            assert.ok(!plan.manual.some((m) => m.includes("social-media")), `${stage}: ${plan.manual}`);
        }
    });

    test("dormant: kept until bucketRetentionDays after the day the host went dormant, deleting it left by hand", () => {
        const plan = planClosure(settings("dormant"), facts("dormant"), NOW);
        assert.equal(plan.bucket?.keptUntil, "2027-07-10", "365 days after 2026-07-10");
        assert.match(
            plan.bucket!.kept,
            /^kept as it is until 2027-07-10 \(bucketRetentionDays 365 after the host went dormant\): the closure never empties or deletes it$/,
        );
        const step = plan.manual.find((m) => m.includes("social-media"));
        assert.equal(
            step,
            "keep the bucket social-media at https://s3.eu-central-003.backblazeb2.com until 2027-07-10, then delete it by hand (objects first, with the provider's tools): " +
                "the closure never deletes it, and media stays public at files.social.example until then",
        );
    });

    test("entering dormant in this run counts from now; bucketRetentionDays sets the date", () => {
        const plan = planClosure(settings("dormant", { bucketRetentionDays: "30" }), facts("self-destructing"), NOW);
        assert.equal(plan.bucket?.keptUntil, "2026-08-19");
    });

    test("parked lists the bucket with what is left by hand, with and without Cloudflare", () => {
        const plan = planClosure(settings("parked"), facts("parked"), NOW);
        assert.equal(plan.bucket?.keptUntil, "2027-07-10");
        assert.match(
            plan.manual.at(-1)!,
            /^keep the bucket social-media at https:\/\/s3\.eu-central-003\.backblazeb2\.com until 2027-07-10, then delete it by hand/,
        );
        assert.ok(
            plan.manual.some((m) => /turn the Mastodon host off/.test(m)),
            "the stage's own steps are kept",
        );
    });

    test("media on the host's disk: no bucket in the plan", () => {
        const plan = planClosure(settings("dormant"), facts("dormant", { objectStorage: undefined }), NOW);
        assert.equal(plan.bucket, undefined);
        assert.deepEqual(plan.manual, ["copy the database dump off the host (its path and sha256 are in the outputs)"]);
    });
});

describe("bucketRetentionDays", () => {
    test("defaults to a year, as the dump's retention; a whole number of days from 1", () => {
        assert.equal(settings("dormant").bucketRetentionDays, DEFAULTS.bucketRetentionDays);
        assert.equal(DEFAULTS.bucketRetentionDays, 365);
        assert.throws(() => settings("dormant", { bucketRetentionDays: "0" }), /bucketRetentionDays must be a whole number from 1 to 36500, got "0"/);
    });
});
