// Reading the stack's settings: every key read and checked against its declaration (keys.ts), then the rules
// between keys; every problem is reported at once, each naming the key and what is allowed. Pure, so that
// bad input is refused before anything connects or changes.
import { Checked, KEYS, SettingKey, Values, Written } from "./keys";
import { cloudflareSettings } from "./cloudflare";
import { kindProblems, stageProblems } from "./rules";
import { secretProblems } from "./secrets";
import { Settings, toSettings } from "./shape";
import { keysWithoutHost, splitHosts } from "./split-hosts";

export interface RawConfig {
    get(key: string): string | undefined;
    /** Whether the key is stored encrypted (set with `pulumi config set --secret`). */
    isSecret(key: string): boolean;
}

export class SettingsError extends Error {
    constructor(problems: string[]) {
        super(`invalid mastodon-closure settings:\n  - ${problems.join("\n  - ")}`);
        this.name = "SettingsError";
    }
}

const KEY_NAMES = Object.keys(KEYS.shape) as SettingKey[];

export function parseSettings(raw: RawConfig): Settings {
    const written: Written = {};
    for (const key of KEY_NAMES) {
        const value = raw.get(key)?.trim();
        if (value) written[key] = value;
    }
    const problems: string[] = [];
    const checked: Record<string, unknown> = {};
    const unchecked = new Set(keysWithoutHost(written));
    for (const key of KEY_NAMES) {
        if (unchecked.has(key)) continue;
        const schema = KEYS.shape[key];
        const result = schema.safeParse(written[key]);
        if (!result.success) {
            // Each problem of the key, its name first. The key then holds its default, if it has one.
            problems.push(...result.error.issues.map((issue) => `${key} ${issue.message}`));
            const fallback = schema.safeParse(undefined);
            checked[key] = fallback.success ? fallback.data : undefined;
        } else checked[key] = result.data;
    }
    const values = checked as Checked;
    secretProblems(values, written, (key) => raw.isSecret(key), problems);
    kindProblems(values, written, problems);
    stageProblems(values, written, problems);
    const cloudflare = cloudflareSettings(values, written, problems);
    const split = splitHosts(values, written, problems);
    if (problems.length > 0) throw new SettingsError(problems);
    // No problem: every required key was given and passed its check.
    return toSettings(values as Values, cloudflare, split);
}
