// Where the dumps go and which directories are the closure's own (lib/host/steps/dump-dir.ts), as a pure
// function: a directory the closure makes is recorded before it is made; one that was there is left as found
// and the dumps go in a subdirectory the closure makes; stale entries of the record are dropped.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dumpDirsOf, DUMP_SUBDIR, placeDumps } from "../lib/host/steps/dump-dir";

const seen = (over: Partial<Parameters<typeof placeDumps>[1]> = {}) => ({ missing: [], subdirThere: false, recordedThere: [], ...over });

describe("placeDumps", () => {
    test("dumpDir not there: the closure makes it and its missing parents, outermost first, recorded first", () => {
        assert.deepEqual(placeDumps("/srv/a/b", seen({ missing: ["/srv/a/b", "/srv/a"] }), []), {
            dir: "/srv/a/b",
            make: ["/srv/a", "/srv/a/b"],
            own: true,
            record: ["/srv/a", "/srv/a/b"],
        });
    });

    test("the default dumpDir, made by the closure at an earlier dormant: the next dump goes straight in it", () => {
        const d = "/var/backups/mastodon-closure";
        assert.deepEqual(placeDumps(d, seen({ recordedThere: [d] }), [d]), { dir: d, make: [], own: true });
    });

    test("an existing directory the closure did not make (/home/mastodon): left as found, the dumps in a subdirectory it makes", () => {
        assert.equal(DUMP_SUBDIR, "mastodon-closure");
        assert.deepEqual(placeDumps("/home/mastodon", seen(), []), {
            dir: "/home/mastodon/mastodon-closure",
            make: ["/home/mastodon/mastodon-closure"],
            own: true,
            record: ["/home/mastodon/mastodon-closure"],
        });
        // The next time: that subdirectory is the closure's own (recorded), nothing is made.
        const again = placeDumps("/home/mastodon", seen({ subdirThere: true, recordedThere: ["/home/mastodon/mastodon-closure"] }), [
            "/home/mastodon/mastodon-closure",
        ]);
        assert.deepEqual(again, { dir: "/home/mastodon/mastodon-closure", make: [], own: true });
    });

    test("a subdirectory of that name the closure did not make: used, but left as found (its mode never set)", () => {
        assert.deepEqual(placeDumps("/home/mastodon", seen({ subdirThere: true }), []), { dir: "/home/mastodon/mastodon-closure", make: [], own: false });
    });

    test("an entry for a directory no longer there is dropped; one recorded by a run killed before it made it is made now", () => {
        const d = "/var/backups/mastodon-closure";
        assert.deepEqual(placeDumps("/srv/x", seen({ missing: ["/srv/x"], recordedThere: [d] }), ["/srv/old", d, "/srv/x"]), {
            dir: "/srv/x",
            make: ["/srv/x"],
            own: true,
            record: [d, "/srv/x"],
        });
        // Killed between the record and the mkdir: the record already says so, nothing to write.
        assert.deepEqual(placeDumps("/srv/x", seen({ missing: ["/srv/x"] }), ["/srv/x"]), { dir: "/srv/x", make: ["/srv/x"], own: true });
    });

    test("the probe looks for dumps in dumpDir and the closure's subdirectory there", () => {
        assert.deepEqual(dumpDirsOf("/home/mastodon"), ["/home/mastodon", "/home/mastodon/mastodon-closure"]);
    });
});
