// Mastodon versions as the host reports them: what the closure does differs by release.
/** True when `version` (e.g. "4.3.2", "v4.7.0-beta.1") is at least major.minor.patch (a pre-release counts as its release). */
export function versionAtLeast(version: string, major: number, minor: number, patch = 0): boolean {
    const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
    if (!m) return false;
    const [got, want] = [
        [+m[1], +m[2], +(m[3] ?? 0)],
        [major, minor, patch],
    ];
    const first = got.findIndex((n, i) => n !== want[i]);
    return first === -1 || got[first] > want[first];
}
