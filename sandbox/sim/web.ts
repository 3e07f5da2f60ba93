// mastodon-web stand-in (Puma on 127.0.0.1:3000). Self-destruct mode is read once at
// process start, from the environment (EnvironmentFile) and .env.production, as a restart would.
import * as crypto from "node:crypto";
import * as http from "node:http";
import { backupDownloadUrl } from "./backups";
import { db, mastodonSetting, railsEnv, selfDestructAtStart, simConfig } from "./common";
import type { Client } from "pg";

const env = railsEnv();
const domain = env.LOCAL_DOMAIN;
const selfDestruct = selfDestructAtStart(env);
const version = simConfig().mastodonVersion;
const port = Number(process.env.PORT || 3000);
const cookieKey = crypto.createHash("sha256").update(`${env.SECRET_KEY_BASE}:session`).digest();

/** The Rails session (signed cookie): the signed-in user and Devise's stored location (`user_return_to`). */
interface Session {
    user_id?: string;
    return_to?: string;
}
function signSession(session: Session): string {
    const data = Buffer.from(JSON.stringify(session)).toString("base64url");
    return `${data}--${crypto.createHmac("sha256", cookieKey).update(data).digest("base64url")}`;
}
function readSession(req: http.IncomingMessage): Session {
    const cookies = Object.fromEntries(
        (req.headers.cookie ?? "")
            .split(/;\s*/)
            .filter(Boolean)
            .map((kv) => {
                const i = kv.indexOf("=");
                return [kv.slice(0, i), decodeURIComponent(kv.slice(i + 1))];
            }),
    );
    const v = cookies["_mastodon_session"];
    if (!v) return {};
    // "<data>--<mac>", both base64url, which has "-" in its alphabet: the MAC (of SHA-256) is always 43 characters.
    const [data, mac] = [v.slice(0, -45), v.slice(-43)];
    if (!data || v.slice(-45, -43) !== "--") return {};
    const expected = crypto.createHmac("sha256", cookieKey).update(data).digest("base64url");
    if (mac !== expected) return {};
    try {
        const parsed = JSON.parse(Buffer.from(data, "base64url").toString());
        return { ...(parsed.user_id ? { user_id: String(parsed.user_id) } : {}), ...(parsed.return_to ? { return_to: String(parsed.return_to) } : {}) };
    } catch {
        return {};
    }
}
const sessionCookie = (session: Session) => `_mastodon_session=${encodeURIComponent(signSession(session))}; path=/; secure; httponly; samesite=lax`;

interface Res {
    status: number;
    type?: string;
    body?: string;
    headers?: Record<string, string>;
}
const html = (title: string, body: string): string =>
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title} - ${domain}</title></head><body>${body}</body></html>`;
const json = (status: number, obj: unknown, type = "application/json; charset=utf-8"): Res => ({ status, type, body: JSON.stringify(obj) });
const page = (status: number, title: string, body: string): Res => ({ status, type: "text/html; charset=utf-8", body: html(title, body) });
const redirect = (location: string): Res => ({
    status: 302,
    headers: { Location: location },
    body: `<html><body>You are being <a href="${location}">redirected</a>.</body></html>`,
    type: "text/html; charset=utf-8",
});

function wantsJson(req: http.IncomingMessage, pathname: string): boolean {
    const accept = req.headers.accept ?? "";
    return (
        pathname.startsWith("/api/") ||
        pathname.startsWith("/.well-known/") ||
        pathname.startsWith("/nodeinfo") ||
        /json/.test(accept) ||
        /json/.test(req.headers["content-type"] ?? "")
    );
}

async function readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const ch of req) chunks.push(ch as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

let client: Client | null = null;
async function q(sql: string, params: unknown[] = []): Promise<any[]> {
    if (!client) {
        client = await db(env);
        client.on("error", () => {
            client = null;
        });
    }
    return (await client.query(sql, params)).rows;
}

/** Setting[key] (app/models/setting.rb), on the web process's own connection. */
async function setting(key: string): Promise<unknown> {
    await q("SELECT 1");
    return mastodonSetting(client!, key);
}

function actor(username: string): Record<string, unknown> {
    const id = `https://${domain}/users/${username}`;
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        id,
        type: "Person",
        preferredUsername: username,
        inbox: `${id}/inbox`,
        outbox: `${id}/outbox`,
        followers: `${id}/followers`,
        following: `${id}/following`,
        url: `https://${domain}/@${username}`,
        endpoints: { sharedInbox: `https://${domain}/inbox` },
        publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: "-----BEGIN PUBLIC KEY-----\nsandbox\n-----END PUBLIC KEY-----\n" },
    };
}

async function localAccount(username: string): Promise<{ id: string; username: string; suspended_at: Date | null } | null> {
    const rows = await q(`SELECT id, username, suspended_at FROM accounts WHERE domain IS NULL AND lower(username) = lower($1)`, [username]);
    return rows[0] ?? null;
}

/** A request as the controllers see it: Rack::MethodOverride has turned a form's POST with `_method` into
 *  its PUT, PATCH or DELETE. */
interface Ctx {
    req: http.IncomingMessage;
    url: URL;
    method: string;
    form: URLSearchParams;
    session: Session;
    user?: string;
}

/** Mastodon's route to a controller action that skips `check_self_destruct!` (app/controllers, 4.3+), or not. */
interface Route {
    methods: string[];
    path: RegExp;
    /** The controller skips check_self_destruct! (upstream's list); the rest answers 410 in self-destruct mode. */
    kept: boolean;
    /** before_action :authenticate_user! */
    auth?: boolean;
    /** From this version on (e.g. the custom filters export of 4.7). */
    since?: [number, number];
    handle: (c: Ctx) => Promise<Res> | Res;
}

const [major, minor] = version.split(".").map(Number);
const atLeast = (v: [number, number]) => major > v[0] || (major === v[0] && minor >= v[1]);
const abs = (path: string) => `https://${domain}${path}`;
const withSession = (r: Res, session: Session): Res => ({ ...r, headers: { ...(r.headers ?? {}), "Set-Cookie": sessionCookie(session) } });

/** User#update_sign_in!: the previous sign-in kept as the last, now as the current (UTC, as Rails writes it). */
async function updateSignIn(userId: string, newSignIn: boolean): Promise<void> {
    await q(
        `UPDATE users SET last_sign_in_at = coalesce(current_sign_in_at, now() AT TIME ZONE 'UTC'), current_sign_in_at = now() AT TIME ZONE 'UTC',
                sign_in_count = sign_in_count + $2 WHERE id = $1`,
        [userId, newSignIn ? 1 : 0],
    );
}

/** UserTrackingConcern (ApplicationController): a signed-in user's sign-in is brought up to date once a day. */
async function trackSignIn(userId: string): Promise<void> {
    const [u] = await q(
        `SELECT current_sign_in_at IS NULL OR current_sign_in_at < (now() AT TIME ZONE 'UTC') - interval '24 hours' AS due FROM users WHERE id = $1`,
        [userId],
    );
    if (u?.due) await updateSignIn(userId, false);
}

/** Auth::SessionsController#after_sign_in_path_for: the stored location, unless it is a home path; else root. */
function afterSignIn(session: Session): string {
    const last = session.return_to;
    return last && !["/", "/home"].includes(last) ? abs(last) : abs("/");
}

async function exportPage(c: Ctx, title: string): Promise<Res> {
    const backups = await q(`SELECT id, processed, created_at FROM backups WHERE user_id = $1 ORDER BY id`, [c.user]);
    const list = backups
        .map((b) => (b.processed ? `<li><a href="/backups/${b.id}/download">archive ${b.id}</a></li>` : `<li>archive ${b.id} (in progress)</li>`))
        .join("");
    const csv = ["follows", "blocks", "mutes", "lists", "domain_blocks", "bookmarks"].map((k) => `<a href="/settings/exports/${k}.csv">${k}</a>`).join(" ");
    return page(200, title, `<ul>${list}</ul><form method="post" action="/settings/export"><button>Request your archive</button></form><p>${csv}</p>`);
}

const signedInPage = (title: string) => (c: Ctx) => page(200, title, `<h1>${title}</h1><p>user ${c.user}</p>`);

const ROUTES: Route[] = [
    // Auth::SessionsController (Devise, format: false; sign_out_via :delete)
    {
        methods: ["GET", "HEAD"],
        path: /^\/auth\/sign_in$/,
        kept: true,
        handle: () =>
            page(
                200,
                "Log in",
                `<form method="post" action="/auth/sign_in"><input name="user[email]"><input name="user[password]" type="password"></form><a href="/auth/password/new">Forgot your password?</a><form method="post" action="/auth/auth/openid_connect"><button>Log in with SSO</button></form>`,
            ),
    },
    {
        methods: ["POST"],
        path: /^\/auth\/sign_in$/,
        kept: true,
        handle: async (c) => {
            // User#active_for_authentication? refuses memorial accounts only: disabled, unconfirmed and pending users
            // sign in and reach what skips require_functional! (exports, archive downloads).
            const rows = await q(`SELECT u.id FROM users u JOIN accounts a ON a.id = u.account_id WHERE lower(u.email) = lower($1) AND NOT a.memorial`, [
                c.form.get("user[email]") ?? "",
            ]);
            if (!rows.length) return page(200, "Log in", `<p>Invalid Email address or password.</p>`);
            await updateSignIn(rows[0].id, true); // Auth::SessionsController#on_authentication_success
            return withSession(redirect(afterSignIn(c.session)), { user_id: String(rows[0].id) });
        },
    },
    {
        methods: ["DELETE"],
        path: /^\/auth\/sign_out$/,
        kept: true,
        handle: () => ({
            ...redirect(abs("/auth/sign_in")),
            headers: { Location: abs("/auth/sign_in"), "Set-Cookie": `_mastodon_session=; path=/; max-age=0` },
        }),
    },
    // Auth::Sessions::SecurityKeyOptionsController (Auth::SessionsController#webauthn_options before 4.6): no user with
    // security keys is in the middle of signing in here.
    {
        methods: ["GET", "HEAD"],
        path: /^\/auth\/sessions\/security_key_options$/,
        kept: true,
        handle: () => json(401, { error: "Security keys are not enabled for this account" }),
    },
    // Auth::PasswordsController
    {
        methods: ["GET", "HEAD"],
        path: /^\/auth\/password\/(new|edit)$/,
        kept: true,
        handle: () => page(200, "Reset password", `<form method="post" action="/auth/password"><input name="user[email]"></form>`),
    },
    { methods: ["POST", "PUT", "PATCH"], path: /^\/auth\/password$/, kept: true, handle: () => redirect(abs("/auth/sign_in")) },
    // Auth::ConfirmationsController
    {
        methods: ["GET", "HEAD"],
        path: /^\/auth\/confirmation(\/new)?$/,
        kept: true,
        handle: () => page(200, "Resend confirmation instructions", `<form method="post" action="/auth/confirmation"><input name="user[email]"></form>`),
    },
    { methods: ["POST"], path: /^\/auth\/(confirmation|captcha_confirmation)$/, kept: true, handle: () => redirect(abs("/auth/sign_in")) },
    // OmniAuth (middleware, POST only: omniauth-rails_csrf_protection) and Auth::OmniauthCallbacksController. The
    // sandbox's OpenID Connect provider hands back the user's e-mail address as the callback's `email`.
    {
        methods: ["POST"],
        path: /^\/auth\/auth\/openid_connect$/,
        kept: true,
        handle: () => redirect(`https://sso.example/authorize?redirect_uri=${encodeURIComponent(abs("/auth/auth/openid_connect/callback"))}`),
    },
    {
        methods: ["GET", "POST"],
        path: /^\/auth\/auth\/openid_connect\/callback$/,
        kept: true,
        handle: async (c) => {
            const rows = await q(`SELECT u.id FROM users u WHERE lower(u.email) = lower($1) AND NOT u.disabled`, [
                c.url.searchParams.get("email") ?? c.form.get("email") ?? "",
            ]);
            if (!rows.length) return redirect(abs("/auth/sign_in"));
            return withSession(redirect(afterSignIn(c.session)), { user_id: String(rows[0].id) });
        },
    },
    // Auth::ChallengesController (the password asked again before sensitive changes)
    {
        methods: ["POST"],
        path: /^\/auth\/challenge$/,
        kept: true,
        auth: true,
        handle: (c) => redirect(abs(c.form.get("form_challenge[return_to]") ?? "/auth/edit")),
    },
    // Auth::RegistrationsController: only edit and update skip check_self_destruct!
    { methods: ["GET", "HEAD"], path: /^\/auth\/edit$/, kept: true, auth: true, handle: signedInPage("Account settings") },
    { methods: ["PUT", "PATCH"], path: /^\/auth$/, kept: true, auth: true, handle: () => redirect(abs("/auth/edit")) },
    { methods: ["GET", "HEAD"], path: /^\/auth\/sign_up$/, kept: false, handle: () => page(200, "Sign up", "<p>Registrations are closed.</p>") },
    { methods: ["POST"], path: /^\/auth$/, kept: false, handle: () => redirect(abs("/")) },
    // BackupsController#download
    {
        methods: ["GET", "HEAD"],
        path: /^\/backups\/(\d+)\/download$/,
        kept: true,
        auth: true,
        handle: async (c) => {
            const id = /^\/backups\/(\d+)/.exec(c.url.pathname)![1];
            const [b] = await q(`SELECT id, user_id, dump_file_name, processed FROM backups WHERE id = $1`, [id]);
            if (!b || String(b.user_id) !== c.user || !b.processed || !b.dump_file_name)
                return page(404, "Not found", "<p>The page you are looking for isn't here.</p>");
            return redirect(backupDownloadUrl(env, b.id, b.dump_file_name, abs));
        },
    },
    // Settings::ExportsController and the exports (Settings::ExportControllerConcern)
    { methods: ["GET", "HEAD"], path: /^\/settings\/export$/, kept: true, auth: true, handle: (c) => exportPage(c, "Import and export") },
    { methods: ["POST"], path: /^\/settings\/export$/, kept: true, auth: true, handle: () => redirect(abs("/settings/export")) },
    {
        methods: ["GET", "HEAD"],
        path: /^\/settings\/exports\/(follows|blocks|mutes|lists|domain_blocks|bookmarks)\.csv$/,
        kept: true,
        auth: true,
        handle: () => ({ status: 200, type: "text/csv", body: "Account address\n" }),
    },
    { methods: ["GET", "HEAD"], path: /^\/settings\/exports\/custom_filters\.json$/, kept: true, auth: true, since: [4, 7], handle: () => json(200, []) },
    // Settings::LoginActivitiesController, TwoFactorAuthenticationMethodsController, WebauthnCredentialsController
    { methods: ["GET", "HEAD"], path: /^\/settings\/login_activities$/, kept: true, auth: true, handle: signedInPage("Account history") },
    {
        methods: ["GET", "HEAD"],
        path: /^\/settings\/two_factor_authentication_methods$/,
        kept: true,
        auth: true,
        handle: signedInPage("Two-factor authentication"),
    },
    {
        methods: ["POST"],
        path: /^\/settings\/two_factor_authentication_methods\/disable$/,
        kept: true,
        auth: true,
        handle: () => redirect(abs("/settings/two_factor_authentication_methods")),
    },
    { methods: ["GET", "HEAD"], path: /^\/settings\/security_keys(\/new)?$/, kept: true, auth: true, handle: signedInPage("Security keys") },
    { methods: ["GET", "HEAD"], path: /^\/settings\/security_keys\/options$/, kept: true, auth: true, handle: () => json(200, { challenge: "sandbox" }) },
    { methods: ["POST"], path: /^\/settings\/security_keys$/, kept: true, auth: true, handle: () => json(200, { redirect_path: "/settings/security_keys" }) },
    { methods: ["DELETE"], path: /^\/settings\/security_keys\/\d+$/, kept: true, auth: true, handle: () => redirect(abs("/settings/security_keys")) },
    // A few of the settings that do not skip it: in self-destruct mode they answer 410, signed in or not.
    {
        methods: ["GET", "HEAD"],
        path: /^\/settings\/(profile|preferences\/appearance|otp_authentication|two_factor_authentication\/confirmation\/new|delete|migration|aliases|imports)$/,
        kept: false,
        auth: true,
        handle: signedInPage("Settings"),
    },
];

/** app/views/errors/self_destruct.html.haml: the lead, then account settings for signed-in users, else sign-in. */
function selfDestructPage(c: Ctx): Res {
    const links = c.user
        ? `<li><a href="/auth/edit">Account settings</a></li><li><a data-method="delete" href="/auth/sign_out">Logout</a></li>`
        : `<li><a href="/auth/sign_in">Log in</a></li><li><a href="/auth/password/new">Forgot your password?</a></li>`;
    return page(
        410,
        "This server is closing down",
        `<h1>This server is closing down</h1><p>Unfortunately, <strong>${domain}</strong> is permanently closing down. If you had an account there, you will not be able to continue using it, but you can still request a backup of your data.</p><ul>${links}</ul>`,
    );
}

async function route(req: http.IncomingMessage, url: URL): Promise<Res> {
    const p = url.pathname;
    let method = req.method ?? "GET";
    const session = readSession(req);
    const user = session.user_id;
    const form =
        method === "POST" && /x-www-form-urlencoded/.test(req.headers["content-type"] ?? "") ? new URLSearchParams(await readBody(req)) : new URLSearchParams();
    const override = form.get("_method")?.toUpperCase();
    if (override && ["PUT", "PATCH", "DELETE"].includes(override)) method = override;
    const c: Ctx = { req, url, method, form, session, user };

    // HealthController < ActionController::Base: none of ApplicationController's filters, self-destruct's neither
    // (the compose file's healthcheck keeps passing in self-destruct mode).
    if (p === "/health") return { status: 200, type: "text/plain", body: "OK" };
    const r = ROUTES.find((r) => r.path.test(p) && r.methods.includes(method) && (!r.since || atLeast(r.since)));
    // ApplicationController#check_self_destruct! runs before every other before_action (authentication too).
    if (selfDestruct && !r?.kept) {
        if (wantsJson(req, p) || p.startsWith("/users/") || p === "/inbox") return json(410, { error: "Gone" });
        return selfDestructPage(c);
    }
    if (r && user) await trackSignIn(user);
    if (r) {
        if (r.auth && !user) {
            // Devise's authenticate_user!: a navigational GET is stored, to come back to once signed in.
            const stored = method === "GET" && !wantsJson(req, p) ? { ...session, return_to: `${p}${url.search}` } : session;
            return withSession(redirect(abs("/auth/sign_in")), stored);
        }
        return r.handle(c);
    }

    if (p === "/" || p === "/about" || p === "/explore" || p === "/home") return page(200, "Mastodon", `<div id="mastodon" data-props="{}"></div>`);
    // POST /api/v1/statuses, DELETE /api/v1/statuses/:id: OAuth bearer token with write:statuses (docs "methods/statuses")
    if (p === "/api/v1/statuses" || /^\/api\/v1\/statuses\/\d+$/.test(p)) {
        const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
        const [owner] = await q(
            `SELECT u.account_id FROM oauth_access_tokens t JOIN users u ON u.id = t.resource_owner_id
        WHERE t.token = $1 AND t.revoked_at IS NULL AND t.scopes ~ '(^| )(write|write:statuses)( |$)'`,
            [token],
        );
        if (!owner) return json(401, { error: "The access token is invalid" });
        if (method === "POST" && p === "/api/v1/statuses") {
            const body = JSON.parse((await readBody(req)) || "{}");
            const text = String(body.status ?? "");
            if (!text) return json(422, { error: "Validation failed: Text can't be blank" });
            const [s] = await q(
                `INSERT INTO statuses (text, visibility, local, account_id, language, created_at, updated_at)
         VALUES ($1, 0, true, $2, $3, now(), now()) RETURNING id`,
                [text, owner.account_id, body.language ?? null],
            );
            return json(200, { id: String(s.id), content: text, visibility: "public" });
        }
        if (method === "DELETE" && p !== "/api/v1/statuses") {
            const rows = await q(`DELETE FROM statuses WHERE id = $1 AND account_id = $2 RETURNING id`, [p.split("/").pop(), owner.account_id]);
            return rows.length ? json(200, { id: String(rows[0].id) }) : json(404, { error: "Record not found" });
        }
    }
    if (p === "/api/v1/instance" || p === "/api/v2/instance") {
        const mode = String(await setting("registrations_mode"));
        const users = Number((await q(`SELECT count(*) AS n FROM accounts WHERE domain IS NULL AND suspended_at IS NULL`))[0].n);
        return json(200, {
            uri: domain,
            domain,
            title: domain,
            version,
            registrations: mode !== "none",
            approval_required: mode === "approved",
            stats: { user_count: users },
        });
    }
    if (p === "/api/v1/announcements") {
        const rows = await q(`SELECT id, text, published_at, starts_at, ends_at, all_day, updated_at FROM announcements WHERE published ORDER BY id`);
        return json(
            200,
            rows.map((r) => ({ id: String(r.id), content: `<p>${r.text}</p>`, published_at: r.published_at, all_day: r.all_day, updated_at: r.updated_at })),
        );
    }
    if (p === "/.well-known/webfinger") {
        const resource = url.searchParams.get("resource") ?? "";
        const m = /^(?:acct:)?@?([^@]+)(?:@(.+))?$/.exec(resource) ?? /^https:\/\/[^/]+\/users\/([^/]+)$/.exec(resource);
        if (!m || (m[2] && m[2].toLowerCase() !== domain.toLowerCase())) return json(404, { error: "Record not found" }, "application/jrd+json; charset=utf-8");
        const a = await localAccount(m[1]);
        if (!a) return json(404, { error: "Record not found" }, "application/jrd+json; charset=utf-8");
        if (a.suspended_at) return json(410, { error: "Gone" }, "application/jrd+json; charset=utf-8");
        return json(
            200,
            {
                subject: `acct:${a.username}@${domain}`,
                aliases: [`https://${domain}/@${a.username}`, `https://${domain}/users/${a.username}`],
                links: [
                    { rel: "http://webfinger.net/rel/profile-page", type: "text/html", href: `https://${domain}/@${a.username}` },
                    { rel: "self", type: "application/activity+json", href: `https://${domain}/users/${a.username}` },
                ],
            },
            "application/jrd+json; charset=utf-8",
        );
    }
    if (p === "/.well-known/host-meta")
        return {
            status: 200,
            type: "application/xrd+xml; charset=utf-8",
            body: `<?xml version="1.0" encoding="UTF-8"?><XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" template="https://${domain}/.well-known/webfinger?resource={uri}"/></XRD>`,
        };
    if (p === "/inbox" && method === "POST") {
        await readBody(req);
        return { status: 202, body: "" };
    }
    const inbox = /^\/users\/([^/]+)\/inbox$/.exec(p);
    if (inbox && method === "POST") {
        await readBody(req);
        return (await localAccount(inbox[1])) ? { status: 202, body: "" } : page(404, "Not found", "");
    }
    const act = /^\/(?:users\/|@)([^/]+)$/.exec(p);
    if (act) {
        const a = await localAccount(act[1]);
        if (!a) return wantsJson(req, p) ? json(404, { error: "Record not found" }) : page(404, "Not found", "<p>The page you are looking for isn't here.</p>");
        if (a.suspended_at) return wantsJson(req, p) ? json(410, { error: "Gone" }) : page(410, "Gone", "<p>This account has been suspended.</p>");
        if (/activity\+json|ld\+json/.test(req.headers.accept ?? "")) return json(200, actor(a.username), "application/activity+json; charset=utf-8");
        return page(200, `@${a.username}`, `<h1>@${a.username}@${domain}</h1>`);
    }
    if (p.startsWith("/api/")) return json(404, { error: "Record not found" });
    return page(404, "Not found", "<p>The page you are looking for isn't here.</p>");
}

const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", `https://${domain}`);
    route(req, url)
        .then((r) => {
            const headers: Record<string, string> = {
                "Cache-Control": "max-age=0, private, must-revalidate",
                "X-Sandbox": "mastodon-web",
                ...(r.headers ?? {}),
            };
            if (r.type) headers["Content-Type"] = r.type;
            res.writeHead(r.status, headers);
            res.end(r.body ?? "");
        })
        .catch((e) => {
            res.writeHead(500, { "Content-Type": "text/plain" });
            res.end(`sandbox web error: ${(e as Error).message}`);
        });
});
// Puma's bind as Mastodon's config/puma.rb sets it: BIND, else 127.0.0.1.
const bind = process.env.BIND || "127.0.0.1";
server.listen(port, bind, () => {
    process.stdout.write(`* Listening on http://${bind}:${port} (self_destruct=${selfDestruct})\n`);
});
process.on("SIGUSR1", () => process.stdout.write("phased restart requested (no-op in the sandbox)\n"));
process.on("SIGTERM", () => {
    server.close();
    void client?.end();
    process.exit(0);
});
