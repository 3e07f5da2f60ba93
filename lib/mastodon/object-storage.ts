// Media and archives on object storage (S3_ENABLED=true): where they are, as Mastodon reads .env.production
// (config/initializers/paperclip.rb), and what becomes of the bucket. The closure never writes to it: users'
// archives are downloaded from it while the server is closed (BackupsController#download redirects to an
// expiring URL of the private object), and from dormant on it is kept until a retention date, after which
// deleting it is left to the operator. Pure.
import { envValue } from "./self-destruct";

export interface ObjectStorage {
    bucket: string;
    /** Where Mastodon sends its S3 requests: S3_ENDPOINT, else S3_PROTOCOL://S3_HOSTNAME (AWS's for S3_REGION). */
    endpoint: string;
    region: string;
    /** Where media URLs point (S3_ALIAS_HOST, or the older S3_CLOUDFRONT_HOST): a CDN or the bucket's own host. */
    aliasHost?: string;
    /** S3_KEY_PREFIX: every key starts with it. */
    keyPrefix?: string;
}

/** The bucket Mastodon stores media and archives in, undefined when they are on the host's disk. */
export function objectStorageFromEnv(env: string): ObjectStorage | undefined {
    const get = (name: string) => {
        const v = envValue(env, name);
        return v === undefined || v === "" ? undefined : v;
    };
    if (get("S3_ENABLED") !== "true") return undefined;
    const region = get("S3_REGION") ?? "us-east-1";
    const aliasHost = get("S3_ALIAS_HOST") ?? get("S3_CLOUDFRONT_HOST");
    const keyPrefix = get("S3_KEY_PREFIX");
    return {
        bucket: get("S3_BUCKET") ?? "(S3_BUCKET unset)",
        endpoint: get("S3_ENDPOINT") ?? `${get("S3_PROTOCOL") ?? "https"}://${get("S3_HOSTNAME") ?? `s3-${region}.amazonaws.com`}`,
        region,
        ...(aliasHost ? { aliasHost } : {}),
        ...(keyPrefix ? { keyPrefix } : {}),
    };
}

const DAY_MS = 86400_000;

/** The bucket as the outputs show it; from dormant on with the day until which it is kept, counted from the
 *  day the host went dormant (`dormantSince`), as the dump's retention counts from the dump. */
export interface BucketPlan extends ObjectStorage {
    archives: string;
    keptUntil?: string;
    kept: string;
}

export function planBucket(storage: ObjectStorage, dormantSince: Date | undefined, retentionDays: number): BucketPlan {
    const prefix = storage.keyPrefix ? `${storage.keyPrefix}/` : "";
    const keptUntil = dormantSince ? new Date(dormantSince.getTime() + retentionDays * DAY_MS).toISOString().slice(0, 10) : undefined;
    return {
        ...storage,
        archives: `${prefix}backups/dumps/ (private; /backups/:id/download redirects signed-in users to a signed URL that expires after 10 seconds, an hour from Mastodon 4.3.7)`,
        ...(keptUntil ? { keptUntil } : {}),
        kept: keptUntil
            ? `kept as it is until ${keptUntil} (bucketRetentionDays ${retentionDays} after the host went dormant): the closure never empties or deletes it`
            : "kept as it is: the closure never empties or deletes it; from dormant on it is kept until a retention date (bucketRetentionDays)",
    };
}

/** What is left by hand about the bucket once the host is dormant. */
export function bucketManualStep(bucket: BucketPlan): string {
    const media = bucket.aliasHost ? `, and media stays public at ${bucket.aliasHost}` : ", and public media stays readable";
    return (
        `keep the bucket ${bucket.bucket} at ${bucket.endpoint} until ${bucket.keptUntil}, then delete it by hand (objects first, with the provider's tools): ` +
        `the closure never deletes it${media} until then`
    );
}
