// Registrations closed from the stage that announces the closure on; the mode found is put back on the way back.
import { sourceFiles, sourceWhere } from "../../mastodon/deployment";
import { resolveMastodonSettings, rowFromSql, settingRowSql, SETTINGS_DEFAULTS_FILE } from "../../mastodon/site-settings";
import { HostAccess } from "../access";
import { queryOrUndefined, tootctl } from "../reads";
import { RemoteHost } from "../ssh";
import { Step } from "./step";

/** The registrations mode as the server resolves it: the settings row, else the default in the live
 *  directory's config/settings.yml ("open" on 4.2, "none" from 4.3 on, a fork's own otherwise). */
async function readRegistrationsMode(host: RemoteHost, access: HostAccess): Promise<string | undefined> {
    const rows = await queryOrUndefined<{ value: string | null }>(host, access, `SELECT ${settingRowSql("registrations_mode")} AS value`, []);
    if (!rows) return undefined;
    const row = rowFromSql(rows[0].value);
    // Mastodon's defaults count only without a row (tootctl writes one).
    if (row !== undefined) return resolveMastodonSettings({ registrations_mode: row }, "").registrationsMode;
    const source = sourceFiles(access.deployment, [SETTINGS_DEFAULTS_FILE]);
    const [defaults] = await host.readFiles(source.paths, `read ${SETTINGS_DEFAULTS_FILE}`, source.wrap);
    if (defaults === undefined)
        throw new Error(
            `no ${SETTINGS_DEFAULTS_FILE} in ${sourceWhere(access.deployment)} on ${host.target.host}: Mastodon's defaults are needed to know the registrations mode`,
        );
    return resolveMastodonSettings({ registrations_mode: row }, defaults).registrationsMode;
}

/** Registrations closed (mode "none", read back after closing); the mode found the first time is put back on the way back. */
export const closeRegistrations: Step<{ mode: "none" }, { previousMode: string }> = {
    async apply(host, access, _p, previous) {
        const mode = await readRegistrationsMode(host, access);
        if (mode === undefined) throw new Error(`cannot read the registrations mode: PostgreSQL on ${host.target.host} does not answer`);
        if (mode !== "none") {
            await tootctl(host, access, "settings registrations close");
            // Done once the server says so: the outputs report registrations closed from this step.
            const now = await readRegistrationsMode(host, access);
            if (now !== "none")
                throw new Error(
                    `registrations are "${now ?? "unreadable"}" after tootctl settings registrations close on ${host.target.host}: close them by hand, then run up again`,
                );
        }
        return previous ?? { previousMode: mode };
    },
    async read(host, access, p, result) {
        const mode = await readRegistrationsMode(host, access);
        return { params: mode !== undefined ? { ...p, mode: mode as "none" } : p, result };
    },
    async undo(host, access, _p, outputs) {
        const arg = { none: "close", open: "open", approved: "approved" }[outputs.previousMode] ?? "close";
        await tootctl(host, access, `settings registrations ${arg}`);
    },
};
