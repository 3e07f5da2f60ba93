// mastodon-web stand-in (Puma on 127.0.0.1:3000). Self-destruct mode is read once at
// process start, from the environment (EnvironmentFile) and .env.production, as a restart would.
import * as crypto from "node:crypto";
import * as http from "node:http";
import { backupRelPath, db, isSelfDestruct, mastodonSetting, railsEnv, simConfig } from "./common";
import type { Client } from "pg";

const env = railsEnv();
const domain = env.LOCAL_DOMAIN;
const selfDestruct = isSelfDestruct(env);
const version = simConfig().mastodonVersion;
const port = Number(process.env.PORT || 3000);
const cookieKey = crypto.createHash("sha256").update(`${env.SECRET_KEY_BASE}:session`).digest();

function signSession(userId: string): string {
  const data = Buffer.from(JSON.stringify({ user_id: userId })).toString("base64url");
  return `${data}--${crypto.createHmac("sha256", cookieKey).update(data).digest("base64url")}`;
}
function sessionUser(req: http.IncomingMessage): string | null {
  const cookies = Object.fromEntries(
    (req.headers.cookie ?? "").split(/;\s*/).filter(Boolean).map((kv) => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i), decodeURIComponent(kv.slice(i + 1))];
    }),
  );
  const v = cookies["_mastodon_session"];
  if (!v) return null;
  const [data, mac] = v.split("--");
  if (!data || !mac) return null;
  const expected = crypto.createHmac("sha256", cookieKey).update(data).digest("base64url");
  if (mac !== expected) return null;
  try {
    return String(JSON.parse(Buffer.from(data, "base64url").toString()).user_id);
  } catch {
    return null;
  }
}

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
const redirect = (location: string): Res => ({ status: 302, headers: { Location: location }, body: `<html><body>You are being <a href="${location}">redirected</a>.</body></html>`, type: "text/html; charset=utf-8" });

function wantsJson(req: http.IncomingMessage, pathname: string): boolean {
  const accept = req.headers.accept ?? "";
  return pathname.startsWith("/api/") || pathname.startsWith("/.well-known/") || pathname.startsWith("/nodeinfo") || /json/.test(accept) || /json/.test(req.headers["content-type"] ?? "");
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

async function route(req: http.IncomingMessage, url: URL): Promise<Res> {
  const p = url.pathname;
  const method = req.method ?? "GET";
  const user = sessionUser(req);

  // ---- routes that stay reachable in self-destruct mode (spec/requests/self_destruct_spec.rb)
  if (p === "/auth/sign_in") {
    if (method === "GET") return page(200, "Log in", `<form method="post" action="/auth/sign_in"><input name="user[email]"><input name="user[password]" type="password"></form>`);
    if (method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      const email = form.get("user[email]") ?? "";
      // User#active_for_authentication? refuses memorial accounts only: disabled, unconfirmed and pending users
      // sign in and reach what skips require_functional! (exports, archive downloads).
      const rows = await q(`SELECT u.id FROM users u JOIN accounts a ON a.id = u.account_id WHERE lower(u.email) = lower($1) AND NOT a.memorial`, [email]);
      if (!rows.length) return page(200, "Log in", `<p>Invalid Email address or password.</p>`);
      return { ...redirect(`https://${domain}/`), headers: { Location: `https://${domain}/`, "Set-Cookie": `_mastodon_session=${encodeURIComponent(signSession(rows[0].id))}; path=/; secure; httponly; samesite=lax` } };
    }
  }
  if (p === "/auth/sign_out" && (method === "DELETE" || method === "POST" || method === "GET")) {
    return { ...redirect(`https://${domain}/auth/sign_in`), headers: { Location: `https://${domain}/auth/sign_in`, "Set-Cookie": `_mastodon_session=; path=/; max-age=0` } };
  }
  if (p === "/auth/edit" || p === "/settings/export" || /^\/settings\/exports\/[a-z_]+\.csv$/.test(p)) {
    if (!user) return redirect(`https://${domain}/auth/sign_in`);
    if (p.endsWith(".csv")) return { status: 200, type: "text/csv", body: "Account address\n" };
    const backups = await q(`SELECT id, processed, created_at FROM backups WHERE user_id = $1 ORDER BY id`, [user]);
    const list = backups.map((b) => (b.processed ? `<li><a href="/backups/${b.id}/download">archive ${b.id}</a></li>` : `<li>archive ${b.id} (in progress)</li>`)).join("");
    return page(200, p === "/auth/edit" ? "Account settings" : "Import and export", `<ul>${list}</ul>`);
  }
  const dl = /^\/backups\/(\d+)\/download$/.exec(p);
  if (dl) {
    if (!user) return redirect(`https://${domain}/auth/sign_in`);
    const rows = await q(`SELECT id, user_id, dump_file_name, processed FROM backups WHERE id = $1`, [dl[1]]);
    const b = rows[0];
    if (!b || String(b.user_id) !== user || !b.processed || !b.dump_file_name) return page(404, "Not found", "<p>The page you are looking for isn't here.</p>");
    return redirect(`https://${domain}/${backupRelPath(b.id, b.dump_file_name)}`);
  }

  // ---- everything else: 410 in self-destruct mode
  if (selfDestruct) {
    if (wantsJson(req, p) || p.startsWith("/users/") || p === "/inbox") return json(410, { error: "Gone" });
    return page(410, "Gone", "<h1>This server is shutting down</h1><p>The page you are looking for is gone.</p>");
  }

  if (p === "/" || p === "/about" || p === "/explore" || p === "/home") return page(200, "Mastodon", `<div id="mastodon" data-props="{}"></div>`);
  if (p === "/health") return { status: 200, type: "text/plain", body: "OK" };
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
    return json(200, rows.map((r) => ({ id: String(r.id), content: `<p>${r.text}</p>`, published_at: r.published_at, all_day: r.all_day, updated_at: r.updated_at })));
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
  if (p === "/.well-known/host-meta") return { status: 200, type: "application/xrd+xml; charset=utf-8", body: `<?xml version="1.0" encoding="UTF-8"?><XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" template="https://${domain}/.well-known/webfinger?resource={uri}"/></XRD>` };
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
      const headers: Record<string, string> = { "Cache-Control": "max-age=0, private, must-revalidate", "X-Sandbox": "mastodon-web", ...(r.headers ?? {}) };
      if (r.type) headers["Content-Type"] = r.type;
      res.writeHead(r.status, headers);
      res.end(r.body ?? "");
    })
    .catch((e) => {
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`sandbox web error: ${(e as Error).message}`);
    });
});
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`* Listening on http://127.0.0.1:${port} (self_destruct=${selfDestruct})\n`);
});
process.on("SIGUSR1", () => process.stdout.write("phased restart requested (no-op in the sandbox)\n"));
process.on("SIGTERM", () => {
  server.close();
  void client?.end();
  process.exit(0);
});
