// S3 requests signed with AWS Signature Version 4, as the aws-sdk-s3 gem signs Mastodon's (Paperclip's)
// requests to its bucket: an Authorization header, or a presigned URL's query (Paperclip's expiring_url).
// Path-style URLs, as Mastodon uses with S3_ENDPOINT (force_path_style unless S3_OVERRIDE_PATH_STYLE).
// The sandbox's object storage checks every signature and expiry (sandbox/object-storage).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";

export interface S3Bucket {
    /** e.g. http://10.213.1.2:9000 */
    endpoint: string;
    bucket: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
}

export interface S3Response {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
}

const ALGORITHM = "AWS4-HMAC-SHA256";

/** RFC 3986 percent-encoding, as SigV4 canonicalises names and values. */
const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => crypto.createHmac("sha256", key).update(data).digest();
const sha256Hex = (data: string | Buffer) => crypto.createHash("sha256").update(data).digest("hex");
/** 20260101T120000Z */
const amzDate = (t: Date) =>
    t
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");

function objectUrl(b: S3Bucket, key: string, query: Record<string, string>): URL {
    const url = new URL(`${b.endpoint.replace(/\/$/, "")}/${b.bucket}/${key.split("/").map(uriEncode).join("/")}`);
    const canonical = Object.keys(query)
        .sort()
        .map((k) => `${uriEncode(k)}=${uriEncode(query[k])}`)
        .join("&");
    url.search = canonical;
    return url;
}

/** The signature of a request whose URL already carries its canonical query. */
function sign(
    b: S3Bucket,
    method: string,
    url: URL,
    headers: Record<string, string>,
    payloadHash: string,
    t: Date,
): { signature: string; signedHeaders: string } {
    const names = Object.keys(headers)
        .map((h) => h.toLowerCase())
        .sort();
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, " ")]));
    const signedHeaders = names.join(";");
    const canonicalRequest = [method, url.pathname, url.search.slice(1), names.map((n) => `${n}:${lower[n]}\n`).join(""), signedHeaders, payloadHash].join(
        "\n",
    );
    const day = amzDate(t).slice(0, 8);
    const scope = `${day}/${b.region}/s3/aws4_request`;
    const stringToSign = [ALGORITHM, amzDate(t), scope, sha256Hex(canonicalRequest)].join("\n");
    const key = ["s3", "aws4_request"].reduce((k, part) => hmac(k, part), hmac(hmac(`AWS4${b.secretAccessKey}`, day), b.region));
    return { signature: hmac(key, stringToSign).toString("hex"), signedHeaders };
}

/** A GET URL for the object that the server honours for `expiresSeconds` from `signedAt` (S3's presigned
 *  URL: the signature, its date and lifetime in the query). */
export function presignedUrl(b: S3Bucket, key: string, expiresSeconds: number, signedAt = new Date()): string {
    const query = {
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Credential": `${b.accessKeyId}/${amzDate(signedAt).slice(0, 8)}/${b.region}/s3/aws4_request`,
        "X-Amz-Date": amzDate(signedAt),
        "X-Amz-Expires": String(expiresSeconds),
        "X-Amz-SignedHeaders": "host",
    };
    const url = objectUrl(b, key, query);
    const { signature } = sign(b, "GET", url, { host: url.host }, "UNSIGNED-PAYLOAD", signedAt);
    return `${url.href}&X-Amz-Signature=${signature}`;
}

/** A request to the bucket (key "" for the bucket itself) signed in its Authorization header. */
export function s3Request(
    b: S3Bucket,
    method: string,
    key: string,
    opts: { query?: Record<string, string>; body?: Buffer; headers?: Record<string, string> } = {},
): Promise<S3Response> {
    const url = objectUrl(b, key, opts.query ?? {});
    const body = opts.body ?? Buffer.alloc(0);
    const t = new Date();
    const payloadHash = sha256Hex(body);
    const headers: Record<string, string> = { host: url.host, "x-amz-date": amzDate(t), "x-amz-content-sha256": payloadHash, ...(opts.headers ?? {}) };
    const { signature, signedHeaders } = sign(b, method, url, headers, payloadHash, t);
    const credential = `${b.accessKeyId}/${amzDate(t).slice(0, 8)}/${b.region}/s3/aws4_request`;
    headers.authorization = `${ALGORITHM} Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    if (body.length > 0) headers["content-length"] = String(body.length);
    return new Promise((resolve, reject) => {
        const req = (url.protocol === "https:" ? https : http).request(url, { method, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (d: Buffer) => chunks.push(d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
    });
}

/** Every object under `prefix` (ListObjectsV2, page by page). */
export async function listObjects(b: S3Bucket, prefix = ""): Promise<{ key: string; size: number }[]> {
    const objects: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
        const r = await s3Request(b, "GET", "", { query: { "list-type": "2", prefix, ...(token ? { "continuation-token": token } : {}) } });
        const xml = r.body.toString("utf8");
        if (r.status !== 200) throw new Error(`ListObjectsV2 ${b.bucket}: HTTP ${r.status}: ${xml}`);
        for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
            objects.push({ key: /<Key>([^<]*)<\/Key>/.exec(m[1])![1], size: Number(/<Size>(\d+)<\/Size>/.exec(m[1])![1]) });
        }
        token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]*)</.exec(xml)?.[1] : undefined;
    } while (token);
    return objects;
}
