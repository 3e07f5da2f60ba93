// Where the dumps go, and which directories are the closure's own. A directory the closure makes is its own
// (mode 700, root's) and is named in the host's record (CREATED_DIRS_RECORD) before it is made; a directory
// that was there before is left as found, owner and mode, and the dumps go in a subdirectory of it that the
// closure makes. A failed dump removes the directories it made; a dump that was made is kept, and so is the
// directory that holds it.
import { shq } from "../../mastodon/shell";
import { CREATED_DIRS_RECORD, CreatedDirs } from "../records";
import { RemoteHost } from "../ssh";

/** The subdirectory of an existing dumpDir that the closure makes for its dumps. */
export const DUMP_SUBDIR = "mastodon-closure";

/** Every directory the closure's dumps can be in, for dumpDir: itself, or the subdirectory it makes there. */
export const dumpDirsOf = (dumpDir: string): string[] => [dumpDir, `${dumpDir}/${DUMP_SUBDIR}`];

/** What the host has, read before the dump. */
export interface DirsSeen {
    /** dumpDir and those of its parents that are not there, deepest first (empty when dumpDir is there). */
    missing: string[];
    /** dumpDir/DUMP_SUBDIR is there. */
    subdirThere: boolean;
    /** The directories of the record that are there now. */
    recordedThere: string[];
}

export interface DumpPlacement {
    /** Where the dump goes. */
    dir: string;
    /** Directories to make, outermost first, each mode 700 (named in the record before they are made). */
    make: string[];
    /** `dir` is the closure's own (made by it, now or before): it may set its mode. Otherwise it was there
     *  before and is left as found. */
    own: boolean;
    /** The record to write before anything is made; undefined when it stays as it is. */
    record?: string[];
}

/** Where the dump goes, what to make, and the record to write first. Pure. */
export function placeDumps(dumpDir: string, seen: DirsSeen, recorded: string[]): DumpPlacement {
    const dir = (d: string, make: string[], own: boolean): DumpPlacement => {
        // Entries for directories no longer there are dropped; what is about to be made is added.
        const kept = recorded.filter((r) => seen.recordedThere.includes(r));
        const next = [...kept, ...make.filter((m) => !kept.includes(m))];
        const same = next.length === recorded.length && next.every((r, i) => r === recorded[i]);
        return { dir: d, make, own, ...(same ? {} : { record: next }) };
    };
    if (seen.missing.length > 0) return dir(dumpDir, [...seen.missing].reverse(), true);
    if (seen.recordedThere.includes(dumpDir)) return dir(dumpDir, [], true);
    const sub = `${dumpDir}/${DUMP_SUBDIR}`;
    if (!seen.subdirThere) return dir(sub, [sub], true);
    return dir(sub, [], seen.recordedThere.includes(sub));
}

/** The record of the directories the closure made, as the host has it ([] when there is none). */
export async function recordedDirs(host: RemoteHost): Promise<string[]> {
    const text = await host.readFile(CREATED_DIRS_RECORD, "read the record of the directories the closure made");
    return text ? (JSON.parse(text) as CreatedDirs).dirs : [];
}

/** What the host has of dumpDir, its subdirectory and the recorded directories. */
export async function seeDumpDirs(host: RemoteHost, dumpDir: string, recorded: string[]): Promise<DirsSeen> {
    const r = await host.run(
        `d=${shq(dumpDir)}; while [ ! -e "$d" ]; do echo "missing $d"; d=$(dirname "$d"); done
[ -d ${shq(`${dumpDir}/${DUMP_SUBDIR}`)} ] && echo subdir
for d in ${recorded.map(shq).join(" ")}; do [ -d "$d" ] && echo "there $d"; done; true`,
        { label: `look at ${dumpDir} and the directories the closure made` },
    );
    const lines = r.stdout.split("\n");
    const tagged = (tag: string) => lines.filter((l) => l.startsWith(`${tag} `)).map((l) => l.slice(tag.length + 1));
    return { missing: tagged("missing"), subdirThere: lines.includes("subdir"), recordedThere: tagged("there") };
}

/** Writes the record of the directories the closure made. */
export async function writeRecordedDirs(host: RemoteHost, dirs: string[]): Promise<void> {
    const record: CreatedDirs = { dirs };
    await host.writeFile(CREATED_DIRS_RECORD, JSON.stringify(record, null, 2) + "\n", {
        owner: "root",
        mode: "600",
        label: "record the directories the closure makes",
    });
}

/** After a failed dump (which removed the directories it made): the record without them. Best effort: the
 *  next dump drops them too. */
export async function forgetRemovedDirs(host: RemoteHost, dumpDir: string): Promise<void> {
    try {
        const recorded = await recordedDirs(host);
        const seen = await seeDumpDirs(host, dumpDir, recorded);
        const kept = recorded.filter((r) => seen.recordedThere.includes(r));
        if (kept.length !== recorded.length) await writeRecordedDirs(host, kept);
    } catch {
        // A full disk may refuse the write; the entries name directories that are not there, and are dropped later.
    }
}
