#!/bin/bash
# Build one sandbox host: files, network namespace, mount namespace (held by an
# init process), then boot its services and seed the database.
# Called by sandbox/client.ts with these variables set:
#   SBX_NAME SBX_ROOT SBX_N SBX_DOMAIN SBX_ACCOUNTS SBX_VERSION SBX_TICK_MS
#   SBX_BOOT_MS SBX_REPO SBX_DB_PASS SBX_SECRET SBX_MASTODON_SETTINGS
# and, for media on object storage, SBX_S3_BUCKET SBX_S3_ACCESS_KEY SBX_S3_SECRET_KEY; for split hosts,
# SBX_PROXY_FOR (this host is only the nginx in front of the Mastodon at that address) and SBX_BIND (the
# address Mastodon's web and streaming listen on, as BIND in .env.production; default 127.0.0.1); SBX_DEPLOYMENT
# (systemd, the default, or compose: upstream's docker-compose.yml run by a Docker engine in the sandbox).
# Split hosts, PostgreSQL on its own machine: SBX_DB_SERVER=1 (this host is only a PostgreSQL server, listening
# on its address too; sandbox/client.ts adds the Mastodon host to its pg_hba.conf) or SBX_DB_HOST (Mastodon's
# database is at that address, with SBX_DB_PASS; no PostgreSQL here, and the seed fills the remote one).
set -euo pipefail

: "${SBX_NAME:?}" "${SBX_ROOT:?}" "${SBX_N:?}" "${SBX_DOMAIN:?}" "${SBX_REPO:?}"
HERE="$(cd "$(dirname "$0")" && pwd)"
R="$SBX_ROOT"
NS="mcsbx-$SBX_NAME"
HOSTIP="10.213.$SBX_N.1"
SBXIP="10.213.$SBX_N.2"
VH="mcsh$SBX_N"      # host side veth (name length <= 15)
VS="mcsb$SBX_N"      # sandbox side veth
PGVER="$(ls /usr/lib/postgresql | sort -n | tail -1)"
PGBIN="/usr/lib/postgresql/$PGVER/bin"

log() { echo "[sandbox $SBX_NAME] $*" >&2; }
COMPOSE=0; [ "${SBX_DEPLOYMENT:-systemd}" != compose ] || COMPOSE=1

mkdir -p "$R"
chmod 755 "$R"
cd "$R"
mkdir -p etc/systemd/system/multi-user.target.wants home/mastodon/live/bin home/admin/.ssh \
  usr-local-sbin var-log-nginx var-lib-nginx var-lib-sim/journal pgsock redis logs client
chmod 755 "$R/logs"

# ---------------------------------------------------------------- users
MUID=20991; AUID=20992
cp /etc/passwd etc/passwd; cp /etc/group etc/group; cp /etc/shadow etc/shadow
sed -i '/^mastodon:/d;/^admin:/d' etc/passwd etc/group etc/shadow
echo "mastodon:x:$MUID:$MUID:Mastodon,,,:/home/mastodon:/bin/bash" >> etc/passwd
echo "admin:x:$AUID:$AUID:Admin,,,:/home/admin:/bin/bash" >> etc/passwd
echo "mastodon:x:$MUID:" >> etc/group
echo "admin:x:$AUID:" >> etc/group
# '*' (not '!'): no password login, but not "locked" for sshd's key auth
echo "mastodon:*:20000:0:99999:7:::" >> etc/shadow
echo "admin:*:20000:0:99999:7:::" >> etc/shadow
sed -i "s/^sudo:x:\([0-9]*\):\(.*\)$/sudo:x:\1:\2,admin/; s/:,admin$/:admin/" etc/group
chmod 644 etc/passwd etc/group; chmod 640 etc/shadow; chown root:shadow etc/shadow 2>/dev/null || true
cat > etc/sudoers <<'EOF'
Defaults	env_reset
Defaults	mail_badpass
Defaults	secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
Defaults	use_pty
root	ALL=(ALL:ALL) ALL
%sudo	ALL=(ALL:ALL) ALL
admin	ALL=(ALL) NOPASSWD:ALL
EOF
chmod 440 etc/sudoers

# ---------------------------------------------------------------- ssh
mkdir -p etc/ssh
ssh-keygen -q -t ed25519 -N '' -C "root@$SBX_DOMAIN" -f etc/ssh/ssh_host_ed25519_key
ssh-keygen -q -t ed25519 -N '' -C "sandbox-client@$SBX_NAME" -f client/id_ed25519
cp /etc/ssh/moduli etc/ssh/ 2>/dev/null || true
cat > etc/ssh/sshd_config <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers admin
ForceCommand /usr/local/sbin/mcsbx-session
AllowTcpForwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem	sftp	/usr/lib/openssh/sftp-server
EOF
cp /etc/ssh/ssh_config etc/ssh/ssh_config 2>/dev/null || true
cp client/id_ed25519.pub home/admin/.ssh/authorized_keys
chmod 700 home/admin/.ssh; chmod 600 home/admin/.ssh/authorized_keys
echo "$SBXIP $(cut -d' ' -f1,2 etc/ssh/ssh_host_ed25519_key.pub)" > client/known_hosts
chown -R $AUID:$AUID home/admin; chmod 750 home/admin

# ---------------------------------------------------------------- nginx
cp -a /etc/nginx etc/nginx
rm -f etc/nginx/sites-enabled/*
mkdir -p etc/nginx/ssl
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj "/CN=$SBX_DOMAIN" -addext "subjectAltName=DNS:$SBX_DOMAIN" \
  -keyout etc/nginx/ssl/$SBX_DOMAIN.key -out etc/nginx/ssl/$SBX_DOMAIN.crt 2>/dev/null
# Each release's own vhost: 4.5 rewrote dist/nginx.conf (^~ prefixes with /ocr/, @mastodon, no /sw.js,
# proxy_read_timeout 120); 4.3.2 added gzip_static.
IFS=. read -r NV_MAJOR NV_MINOR _ <<<"${SBX_VERSION%%-*}"
if [ "$NV_MAJOR" -gt 4 ] || { [ "$NV_MAJOR" -eq 4 ] && [ "$NV_MINOR" -ge 5 ]; }; then VHOST=4.5
elif [ "$NV_MAJOR" -eq 4 ] && [ "$NV_MINOR" -ge 3 ]; then VHOST=4.3
else VHOST=4.2; fi
sed "s/@DOMAIN@/$SBX_DOMAIN/g" "$HERE/nginx-mastodon-$VHOST.conf" > etc/nginx/sites-available/mastodon
# In front of another host's Mastodon: the upstreams are that host's web and streaming.
if [ -n "${SBX_PROXY_FOR:-}" ]; then
  sed -i "s/server 127\.0\.0\.1:3000 /server $SBX_PROXY_FOR:3000 /; s/server 127\.0\.0\.1:4000 /server $SBX_PROXY_FOR:4000 /" etc/nginx/sites-available/mastodon
fi
ln -s /etc/nginx/sites-available/mastodon etc/nginx/sites-enabled/mastodon
cp -a /var/lib/nginx/. var-lib-nginx/ 2>/dev/null || true
mkdir -p var-lib-nginx/cache; chown www-data var-lib-nginx/cache

# ---------------------------------------------------------------- mastodon home
LIVE=home/mastodon/live
mkdir -p $LIVE/public/system $LIVE/log $LIVE/tmp $LIVE/config
mkdir -p $LIVE/public/.well-known/acme-challenge
echo "sandbox-acme-token-content" > $LIVE/public/.well-known/acme-challenge/sandbox-test-token
echo "// service worker" > $LIVE/public/sw.js
mkdir -p $LIVE/public/packs $LIVE/public/assets
echo "console.log('pack')" > $LIVE/public/packs/app.js
echo "<html><body>Mastodon is down for maintenance</body></html>" > $LIVE/public/500.html
# Media on object storage: S3_* as Mastodon's docs set them for an S3-compatible provider (path style).
S3_LINES="S3_ENABLED=false"
if [ -n "${SBX_S3_BUCKET:-}" ]; then
  S3_LINES="S3_ENABLED=true
S3_BUCKET=$SBX_S3_BUCKET
AWS_ACCESS_KEY_ID=$SBX_S3_ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SBX_S3_SECRET_KEY
S3_REGION=us-east-1
S3_PROTOCOL=http
S3_HOSTNAME=$SBXIP:9000
S3_ENDPOINT=http://$SBXIP:9000"
fi
# mastodon:setup's defaults: the install guide's local PostgreSQL and Redis, or (using Docker) the compose
# services db and redis, with the postgres user and database and no password (the db service trusts its network).
if [ $COMPOSE = 1 ]; then DB_LINES="DB_HOST=db
DB_USER=postgres
DB_NAME=postgres
DB_PASS=
DB_PORT=5432
REDIS_HOST=redis"
else DB_LINES="DB_HOST=/var/run/postgresql
DB_USER=mastodon
DB_NAME=mastodon_production
DB_PASS=$SBX_DB_PASS
DB_PORT=5432
REDIS_HOST=localhost"
fi
cat > $LIVE/.env.production <<EOF
# Generated by the mastodon-closure sandbox (shape of mastodon:setup output)
LOCAL_DOMAIN=$SBX_DOMAIN
SINGLE_USER_MODE=false
SECRET_KEY_BASE=$SBX_SECRET
OTP_SECRET=$(openssl rand -hex 64)
$DB_LINES
REDIS_PORT=6379
$S3_LINES
SMTP_SERVER=localhost
SMTP_PORT=25
SMTP_FROM_ADDRESS=notifications@$SBX_DOMAIN
EOF
[ -z "${SBX_BIND:-}" ] || echo "BIND=$SBX_BIND" >> $LIVE/.env.production
# Split hosts: the database on another host, reached at its address (DB_PASS is that database's).
[ -z "${SBX_DB_HOST:-}" ] || sed -i "s#^DB_HOST=.*#DB_HOST=$SBX_DB_HOST#" $LIVE/.env.production
chmod 600 $LIVE/.env.production
# Mastodon's source of the version (lib/mastodon/version.rb; config/settings.yml is written with the seed's
# defaults below): the checkout, or (compose) what the image is built from, where the checkout holds
# docker-compose.yml (upstream's, with the sandbox's images) and the sandbox's override.
SRC=$LIVE
if [ $COMPOSE = 1 ]; then
  SRC=image-src
  sed "s/@VERSION@/$SBX_VERSION/g" "$HERE/compose/docker-compose.yml" > $LIVE/docker-compose.yml
  cp "$HERE/compose/docker-compose.override.yml" $LIVE/
  rmdir $LIVE/bin
else
cat > $LIVE/bin/tootctl <<'EOF'
#!/bin/sh
exec /usr/bin/node /opt/mastodon-sim/dist/sandbox/sim/tootctl.js "$@"
EOF
cat > $LIVE/bin/rails <<'EOF'
#!/bin/sh
exec /usr/bin/node /opt/mastodon-sim/dist/sandbox/sim/rails.js "$@"
EOF
chmod 755 $LIVE/bin/tootctl $LIVE/bin/rails
fi
# Mastodon declares its version in source (lib/mastodon/version.rb); the closure reads it without booting Rails.
mkdir -p $SRC/lib/mastodon
IFS=. read -r V_MAJOR V_MINOR V_PATCH <<<"${SBX_VERSION%%-*}"
cat > $SRC/lib/mastodon/version.rb <<EOF
# frozen_string_literal: true

module Mastodon
  module Version
    module_function

    def major
      $V_MAJOR
    end

    def minor
      $V_MINOR
    end

    def patch
      ${V_PATCH:-0}
    end

    def default_prerelease
      ''
    end

    def prerelease
      ENV['MASTODON_VERSION_PRERELEASE'].presence || default_prerelease
    end

    def to_a
      [major, minor, patch].join('.')
    end
  end
end
EOF
chown -R $MUID:$MUID home/mastodon
[ $COMPOSE = 0 ] || chown -R $MUID:$MUID image-src
# The image's mastodon user (991) writes media and archives through the ./public/system volume.
[ $COMPOSE = 0 ] || chown -R 991:991 $LIVE/public/system
chmod 751 home/mastodon   # install guide: chmod o+x /home/mastodon (nginx serves public/)
chmod 755 $LIVE

# ---------------------------------------------------------------- sim state
# Rows of Mastodon's settings table and a fork's defaults (sandbox/client.ts StartOptions), for the seed;
# null: the seed's own (registrations open, upstream's defaults).
cat > var-lib-sim/config.json <<EOF
{"name":"$SBX_NAME","mastodonVersion":"$SBX_VERSION","sidekiqTickMs":$SBX_TICK_MS,"railsBootMs":$SBX_BOOT_MS,"accounts":$SBX_ACCOUNTS,
 "mastodonSettings":${SBX_MASTODON_SETTINGS:-null}}
EOF
cat > var-lib-sim/sandbox.env <<EOF
SBX_ROOT=$R
PGBIN=$PGBIN
PGDATA=$R/pgdata
EOF
touch var-lib-sim/boots
if [ $COMPOSE = 1 ]; then
  # Shared with the containers: their mastodon user (991) and the db container's postgres (70, its socket).
  mkdir -p var-lib-sim/pgsock
  chown -R 991:991 var-lib-sim; chown 70:70 var-lib-sim/pgsock
else
  chown -R $MUID:$MUID var-lib-sim
fi
chown root:root var-lib-sim/sandbox.env var-lib-sim/journal

# ---------------------------------------------------------------- systemd units
for u in web streaming sidekiq; do
  sed "s#@REPO@#/opt/mastodon-sim#g" "$HERE/units/mastodon-$u.service" > etc/systemd/system/mastodon-$u.service
done
install -m 755 "$HERE/systemctl" usr-local-sbin/systemctl
install -m 755 "$HERE/session" usr-local-sbin/mcsbx-session
# A proxy host runs no Mastodon: its units are there, never enabled. A compose host runs Mastodon, its
# database and Redis as containers of its Docker engine, which starts them again at boot.
if [ $COMPOSE = 1 ]; then host_units="docker nginx ssh"
else
  host_units="postgresql redis-server nginx ssh"
  [ -n "${SBX_PROXY_FOR:-}${SBX_DB_SERVER:-}" ] || for u in mastodon-web mastodon-streaming mastodon-sidekiq; do
    ln -s /etc/systemd/system/$u.service etc/systemd/system/multi-user.target.wants/$u.service
  done
fi
# Split hosts: a database host runs PostgreSQL alone (with sshd); a Mastodon host whose database is on
# another runs no PostgreSQL of its own.
if [ -n "${SBX_DB_SERVER:-}" ]; then host_units="postgresql ssh"
elif [ -n "${SBX_DB_HOST:-}" ]; then host_units="redis-server nginx ssh"; fi
for u in $host_units; do
  ln -s /lib/systemd/system/$u.service etc/systemd/system/multi-user.target.wants/$u.service
done

# ---------------------------------------------------------------- postgresql cluster
if [ $COMPOSE = 0 ]; then
# Split hosts: no cluster on a Mastodon host whose database is on another host.
if [ -z "${SBX_DB_HOST:-}" ]; then
mkdir -p pgdata; chown postgres:postgres pgdata pgsock; chmod 700 pgdata
setpriv --reuid=postgres --regid=postgres --init-groups env -i PATH=/usr/bin:/bin \
  "$PGBIN/initdb" -D "$R/pgdata" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null
cat >> pgdata/postgresql.conf <<EOF
listen_addresses = '127.0.0.1'
port = 5432
unix_socket_directories = '/var/run/postgresql,$R/pgsock'
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
# Split hosts: a database host listens on its own address too, for the Mastodon host its pg_hba.conf lets in
# (sandbox/client.ts allowDatabaseClient); each connection is logged with the address it came from.
[ -z "${SBX_DB_SERVER:-}" ] || cat >> pgdata/postgresql.conf <<EOF
listen_addresses = '127.0.0.1,$SBXIP'
log_connections = on
EOF
cat > pgdata/pg_hba.conf <<'EOF'
# TYPE  DATABASE USER      ADDRESS        METHOD
local   all      postgres                 peer
local   all      all                      peer map=sandbox
host    all      all       127.0.0.1/32   scram-sha-256
host    all      all       ::1/128        scram-sha-256
EOF
cat > pgdata/pg_ident.conf <<'EOF'
# MAPNAME  SYSTEM-USERNAME  PG-USERNAME
sandbox    /^(.*)$          \1
sandbox    root             mastodon
EOF
chown postgres:postgres pgdata/*.conf
fi
chown redis:redis redis 2>/dev/null || true
touch logs/postgresql.log logs/redis.log; chown postgres:postgres logs/postgresql.log; chown redis:redis logs/redis.log
fi

# ---------------------------------------------------------------- namespaces
# Mountpoints shared by all sandboxes (empty directories; removed by the last stop).
# /var/lib/mastodon-closure and /var/backups are where the closure keeps its journal and dumps: private
# to each sandbox, so that no sandbox sees another's closure.
mkdir -p /opt/mastodon-sim /var/lib/mastodon-sim /var/lib/mastodon-closure
mkdir -p var-lib-closure var-backups
ip netns add "$NS"
ip link add "$VH" type veth peer name "$VS"
ip link set "$VS" netns "$NS"
ip addr add "$HOSTIP/30" dev "$VH"
ip link set "$VH" up
ip netns exec "$NS" ip addr add "$SBXIP/30" dev "$VS"
ip netns exec "$NS" ip link set "$VS" up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip route add default via "$HOSTIP"

# A Docker engine needs the cgroup hierarchies, which the network namespace's own /sys lacks: mounted
# again, as the machine has them.
CGROUPS=""
if [ $COMPOSE = 1 ]; then
  CGROUPS=$(awk '$2 == "/sys/fs/cgroup" && $3 == "tmpfs" { print "mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup" }
    $2 ~ "^/sys/fs/cgroup" && ($3 == "cgroup" || $3 == "cgroup2") { print "mkdir -p " $2 "; mount -t " $3 " -o " $4 " " $3 " " $2 }' /proc/mounts)
fi
INIT_SCRIPT="
set -e
mount --make-rprivate /
for f in passwd group shadow sudoers; do mount --bind '$R/etc/'\$f /etc/\$f; done
mount --bind '$R/etc/nginx' /etc/nginx
mount --bind '$R/etc/ssh' /etc/ssh
mount --bind '$R/etc/systemd/system' /etc/systemd/system
mount --bind '$R/home' /home
mount --bind '$R/usr-local-sbin' /usr/local/sbin
mount --bind '$R/var-log-nginx' /var/log/nginx
mount --bind '$R/var-lib-nginx' /var/lib/nginx
mount --bind '$R/var-lib-sim' /var/lib/mastodon-sim
mount --bind '$R/var-lib-closure' /var/lib/mastodon-closure
mount --bind '$R/var-backups' /var/backups
mount --bind '$SBX_REPO' /opt/mastodon-sim
mount -o remount,bind,ro /opt/mastodon-sim
mount -t tmpfs -o mode=755 tmpfs /run
$CGROUPS
echo \$\$ > '$R/init.pid'
exec -a mcsbx-init-$SBX_NAME sleep infinity
"
setsid ip netns exec "$NS" unshare --mount --propagation private bash -c "$INIT_SCRIPT" \
  </dev/null >"$R/logs/init.log" 2>&1 &
for i in $(seq 1 100); do [ -s "$R/init.pid" ] && break; sleep 0.05; done
[ -s "$R/init.pid" ] || { log "init did not start"; cat "$R/logs/init.log" >&2; exit 1; }
INIT=$(cat "$R/init.pid")

inside() { nsenter -t "$INIT" -n -m -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

# ---------------------------------------------------------------- object storage
# The provider's S3 server (sandbox/object-storage, built by scripts/setup.sh) on the sandbox's address,
# port 9000: not one of the host's services, so stopping them (dormant) or a reboot leaves the bucket as a
# provider would. Up before the seed, which stores an archive in it.
if [ -n "${SBX_S3_BUCKET:-}" ]; then
  S3BIN="$SBX_REPO/.engine/bin/mastodon-sandbox-s3"
  [ -x "$S3BIN" ] || { log "no $S3BIN: run scripts/setup.sh"; exit 1; }
  (umask 077; printf '%s\n%s\n' "$SBX_S3_ACCESS_KEY" "$SBX_S3_SECRET_KEY" > s3-keys)
  setsid ip netns exec "$NS" "$S3BIN" -listen "$SBXIP:9000" -bucket "$SBX_S3_BUCKET" -key-file "$R/s3-keys" \
    </dev/null >"$R/logs/object-storage.log" 2>&1 &
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/$SBXIP/9000") 2>/dev/null && break; sleep 0.05; done
  (exec 3<>"/dev/tcp/$SBXIP/9000") 2>/dev/null || { log "object storage did not start"; cat "$R/logs/object-storage.log" >&2; exit 1; }
fi

# ---------------------------------------------------------------- database + seed
inside setpriv --reuid=$MUID --regid=$MUID --init-groups env HOME=/home/mastodon \
  /usr/bin/node /opt/mastodon-sim/dist/sandbox/sim/seed.js --settings-yml "$([ $COMPOSE = 1 ] && echo "$R/$SRC" || echo "/$LIVE")"
if [ $COMPOSE = 1 ]; then
  # The engine, the images, the database; the seed runs as Mastodon's one-off commands do.
  inside systemctl start docker
  inside bash "$HERE/compose/images.sh" "$SBX_VERSION" "$R/images" "$R/$SRC"
  rm -rf "$R/images"
  inside bash -c "cd /$LIVE && docker compose up -d --quiet-pull db redis" 2>>"$R/logs/compose.log"
  for _ in $(seq 1 200); do inside bash -c "cd /$LIVE && docker compose exec -T db pg_isready -q -U postgres" && break; sleep 0.1; done
  inside bash -c "cd /$LIVE && docker compose run --rm --no-deps -T web node /opt/mastodon-sim/dist/sandbox/sim/seed.js $SBX_ACCOUNTS"
  inside systemctl __boot
  inside bash -c "cd /$LIVE && docker compose up -d" 2>>"$R/logs/compose.log"
  for port in 3000 4000; do
    for _ in $(seq 1 200); do inside bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break; sleep 0.1; done
  done
  log "up (compose): ssh admin@$SBXIP, https://$SBX_DOMAIN (resolve to $SBXIP)"
  exit 0
fi
if [ -n "${SBX_DB_HOST:-}" ]; then
  # Split hosts: the seed fills the database on the other host, once that host lets this one in.
  db_ready() { inside env PGPASSWORD="$SBX_DB_PASS" PGCONNECT_TIMEOUT=2 "$PGBIN/psql" -h "$SBX_DB_HOST" -U mastodon -d mastodon_production -qAtc 'SELECT 1' >/dev/null 2>&1; }
  until db_ready; do
    [ "$SECONDS" -lt 60 ] || { log "the database at $SBX_DB_HOST does not let $SBXIP in within 60 s (does the machine forward between sandboxes? net.ipv4.ip_forward is $(cat /proc/sys/net/ipv4/ip_forward))"; exit 1; }
    sleep 0.1
  done
else
inside systemctl start postgresql
inside setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/psql" -h /var/run/postgresql -q -v ON_ERROR_STOP=1 <<EOF
CREATE ROLE mastodon LOGIN CREATEDB PASSWORD '$SBX_DB_PASS';
CREATE DATABASE mastodon_production OWNER mastodon;
EOF
fi
# A database host's database is seeded by its Mastodon host (SBX_DB_HOST there).
[ -n "${SBX_DB_SERVER:-}" ] || inside setpriv --reuid=$MUID --regid=$MUID --init-groups env HOME=/home/mastodon \
  /usr/bin/node /opt/mastodon-sim/dist/sandbox/sim/seed.js "$SBX_ACCOUNTS"

# ---------------------------------------------------------------- boot the rest
inside systemctl __boot
log "up: ssh admin@$SBXIP, https://$SBX_DOMAIN (resolve to $SBXIP)"
