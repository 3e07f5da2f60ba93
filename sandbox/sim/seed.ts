// Creates the Mastodon schema subset and seeds a small server. Run once at sandbox creation.
import * as fs from "node:fs";
import * as path from "node:path";
import { versionAtLeast } from "../../lib/mastodon/version";
import { processBackup } from "./backups";
import { db, railsEnv, FLAKY_DOMAIN, settingsYml, settingValue, simConfig } from "./common";

const SCHEMA = `
CREATE TABLE accounts (
  id bigserial PRIMARY KEY,
  username character varying DEFAULT '' NOT NULL,
  domain character varying,
  private_key text,
  public_key text DEFAULT '' NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  note text DEFAULT '' NOT NULL,
  display_name character varying DEFAULT '' NOT NULL,
  uri character varying DEFAULT '' NOT NULL,
  url character varying,
  locked boolean DEFAULT false NOT NULL,
  suspended_at timestamp without time zone,
  suspension_origin integer,
  inbox_url character varying DEFAULT '' NOT NULL,
  outbox_url character varying DEFAULT '' NOT NULL,
  shared_inbox_url character varying DEFAULT '' NOT NULL,
  followers_url character varying DEFAULT '' NOT NULL,
  protocol integer DEFAULT 0 NOT NULL,
  actor_type character varying,
  discoverable boolean,
  silenced_at timestamp without time zone,
  memorial boolean DEFAULT false NOT NULL,
  moved_to_account_id bigint,
  also_known_as character varying[]
);
CREATE TABLE account_migrations (
  id bigserial PRIMARY KEY,
  account_id bigint,
  acct character varying DEFAULT '' NOT NULL,
  followers_count bigint DEFAULT 0 NOT NULL,
  target_account_id bigint,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE TABLE follows (
  id bigserial PRIMARY KEY,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL,
  target_account_id bigint NOT NULL,
  show_reblogs boolean DEFAULT true NOT NULL,
  uri character varying,
  notify boolean DEFAULT false NOT NULL,
  languages character varying[]
);
CREATE UNIQUE INDEX index_follows_on_account_id_and_target_account_id ON follows (account_id, target_account_id);
CREATE INDEX index_follows_on_target_account_id_and_account_id ON follows (target_account_id, account_id);
CREATE TABLE blocks (
  id bigserial PRIMARY KEY,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL,
  target_account_id bigint NOT NULL,
  uri character varying
);
CREATE UNIQUE INDEX index_blocks_on_account_id_and_target_account_id ON blocks (account_id, target_account_id);
CREATE UNIQUE INDEX index_accounts_on_username_and_domain_lower ON accounts (lower(username), COALESCE(lower(domain), ''));
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email character varying DEFAULT '' NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  encrypted_password character varying DEFAULT '' NOT NULL,
  sign_in_count integer DEFAULT 0 NOT NULL,
  current_sign_in_at timestamp without time zone,
  last_sign_in_at timestamp without time zone,
  confirmed_at timestamp without time zone,
  confirmation_sent_at timestamp without time zone,
  locale character varying,
  account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  disabled boolean DEFAULT false NOT NULL,
  approved boolean DEFAULT true NOT NULL,
  role_id bigint
);
CREATE UNIQUE INDEX index_users_on_email ON users (email);
CREATE INDEX index_users_on_account_id ON users (account_id);
CREATE TABLE backups (
  id bigserial PRIMARY KEY,
  user_id bigint REFERENCES users(id) ON DELETE CASCADE,
  dump_file_name character varying,
  dump_content_type character varying,
  dump_updated_at timestamp without time zone,
  processed boolean DEFAULT false NOT NULL,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  dump_file_size bigint
);
CREATE INDEX index_backups_on_user_id ON backups (user_id);
CREATE TABLE announcements (
  id bigserial PRIMARY KEY,
  text text DEFAULT '' NOT NULL,
  published boolean DEFAULT false NOT NULL,
  all_day boolean DEFAULT false NOT NULL,
  scheduled_at timestamp without time zone,
  starts_at timestamp without time zone,
  ends_at timestamp without time zone,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  published_at timestamp without time zone,
  status_ids bigint[],
  notification_sent_at timestamp(6) without time zone
);
CREATE TABLE settings (
  id bigserial PRIMARY KEY,
  var character varying NOT NULL,
  value text,
  created_at timestamp without time zone,
  updated_at timestamp without time zone
);
CREATE UNIQUE INDEX index_settings_on_var ON settings (var);
CREATE TABLE statuses (
  id bigserial PRIMARY KEY,
  uri character varying,
  text text DEFAULT '' NOT NULL,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  in_reply_to_id bigint,
  url character varying,
  sensitive boolean DEFAULT false NOT NULL,
  visibility integer DEFAULT 0 NOT NULL,
  spoiler_text text DEFAULT '' NOT NULL,
  reply boolean DEFAULT false NOT NULL,
  language character varying,
  local boolean,
  account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  deleted_at timestamp without time zone
);
CREATE INDEX index_statuses_on_account_id ON statuses (account_id);
CREATE TABLE oauth_access_tokens (
  id bigserial PRIMARY KEY,
  token character varying NOT NULL,
  refresh_token character varying,
  expires_in integer,
  revoked_at timestamp without time zone,
  created_at timestamp without time zone NOT NULL,
  scopes character varying,
  application_id bigint,
  resource_owner_id bigint REFERENCES users(id) ON DELETE CASCADE,
  last_used_at timestamp without time zone
);
CREATE UNIQUE INDEX index_oauth_access_tokens_on_token ON oauth_access_tokens (token);

CREATE TABLE account_deletion_requests (
  id bigserial PRIMARY KEY,
  account_id bigint REFERENCES accounts(id) ON DELETE CASCADE,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE INDEX index_account_deletion_requests_on_account_id ON account_deletion_requests (account_id);
`;

const NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
];

export function localUsernames(n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(i < NAMES.length ? NAMES[i] : `user${String(i - NAMES.length + 1).padStart(4, "0")}`);
    return out;
}

export const REMOTE_DOMAINS = ["mastodon.remote.example", "pleroma.remote.example", "misskey.remote.example", FLAKY_DOMAIN];

/** The settings rows to seed and the config/settings.yml defaults: the sandbox's, else upstream's. */
function seededSettings() {
    return simConfig().mastodonSettings ?? { rows: { registrations_mode: "open" }, defaults: {} };
}

async function main(): Promise<void> {
    // `seed.js --settings-yml DIR`: only DIR/config/settings.yml of the sandbox's version (the checkout's, or
    // the image's source for a compose sandbox), written before the seed.
    if (process.argv[2] === "--settings-yml") {
        const dir = path.join(process.argv[3], "config");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "settings.yml"), settingsYml(simConfig().mastodonVersion, seededSettings().defaults));
        return;
    }
    const n = Number(process.argv[2] ?? 5);
    const env = railsEnv();
    const domain = env.LOCAL_DOMAIN;
    const c = await db(env);
    try {
        const mastodonSettings = seededSettings();
        await c.query(SCHEMA);
        // 4.7 (#23617): deleted-but-not-suspended accounts
        if (versionAtLeast(simConfig().mastodonVersion, 4, 7))
            await c.query(`ALTER TABLE accounts ADD COLUMN requested_deletion_at timestamp(6) without time zone`);
        await c.query("BEGIN");
        const rows = Object.entries<string | number | null>({ site_title: domain, ...mastodonSettings.rows }).filter(
            (e): e is [string, string | number] => e[1] !== null,
        );
        for (const [key, value] of rows) {
            await c.query(`INSERT INTO settings (var, value, created_at, updated_at) VALUES ($1, $2, now(), now())`, [key, settingValue(value)]);
        }
        const names = localUsernames(n);
        await c.query(
            `INSERT INTO accounts (username, domain, created_at, updated_at, uri, url, inbox_url, outbox_url, followers_url, protocol, actor_type, private_key, public_key)
       SELECT u, NULL, now() - interval '200 days', now(), '', 'https://${domain}/@' || u, '', '', '', 0, 'Person', 'PRIVATE', 'PUBLIC'
       FROM unnest($1::text[]) AS u`,
            [names],
        );
        await c.query(
            `INSERT INTO users (email, created_at, updated_at, encrypted_password, confirmed_at, account_id, locale)
       SELECT a.username || '@mail.example', now() - interval '200 days', now(), '$2a$10$sandbox', now() - interval '200 days', a.id, 'en'
       FROM accounts a WHERE a.domain IS NULL`,
        );
        // ~20 remote accounts on 4 domains, each with an inbox and its domain's shared inbox
        let k = 0;
        for (const d of REMOTE_DOMAINS) {
            for (let i = 0; i < 5; i++, k++) {
                const u = `remote${k + 1}`;
                await c.query(
                    `INSERT INTO accounts (username, domain, created_at, updated_at, uri, url, inbox_url, outbox_url, shared_inbox_url, followers_url, protocol, actor_type)
           VALUES ($1, $2, now(), now(), $3, $4, $5, $6, $7, $8, 1, 'Person')`,
                    [
                        u,
                        d,
                        `https://${d}/users/${u}`,
                        `https://${d}/@${u}`,
                        `https://${d}/users/${u}/inbox`,
                        `https://${d}/users/${u}/outbox`,
                        `https://${d}/inbox`,
                        `https://${d}/users/${u}/followers`,
                    ],
                );
            }
        }
        // every other remote account follows every other local account: each local account has followers on
        // every remote domain (its Move goes to each domain's shared inbox)
        await c.query(
            `INSERT INTO follows (account_id, target_account_id, created_at, updated_at, uri)
       SELECT r.id, l.id, now() - interval '100 days', now(), r.uri || '#follows/' || l.id
         FROM (SELECT id, uri, row_number() OVER (ORDER BY id) AS k FROM accounts WHERE domain IS NOT NULL) r,
              (SELECT id, row_number() OVER (ORDER BY id) AS i FROM accounts WHERE domain IS NULL) l
        WHERE (r.k + l.i) % 2 = 0`,
        );
        // a few statuses by the first local accounts
        await c.query(
            `INSERT INTO statuses (text, created_at, updated_at, account_id, local, visibility, uri)
       SELECT 'Hello from ' || a.username || ' #' || g, now() - (g || ' days')::interval, now(), a.id, true, 0, NULL
       FROM (SELECT * FROM accounts WHERE domain IS NULL ORDER BY id LIMIT 3) a, generate_series(1, 3) g`,
        );
        await c.query(
            `UPDATE statuses SET uri = 'https://${domain}/users/' || (SELECT username FROM accounts WHERE accounts.id = statuses.account_id) || '/statuses/' || id`,
        );
        // one processed backup for alice (file on disk), one pending for bob
        const alice = await c.query(`SELECT u.id FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = 'alice' AND a.domain IS NULL`);
        let aliceBackup: string | null = null;
        if (alice.rows.length) {
            const r = await c.query(
                `INSERT INTO backups (user_id, processed, created_at, updated_at) VALUES ($1, false, now() - interval '3 days', now() - interval '3 days') RETURNING id`,
                [alice.rows[0].id],
            );
            aliceBackup = r.rows[0].id;
        }
        await c.query("COMMIT");
        if (aliceBackup) {
            await processBackup(c, aliceBackup, env);
            await c.query(`UPDATE backups SET created_at = now() - interval '3 days', updated_at = now() - interval '3 days' WHERE id = $1`, [aliceBackup]);
        }
        const bob = await c.query(`SELECT u.id FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.username = 'bob' AND a.domain IS NULL`);
        if (bob.rows.length) {
            await c.query(`INSERT INTO backups (user_id, processed, created_at, updated_at) VALUES ($1, false, now(), now())`, [bob.rows[0].id]);
        }
    } finally {
        await c.end();
    }
}

if (require.main === module) {
    main().catch((e) => {
        console.error(e);
        process.exit(1);
    });
}
