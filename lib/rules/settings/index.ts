// The stack's settings (Pulumi.<stack>.yaml, namespace `mastodon-closure`): each key declared once, with its
// type, default and check (keys.ts), the rules between keys beside it, and `parseSettings`, which refuses bad
// input with the key and what is allowed before anything connects. What the rest of the closure imports.
export { CLOUDFLARE_KEYS, CONFIG_NAMESPACE, OPTIONAL_SECRET_KEYS, SECRET_KEYS } from "./keys";
export { DEFAULTS } from "./defaults";
export { parseSettings, SettingsError } from "./parse";
export type { RawConfig } from "./parse";
export type { Settings } from "./shape";
export { describeHosts, SPLIT_ROLES, splitHostKeys } from "./roles";
export type { SplitHosts, SplitRole, SshEndpoint } from "./roles";
export { DOMAIN, isCalendarDate } from "./values";
