// The "gone" contract: what a closed Mastodon domain answers, in one place. The nginx vhosts
// (lib/gone/nginx.ts) and the parking Worker (lib/edge/cloudflare/worker.ts) are both rendered from it, and both are tested
// against it (test/support/gone-contract.ts): every path below, with every kind of request.
//
// Every path and method answers 410. The body follows Mastodon's own self-destruct answer
// (ApplicationController#check_self_destruct!): JSON `{"error":"Gone"}` where the client asked for JSON
// (Mastodon registers application/json, activity+json, ld+json and jrd+json as its :json format,
// config/initializers/mime_types.rb) or where the path only ever answers JSON; the page otherwise.

/** What the front nginx answers. */
export type FrontMode =
    | "original" //               the server's own vhost, untouched
    | "gone-except-downloads" //  410 Gone, except media, archive downloads, sign-in and ACME
    | "gone-everywhere"; //       410 Gone on every path (WebFinger and actors too), ACME still served

/** The languages the closure writes its pages and notices in. */
export const LANGUAGES = ["en", "ja"] as const;
export type Language = (typeof LANGUAGES)[number];

export const GONE_STATUS = 410;
export const GONE_JSON = JSON.stringify({ error: "Gone" });
export const GONE_PAGE_TYPE = "text/html; charset=utf-8";
export const GONE_JSON_TYPE = "application/json; charset=utf-8";
/** The same for every answer: browsers and caches may keep a 410 for an hour (short enough that a closure
 *  moved back is visible soon), and the body depends on Accept. */
export const GONE_HEADERS: Readonly<Record<string, string>> = {
    "Cache-Control": "public, max-age=3600",
    Vary: "Accept",
};

/** `Accept` values that ask for JSON (a regular expression, case-insensitive; nginx and JavaScript alike). */
export const JSON_ACCEPT = "application/((activity|ld|jrd)\\+)?json";

export interface GonePath {
    /** Regular expression on the path (no query string), anchored at the start. */
    pattern: string;
    /** A request path it covers; the tests send it to every server. `{domain}` is the server's domain. */
    example: string;
    /** JSON whatever the Accept header says (the path only ever answers JSON), or the page for browsers. */
    answer: "json" | "by-accept";
    why: string;
}

/**
 * The paths of the contract. Paths answering JSON by path come first: they are what remote servers and
 * apps call. A path added here is rendered into the nginx vhosts and the Worker and tested on both.
 */
export const GONE_PATHS: readonly GonePath[] = [
    { pattern: "^/api/", example: "/api/v1/instance", answer: "json", why: "Mastodon's REST API (apps)" },
    { pattern: "^/api/", example: "/api/v2/search?q=alice", answer: "json", why: "REST API with a query" },
    {
        pattern: "^/\\.well-known/webfinger$",
        example: "/.well-known/webfinger?resource=acct:alice@{domain}",
        answer: "json",
        why: "WebFinger: a 410 makes remote servers drop the account",
    },
    { pattern: "^/\\.well-known/nodeinfo$", example: "/.well-known/nodeinfo", answer: "json", why: "NodeInfo discovery (crawlers, server lists)" },
    { pattern: "^/nodeinfo/", example: "/nodeinfo/2.0", answer: "json", why: "NodeInfo document" },
    { pattern: "^/inbox$", example: "/inbox", answer: "json", why: "shared inbox: deliveries get a 4xx and are not retried" },
    {
        pattern: "^/users/[^/]+/(inbox|outbox|followers|following|collections/)",
        example: "/users/alice/inbox",
        answer: "json",
        why: "actor inbox and collections (ActivityPub only)",
    },
    { pattern: "^/actor$", example: "/actor", answer: "json", why: "the instance actor (ActivityPub only)" },
    { pattern: "^/oauth/token$", example: "/oauth/token", answer: "json", why: "OAuth token endpoint (apps)" },
    { pattern: "^/", example: "/users/alice", answer: "by-accept", why: "actor: JSON for servers, the page for browsers" },
    { pattern: "^/", example: "/users/alice/statuses/1", answer: "by-accept", why: "status URI" },
    { pattern: "^/", example: "/@alice", answer: "by-accept", why: "profile page" },
    { pattern: "^/", example: "/", answer: "by-accept", why: "home page" },
    { pattern: "^/", example: "/about", answer: "by-accept", why: "about page" },
    { pattern: "^/", example: "/tags/%E6%97%A5%E6%9C%AC", answer: "by-accept", why: "non-ASCII path (a hashtag)" },
    { pattern: "^/", example: "/.well-known/host-meta", answer: "by-accept", why: "host-meta (XRD)" },
    { pattern: "^/", example: "/system/media_attachments/files/000/000/001/original/a.png", answer: "by-accept", why: "local media" },
    { pattern: "^/", example: "/auth/sign_in", answer: "by-accept", why: "sign-in" },
    { pattern: "^/", example: "/backups/1/download", answer: "by-accept", why: "archive download" },
    { pattern: "^/", example: "/packs/app.js", answer: "by-accept", why: "static files" },
];

// --- what stays open while users fetch their data (closed and self-destructing) --------------------------

/** A route of the Rails app that stays reachable while users sign in and take their data. */
export interface KeptRoute {
    /** Regular expression on the path (no query string), anchored at both ends. */
    pattern: string;
    /** Methods that reach the app; any other answers 410. POST stands in for PUT, PATCH and DELETE sent
     *  from Rails forms and links (`_method` in the body, Rack::MethodOverride), which nginx cannot read. */
    methods: readonly string[];
    /** A request path it covers; the tests send it with each method. */
    example: string;
    /** The upstream controller (and action) behind it, which skips `check_self_destruct!`. */
    controller: string;
}

const READ = ["GET", "HEAD"] as const;
const FORM = ["GET", "HEAD", "POST"] as const;
const WRITE = ["POST", "PUT", "PATCH"] as const;

/**
 * Exactly what Mastodon itself keeps in self-destruct mode (4.3 to 4.7): the routes of the controllers that
 * `skip_before_action :check_self_destruct!` (app/controllers/application_controller.rb and its subclasses,
 * config/routes.rb, config/routes/settings.rb) and the OmniAuth request phase, which is middleware. Devise's
 * routes have `format: false`; the exports only their own format. Everything else answers 410.
 */
export const KEPT_ROUTES: readonly KeptRoute[] = [
    {
        pattern: "^/auth/sign_in$",
        methods: FORM,
        example: "/auth/sign_in",
        controller: "Auth::SessionsController#new, #create (password, then TOTP or security key)",
    },
    {
        pattern: "^/auth/sign_out$",
        methods: ["POST", "DELETE"],
        example: "/auth/sign_out",
        controller: "Auth::SessionsController#destroy (sign_out_via :delete, sent as POST by the web UI)",
    },
    {
        pattern: "^/auth/sessions/security_key_options$",
        methods: READ,
        example: "/auth/sessions/security_key_options",
        controller: "Auth::Sessions::SecurityKeyOptionsController#show (Auth::SessionsController#webauthn_options before 4.6)",
    },
    {
        pattern: "^/auth/password(/new|/edit)?$",
        methods: [...FORM, "PUT", "PATCH"],
        example: "/auth/password/new",
        controller: "Auth::PasswordsController (forgotten password)",
    },
    {
        pattern: "^/auth/confirmation(/new)?$",
        methods: FORM,
        example: "/auth/confirmation?confirmation_token=x",
        controller: "Auth::ConfirmationsController (confirming the e-mail address)",
    },
    {
        pattern: "^/auth/captcha_confirmation$",
        methods: ["POST"],
        example: "/auth/captcha_confirmation",
        controller: "Auth::ConfirmationsController#confirm_captcha",
    },
    {
        pattern: "^/auth/auth/[^/]+(/callback)?$",
        methods: FORM,
        example: "/auth/auth/openid_connect",
        controller: "OmniAuth request phase (middleware) and Auth::OmniauthCallbacksController (single sign-on)",
    },
    {
        pattern: "^/auth/challenge$",
        methods: ["POST"],
        example: "/auth/challenge",
        controller: "Auth::ChallengesController#create (password asked again before account changes)",
    },
    {
        pattern: "^/auth/edit$",
        methods: READ,
        example: "/auth/edit",
        controller: "Auth::RegistrationsController#edit (where Mastodon's self-destruct page sends signed-in users)",
    },
    // The form's POST cannot be told from a sign-up's (#create) here; registrations are closed since `announced`,
    // so the app refuses a sign-up (but one with a valid invite code).
    { pattern: "^/auth$", methods: WRITE, example: "/auth", controller: "Auth::RegistrationsController#update (PUT, sent as POST by the form)" },
    {
        pattern: "^/backups/[0-9]+/download$",
        methods: READ,
        example: "/backups/1/download",
        controller: "BackupsController#download (the link in the archive e-mail)",
    },
    { pattern: "^/settings/export$", methods: FORM, example: "/settings/export", controller: "Settings::ExportsController#show, #create (request an archive)" },
    {
        pattern: "^/settings/exports/(follows|blocks|mutes|lists|domain_blocks|bookmarks)\\.csv$",
        methods: READ,
        example: "/settings/exports/follows.csv",
        controller: "Settings::Exports::* (CSV exports)",
    },
    {
        pattern: "^/settings/exports/custom_filters\\.json$",
        methods: READ,
        example: "/settings/exports/custom_filters.json",
        controller: "Settings::Exports::CustomFiltersController (4.7)",
    },
    { pattern: "^/settings/login_activities$", methods: READ, example: "/settings/login_activities", controller: "Settings::LoginActivitiesController#index" },
    {
        pattern: "^/settings/two_factor_authentication_methods$",
        methods: READ,
        example: "/settings/two_factor_authentication_methods",
        controller: "Settings::TwoFactorAuthenticationMethodsController#index",
    },
    {
        pattern: "^/settings/two_factor_authentication_methods/disable$",
        methods: ["POST"],
        example: "/settings/two_factor_authentication_methods/disable",
        controller: "Settings::TwoFactorAuthenticationMethodsController#disable",
    },
    {
        pattern: "^/settings/security_keys(/new|/options)?$",
        methods: FORM,
        example: "/settings/security_keys/options",
        controller: "Settings::TwoFactorAuthentication::WebauthnCredentialsController",
    },
    {
        pattern: "^/settings/security_keys/[0-9]+$",
        methods: ["POST", "DELETE"],
        example: "/settings/security_keys/1",
        controller: "Settings::TwoFactorAuthentication::WebauthnCredentialsController#destroy",
    },
];

/** Directories of static files served from Mastodon's public directory while closed: what dist/nginx.conf
 *  serves as files (4.2 to 4.7; `/ocr/` from 4.5, `/shortcuts/` before), the sign-in pages' assets, and
 *  `/system/` (local media and the archives the download links point to). */
export const KEPT_FILE_DIRS: readonly string[] = ["assets", "avatars", "emoji", "headers", "ocr", "packs", "shortcuts", "sounds", "system"];

/** Where the page sends users to sign in, and where they land once signed in: the archive and exports. */
export const SIGN_IN_PATH = "/auth/sign_in";
export const EXPORT_PATH = "/settings/export";

/** A username no account has: the closure asks nginx on the host for its actor (and its WebFinger) to see
 *  that the 410 vhost is what nginx serves (lib/host/steps/vhost.ts). */
export const CHECK_USERNAME = "mastodon-closure-check";
export const CHECK_ACTOR_PATH = `/users/${CHECK_USERNAME}`;

/** Whether a request reaches the app (or the files) while closed; everything else answers as gone. */
export function keptWhileClosed(method: string, path: string): boolean {
    const p = path.replace(/\?.*$/, "");
    if (KEPT_FILE_DIRS.some((d) => p.startsWith(`/${d}/`))) return true;
    return KEPT_ROUTES.some((r) => r.methods.includes(method) && new RegExp(r.pattern).test(p));
}

/** One regular expression for the paths that answer JSON whatever Accept says. */
export const JSON_PATHS = [...new Set(GONE_PATHS.filter((p) => p.answer === "json").map((p) => p.pattern))].map((p) => `(${p})`).join("|");
