#!/bin/bash
# Build the images the sandbox's docker-compose.yml names, in the sandbox's own Docker engine: nothing can be
# pulled here, so each image is made from this machine's Debian binaries (with the libraries ldd lists) and a
# static busybox, in the shape of the upstream image it stands for:
#   mastodon-sandbox/postgres:15   postgres:14-alpine's contract: initdb on an empty /var/lib/postgresql/data
#                                  as user postgres with POSTGRES_HOST_AUTH_METHOD, listening on the network,
#                                  STOPSIGNAL SIGINT (a fast shutdown), pg_isready/psql/pg_dump/pg_restore
#   mastodon-sandbox/redis:7       redis-server in /data, redis-cli
#   mastodon-sandbox/mastodon:vV   ghcr.io/mastodon/mastodon's: /opt/mastodon (also /mastodon) as WORKDIR, user
#   (and mastodon-streaming:vV)    mastodon (991), RAILS_ENV=production, BIND=0.0.0.0, bin/tootctl, bin/rails,
#                                  `bundle exec puma|sidekiq`, node ./streaming/index.js, lib/mastodon/version.rb
#                                  and config/settings.yml of version V; the simulators (sandbox/sim) do the work.
# Usage (inside the sandbox, root): images.sh VERSION WORKDIR SOURCE_DIR
#   SOURCE_DIR holds lib/mastodon/version.rb and config/settings.yml of the version.
set -euo pipefail
VERSION="${1:?version}"; WORK="${2:?work dir}"; SOURCE="${3:?source dir}"
PGVER="$(ls /usr/lib/postgresql | sort -n | tail -1)"
export DOCKER_BUILDKIT=0

# A root filesystem with a merged /usr, the given binaries and every library they load, busybox for the rest.
rootfs() {
  local dest=$1; shift
  rm -rf "$dest"; mkdir -p "$dest"/usr/{bin,sbin,lib,lib64} "$dest"/{etc,tmp,root,var/run}
  ln -s usr/bin "$dest/bin"; ln -s usr/sbin "$dest/sbin"; ln -s usr/lib "$dest/lib"; ln -s usr/lib64 "$dest/lib64"
  chmod 1777 "$dest/tmp"
  local f lib
  for f in "$@"; do
    cp -L --parents "$f" "$dest"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
      [ -e "$dest$lib" ] || cp -L --parents "$lib" "$dest"
    done
  done
  cp /bin/busybox "$dest/usr/bin/busybox"
  for f in $(/bin/busybox --list); do [ -e "$dest/usr/bin/$f" ] || ln -s busybox "$dest/usr/bin/$f"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$dest/etc/passwd"
  printf 'root:x:0:\n' > "$dest/etc/group"
}

build() {
  local tag=$1 dir=$2
  tar -C "$dir/rootfs" -cf "$dir/rootfs.tar" .
  rm -rf "$dir/rootfs"
  docker build -q -t "$tag" "$dir" >/dev/null
}

# ---------------------------------------------------------------- postgres
P="$WORK/postgres"; PGB=/usr/lib/postgresql/$PGVER/bin
rootfs "$P/rootfs" $(ls "$PGB"/*) /usr/bin/setpriv
cp -a --parents /usr/lib/postgresql/$PGVER /usr/share/postgresql/$PGVER /usr/share/zoneinfo "$P/rootfs"
echo 'postgres:x:70:70:postgres:/var/lib/postgresql:/bin/sh' >> "$P/rootfs/etc/passwd"
echo 'postgres:x:70:' >> "$P/rootfs/etc/group"
mkdir -p "$P/rootfs/usr/local/bin"
cat > "$P/rootfs/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
# As the postgres image's entrypoint: a new cluster on an empty data directory, then the server as postgres.
set -e
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql; chmod 700 "$PGDATA"
as_postgres() { /usr/bin/setpriv --reuid=postgres --regid=postgres --clear-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  as_postgres initdb -D "$PGDATA" -U postgres -E UTF8 --locale=C --auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >/dev/null
  echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
fi
exec /usr/bin/setpriv --reuid=postgres --regid=postgres --clear-groups "$@"
SH
chmod 755 "$P/rootfs/usr/local/bin/docker-entrypoint.sh"
cat > "$P/Dockerfile" <<DF
FROM scratch
ADD rootfs.tar /
ENV PATH=$PGB:/usr/local/bin:/usr/bin PGDATA=/var/lib/postgresql/data TZ=UTC
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
DF
build mastodon-sandbox/postgres:15 "$P" & builds=($!)

# ---------------------------------------------------------------- redis
D="$WORK/redis"
rootfs "$D/rootfs" /usr/bin/redis-server /usr/bin/redis-cli
mkdir -p "$D/rootfs/data"
cat > "$D/Dockerfile" <<'DF'
FROM scratch
ADD rootfs.tar /
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
DF
build mastodon-sandbox/redis:7 "$D" & builds+=($!)

# ---------------------------------------------------------------- mastodon (Debian-based upstream: GNU tools)
M="$WORK/mastodon"
tools=(/usr/bin/node /usr/bin/bash /usr/bin/dash /usr/bin/grep /usr/bin/sed /usr/bin/ps /usr/bin/curl)
while read -r f; do tools+=("$f"); done < <(dpkg -L coreutils | grep '^/usr/bin/.' )
rootfs "$M/rootfs" "${tools[@]}"
ln -sf dash "$M/rootfs/usr/bin/sh"
cp -a --parents /etc/ssl/certs "$M/rootfs" 2>/dev/null || true
echo 'mastodon:x:991:991::/opt/mastodon:/bin/sh' >> "$M/rootfs/etc/passwd"
echo 'mastodon:x:991:' >> "$M/rootfs/etc/group"
L="$M/rootfs/opt/mastodon"
mkdir -p "$L/bin" "$L/streaming" "$L/public/system" "$L/tmp" "$L/log" "$M/rootfs/usr/local/bin"
cp -a "$SOURCE/." "$L/"
sim=/opt/mastodon-sim/dist/sandbox/sim
printf '#!/bin/sh\nexec node %s/tootctl.js "$@"\n' "$sim" > "$L/bin/tootctl"
printf '#!/bin/sh\nexec node %s/rails.js "$@"\n' "$sim" > "$L/bin/rails"
printf 'require("%s/streaming.js");\n' "$sim" > "$L/streaming/index.js"
cat > "$M/rootfs/usr/local/bin/bundle" <<SH
#!/bin/sh
# bundle exec puma|sidekiq, as the image's commands run them: the simulators stand in for Puma and Sidekiq.
[ "\$1" = exec ] || { echo "bundle: only 'bundle exec' here" >&2; exit 1; }
case "\$2" in
  puma) exec node $sim/web.js;;
  sidekiq) shift 2; exec node $sim/sidekiq.js "\$@";;
  *) shift; exec "\$@";;
esac
SH
chmod 755 "$L/bin/tootctl" "$L/bin/rails" "$M/rootfs/usr/local/bin/bundle"
ln -s /opt/mastodon "$M/rootfs/mastodon"
chown -R 991:991 "$L/public" "$L/tmp" "$L/log"
cat > "$M/Dockerfile" <<'DF'
FROM scratch
ADD rootfs.tar /
ENV PATH=/opt/mastodon/bin:/usr/local/bin:/usr/bin RAILS_ENV=production NODE_ENV=production BIND=0.0.0.0 \
    MASTODON_SIM_LIVE=/opt/mastodon
USER mastodon
WORKDIR /opt/mastodon
EXPOSE 3000 4000
DF
build "mastodon-sandbox/mastodon:v$VERSION" "$M"
docker tag "mastodon-sandbox/mastodon:v$VERSION" "mastodon-sandbox/mastodon-streaming:v$VERSION"
for b in "${builds[@]}"; do wait "$b"; done
