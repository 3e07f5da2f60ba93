// Mastodon's admin settings as the running server resolves them (Setting.[] in app/models/setting.rb):
// the `settings` row's value, YAML-decoded, when there is a row; else the default that config/settings.yml
// gives for the production environment. The defaults differ by version (registrations_mode is "open" on
// 4.2, "none" from 4.3 on) and forks ship their own, so the closure reads the file on the host, never assumes.

/** js-yaml's load, required where it runs: the host steps' provider is serialized by Pulumi, which cannot
 *  name js-yaml's internal modules (its package exports hide them) but can serialize a require of it. */
function loadYaml(text: string): unknown {
    return (require("js-yaml") as typeof import("js-yaml")).load(text);
}

/** Where the defaults live, relative to the live directory. */
export const SETTINGS_DEFAULTS_FILE = "config/settings.yml";

/** The production defaults of a config/settings.yml (`production:` merged over `defaults:` by YAML's
 *  `<<: *defaults`, as upstream writes it). */
export function defaultSettings(fileText: string): Record<string, unknown> {
    let doc: unknown;
    try {
        doc = loadYaml(fileText);
    } catch (e) {
        // js-yaml's message quotes the lines around the error: say where, not what the host's file says.
        const line = (e as { mark?: { line?: number } }).mark?.line;
        throw new Error(`${SETTINGS_DEFAULTS_FILE} is not YAML${line === undefined ? "" : ` (line ${line + 1})`}`);
    }
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== "object") throw new Error(`${SETTINGS_DEFAULTS_FILE} is not a YAML mapping`);
    const production = (doc as Record<string, unknown>).production;
    return production && typeof production === "object" ? (production as Record<string, unknown>) : {};
}

/** A `settings.value` as Setting#value decodes it: YAML, nil when blank. */
export function settingRowValue(value: string | null): unknown {
    if (value === null || value.trim() === "") return null;
    return loadYaml(value);
}

/**
 * A setting as Mastodon resolves it: `row` is the row's value when a row exists (null for a row with no
 * value), undefined when there is no row, and then the file's default counts.
 */
export function resolveSetting(key: string, row: string | null | undefined, defaults: Record<string, unknown>): unknown {
    return row === undefined ? (defaults[key] ?? null) : settingRowValue(row);
}

/** The settings the closure acts on. */
export interface MastodonSettings {
    /** "open", "approved" or "none". */
    registrationsMode: string;
    /** User archive retention period in days: Vacuum::BackupsVacuum deletes archives that long after they
     *  were requested. Undefined when the setting is blank or not a positive whole number: no vacuum then
     *  (ContentRetentionPolicy#retention_period). */
    backupsRetentionDays?: number;
}

export function resolveMastodonSettings(
    rows: { registrations_mode?: string | null; backups_retention_period?: string | null },
    defaultsText: string,
): MastodonSettings {
    const defaults = defaultSettings(defaultsText);
    const mode = resolveSetting("registrations_mode", rows.registrations_mode, defaults);
    const retention = resolveSetting("backups_retention_period", rows.backups_retention_period, defaults);
    return {
        // A row holding nothing reads as nil upstream: neither open nor approved, so closed.
        registrationsMode: typeof mode === "string" && mode !== "" ? mode : "none",
        ...(Number.isInteger(retention) && (retention as number) > 0 ? { backupsRetentionDays: retention as number } : {}),
    };
}

/** SQL for one setting's row: NULL when there is no row, '' for a row without a value (see resolveSetting). */
export function settingRowSql(key: "registrations_mode" | "backups_retention_period"): string {
    return `(SELECT coalesce(value, '') FROM settings WHERE var = '${key}')`;
}

/** The row as resolveSetting takes it, from settingRowSql's column. */
export function rowFromSql(column: string | null): string | null | undefined {
    return column === null ? undefined : column === "" ? null : column;
}
