// User archives: BackupService, and where Paperclip keeps them (Backup#dump) as
// config/initializers/paperclip.rb picks the storage from the environment: the filesystem under
// public/system, or the S3 bucket when S3_ENABLED=true, with a private ACL (app/models/backup.rb) and
// downloads through an expiring URL (BackupsController#download).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import { versionAtLeast } from "../../lib/mastodon/version";
import { LIVE, makeZip, simConfig } from "./common";
import { presignedUrl, S3Bucket, s3Request } from "./s3";

/** BackupsController#download on S3: `@backup.dump.expiring_url(10)`, seconds; an hour from 4.3.7
 *  (#34254: BACKUP_LINK_TIMEOUT = 1.hour, CHANGELOG 4.3.7 and 4.4.0). */
export function downloadUrlSeconds(version: string): number {
    return versionAtLeast(version, 4, 3, 7) ? 3600 : 10;
}

/** Paperclip :id_partition ("%09d" split in groups of 3), config/initializers/paperclip.rb */
export function idPartition(id: number | string): string {
    const s = String(id).padStart(9, "0");
    return (s.match(/\d{3}/g) ?? []).join("/");
}

/** The archive's path: under public/ on the filesystem (its URL too), the object's key on S3. */
export function backupKey(id: number | string, fileName: string): string {
    return `backups/dumps/${idPartition(id)}/original/${fileName}`;
}

/** The bucket when media is on S3 (S3_ENABLED=true), as Mastodon reads S3_* and AWS_* from its environment. */
export function objectStorageOf(env: Record<string, string>): S3Bucket | undefined {
    if (env.S3_ENABLED !== "true") return undefined;
    const region = env.S3_REGION || "us-east-1";
    return {
        endpoint: env.S3_ENDPOINT || `${env.S3_PROTOCOL || "https"}://${env.S3_HOSTNAME || `s3-${region}.amazonaws.com`}`,
        bucket: env.S3_BUCKET,
        region,
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    };
}

export async function storeBackup(env: Record<string, string>, id: number | string, fileName: string, data: Buffer): Promise<void> {
    const bucket = objectStorageOf(env);
    if (!bucket) {
        const abs = path.join(LIVE, "public", "system", backupKey(id, fileName));
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, data);
        return;
    }
    const r = await s3Request(bucket, "PUT", backupKey(id, fileName), { body: data, headers: { "content-type": "application/zip", "x-amz-acl": "private" } });
    if (r.status !== 200) throw new Error(`PUT ${backupKey(id, fileName)}: HTTP ${r.status}: ${r.body.toString("utf8")}`);
}

/** Paperclip deletes the archive with its row (the user's older backups, Vacuum::BackupsVacuum). */
export async function deleteBackup(env: Record<string, string>, id: number | string, fileName: string | null): Promise<void> {
    const bucket = objectStorageOf(env);
    if (!bucket) {
        fs.rmSync(path.join(LIVE, "public", "system", "backups", "dumps", idPartition(id)), { recursive: true, force: true });
        return;
    }
    if (!fileName) return;
    const r = await s3Request(bucket, "DELETE", backupKey(id, fileName));
    if (r.status !== 204 && r.status !== 200) throw new Error(`DELETE ${backupKey(id, fileName)}: HTTP ${r.status}: ${r.body.toString("utf8")}`);
}

/** Where BackupsController#download redirects: a presigned URL on S3, the file's URL on the filesystem. */
export function backupDownloadUrl(env: Record<string, string>, id: number | string, fileName: string, abs: (p: string) => string): string {
    const bucket = objectStorageOf(env);
    return bucket ? presignedUrl(bucket, backupKey(id, fileName), downloadUrlSeconds(simConfig().mastodonVersion)) : abs(`/system/${backupKey(id, fileName)}`);
}

/** BackupService: build the archive for one backup row, store it, mark it processed; its key (path under public/system). */
export async function processBackup(c: Client, backupId: string, env: Record<string, string>): Promise<string | null> {
    const r = await c.query(
        `SELECT b.id, b.user_id, a.id AS account_id, a.username FROM backups b
       JOIN users u ON u.id = b.user_id JOIN accounts a ON a.id = u.account_id WHERE b.id = $1`,
        [backupId],
    );
    if (r.rows.length === 0) return null;
    const row = r.rows[0];
    const domain = env.LOCAL_DOMAIN;
    const statuses = await c.query(`SELECT id, text, created_at FROM statuses WHERE account_id = $1 ORDER BY id`, [row.account_id]);
    const actor = {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `https://${domain}/users/${row.username}`,
        type: "Person",
        preferredUsername: row.username,
    };
    const outbox = {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: "outbox.json",
        type: "OrderedCollection",
        totalItems: statuses.rows.length,
        orderedItems: statuses.rows.map((s) => ({
            type: "Create",
            object: { id: `https://${domain}/users/${row.username}/statuses/${s.id}`, type: "Note", content: s.text, published: s.created_at },
        })),
    };
    const zip = await makeZip([
        { name: "actor.json", data: Buffer.from(JSON.stringify(actor, null, 2)) },
        { name: "outbox.json", data: Buffer.from(JSON.stringify(outbox, null, 2)) },
        { name: "likes.json", data: Buffer.from(JSON.stringify({ type: "OrderedCollection", orderedItems: [] })) },
        { name: "bookmarks.json", data: Buffer.from(JSON.stringify({ type: "OrderedCollection", orderedItems: [] })) },
    ]);
    const ts = new Date().toISOString().replace(/[-:]/g, "").replace("T", "").slice(0, 14);
    const fileName = `archive-${ts}-${crypto.randomBytes(16).toString("hex")}.zip`;
    await storeBackup(env, row.id, fileName, zip);
    await c.query(
        `UPDATE backups SET dump_file_name = $2, dump_content_type = 'application/zip', dump_file_size = $3,
       dump_updated_at = now(), processed = true, updated_at = now() WHERE id = $1`,
        [row.id, fileName, zip.length],
    );
    // on success the user's older backups are deleted (with their files)
    const older = await c.query(`DELETE FROM backups WHERE user_id = $1 AND id < $2 RETURNING id, dump_file_name`, [row.user_id, row.id]);
    for (const o of older.rows) await deleteBackup(env, o.id, o.dump_file_name);
    return backupKey(row.id, fileName);
}
