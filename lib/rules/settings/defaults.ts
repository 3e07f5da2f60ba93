// The value each optional key takes when unset, read off the declaration (keys.ts) and, for the database's
// name and user, off the default deployment kind's entry (kinds.ts). Computed once, when the module loads:
// a default that does not pass its own key's check fails here.
import { z } from "zod";
import { DefaultedKey, KEYS, SettingKey, Values } from "./keys";
import { KIND_SETTINGS } from "./kinds";

function declaredDefaults(): { [K in DefaultedKey]: Values[K] } {
    const entries = (Object.keys(KEYS.shape) as SettingKey[])
        .filter((k) => KEYS.shape[k] instanceof z.ZodDefault)
        .map((k) => [k, KEYS.shape[k].parse(undefined)]);
    return Object.fromEntries(entries);
}

const declared = declaredDefaults();

/** Defaults for every optional key that has one. */
export const DEFAULTS = {
    ...declared,
    databaseName: KIND_SETTINGS[declared.deployment].database.name,
    databaseUser: KIND_SETTINGS[declared.deployment].database.user,
};
