// The verified database dump (dormant) made before anything may stop the database; kept when moving back.
import { dumpLines } from "../../mastodon/deployment";
import { shq } from "../../mastodon/shell";
import { RemoteHost } from "../ssh";
import { forgetRemovedDirs, placeDumps, recordedDirs, seeDumpDirs, writeRecordedDirs } from "./dump-dir";
import { Step } from "./step";

export interface DumpParams {
    /** dumpDir: the dump goes there when the closure made it, else in a subdirectory the closure makes there
     *  (./dump-dir.ts). */
    dir: string;
    retentionDays: number;
    ageRecipient?: string;
    /** The dump file is on the host and matches its sha256. */
    intact: true;
}

export interface DumpManifest {
    path: string;
    sha256: string;
    bytes: number;
    /** Entries `pg_restore --list` found in the dump before it was (optionally) encrypted. */
    tocEntries: number;
    encrypted: boolean;
    createdAt: string;
    retainUntil: string;
}

/** sha256 of a file on the host, or undefined when it is not there. */
async function sha256Of(host: RemoteHost, path: string): Promise<string | undefined> {
    const r = await host.run(`if [ -e ${shq(path)} ]; then sha256sum ${shq(path)} | cut -d' ' -f1; else exit 44; fi`, {
        label: `sha256 of ${path}`,
        okCodes: [44],
    });
    return r.code === 44 ? undefined : r.stdout.trim();
}

/** pg_dump in custom format, verified with `pg_restore --list` before anything may stop the database,
 *  optionally encrypted to an age recipient, sha256 and a manifest written beside it. Kept on delete.
 *  A failed or interrupted dump leaves no file behind, nor a directory it made; a directory that was there
 *  before keeps its owner and mode. A dump that vanished later is reported, never made again silently: the
 *  database has changed since (self-destruct), and the old dump is the one to keep. */
export const databaseDump: Step<DumpParams, DumpManifest> = {
    async apply(host, access, p, previous) {
        if (previous) {
            const sum = await sha256Of(host, previous.path);
            if (sum === previous.sha256) return previous;
            throw new Error(
                `the database dump ${previous.path} made ${previous.createdAt} (sha256 ${previous.sha256}) is ${sum ? `changed (sha256 ${sum})` : "gone"} on the host. ` +
                    `It is not made again from a database that self-destruct has been changing since. Put your copy back at that path; ` +
                    `or, to keep a new dump instead, remove the DatabaseDump resource from the stack (pulumi state delete with its URN from pulumi stack --show-urns) and run up again`,
            );
        }
        const db = access.database;
        const lines = dumpLines(access.deployment, db);
        const createdAt = new Date();
        const stamp = createdAt.toISOString().replace(/[-:]/g, "").replace(/\..*/, "Z");
        const retainUntil = new Date(createdAt.getTime() + p.retentionDays * 86400_000).toISOString();
        // The directories it makes are recorded before they are made; one that was there is left as found.
        const recorded = await recordedDirs(host);
        const place = placeDumps(p.dir, await seeDumpDirs(host, p.dir, recorded), recorded);
        if (place.record) await writeRecordedDirs(host, place.record);
        // Removed (deepest first, when empty) if the dump fails.
        const madeNow = [...place.make].reverse().map(shq).join(" ");
        const base = `${place.dir}/${db.name}-${stamp}.dump`;
        const r = await host
            .run(
                `set -euo pipefail; umask 077; IFS= read -r PGPASSWORD; export PGPASSWORD
f=${shq(base)}; done=0; ticker=
cleanup() {
  [ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true
  [ "$done" = 1 ] || { rm -f "$f" "$f.age" "$f.sha256" "$f.age.sha256"; ${madeNow ? `rmdir ${madeNow} 2>/dev/null || true;` : ""} }
}
trap cleanup EXIT
${place.make.map((d) => `[ -d ${shq(d)} ] || mkdir -m 700 ${shq(d)}`).join("\n")}
${place.own ? `chmod 700 ${shq(place.dir)}` : ":"}
${lines.dump} &
dump=$!
# The size every 5 s while pg_dump runs, ended as soon as it is done (its sleep holds no output open).
while sleep 5 </dev/null >/dev/null 2>&1; do echo "progress: $(stat -c %s "$f" 2>/dev/null || echo 0)"; done &
ticker=$!
wait "$dump"
kill "$ticker" 2>/dev/null; ticker=
entries=$(${lines.list} | grep -cv '^;' || true)
[ "$entries" -gt 0 ] || { echo "pg_restore --list found no entries in $f" >&2; exit 1; }
${p.ageRecipient ? `age -r ${shq(p.ageRecipient)} -o "$f.age" "$f"; rm -f "$f"; f="$f.age"` : ":"}
sum=$(sha256sum "$f" | cut -d' ' -f1); bytes=$(stat -c %s "$f")
echo "$sum  $(basename "$f")" > "$f.sha256"
done=1
printf '{"path":"%s","sha256":"%s","bytes":%s,"tocEntries":%s}\\n' "$f" "$sum" "$bytes" "$entries"`,
                {
                    stdin: `${db.password}\n`,
                    label: "pg_dump and verify the Mastodon database",
                    // Shown by the engine while the step runs: a large database takes a while.
                    onLine: (line) =>
                        line.startsWith("progress: ") && console.error(`database dump: ${(Number(line.slice(10)) / 1e6).toFixed(1)} MB written so far`),
                },
            )
            .catch(async (e) => {
                if (place.make.length > 0) await forgetRemovedDirs(host, p.dir);
                throw e;
            });
        const made = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
        const manifest: DumpManifest = { ...made, encrypted: !!p.ageRecipient, createdAt: createdAt.toISOString(), retainUntil };
        await host.writeFile(`${made.path}.manifest.json`, JSON.stringify(manifest, null, 2) + "\n", {
            owner: "root",
            mode: "600",
            label: "write the dump manifest",
        });
        return manifest;
    },
    async read(host, _access, p, result) {
        return { params: { ...p, intact: ((await sha256Of(host, result.path)) === result.sha256) as true }, result };
    },
    // The dump is kept: it is the only copy of the data once the host is turned off.
    async undo() {},
};
