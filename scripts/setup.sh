#!/usr/bin/env bash
# Everything a fresh machine needs, each step skipped when already done: Debian packages (the sandbox
# host's and the closure's own tools), npm packages, the TypeScript build and the Pulumi engine.
# Run as root (the sandbox creates network namespaces and bind mounts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The closure's own tools: ruby (ruby -c of the rails/ scripts), age (encrypted dumps), curl (checks);
# ruby-activesupport checks the SELF_DESTRUCT value against Rails' own MessageVerifier (unit tests);
# the pipeline's: jq (its scripts) and shellcheck (checks them and the workflows' steps).
# `setup.sh bench` adds the benchmarks' peer: Ansible (Debian's ansible-core).
packages=$(cat sandbox/packages.txt; printf "%s\n" ruby ruby-activesupport age curl ca-certificates jq shellcheck; if [ "${1:-}" = bench ]; then echo ansible-core; fi)
missing=$(for p in $packages; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages: ${missing//$'\n'/ }" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Split-host sandboxes reach each other through this machine, which routes between their links: seen off on
# a new machine here (net.ipv4.ip_forward=0), when one sandbox's Mastodon cannot reach another's database.
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || sysctl -qw net.ipv4.ip_forward=1

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
npx tsc -p tsconfig.json
bash scripts/engine.sh >/dev/null

# actionlint checks .github/workflows (test/pipeline-lint.test.ts); built once from the Go module proxy.
actionlint=v1.7.12
if [ "$(.engine/bin/actionlint -version 2>/dev/null | head -1)" != "$actionlint" ]; then
  echo "setup: building actionlint $actionlint" >&2
  GOBIN="$PWD/.engine/bin" PATH="$PATH:/usr/local/go/bin" go install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint"
fi

# The sandbox's object storage (sandbox/object-storage: rclone's gofakes3, every S3 signature checked), for
# sandboxes started with objectStorage; built from the Go module proxy, rebuilt when its source changes.
s3=.engine/bin/mastodon-sandbox-s3
if [ ! -x "$s3" ] || [ -n "$(find sandbox/object-storage -newer "$s3" -type f)" ]; then
  echo "setup: building the sandbox's object storage" >&2
  PATH="$PATH:/usr/local/go/bin" go build -C sandbox/object-storage -trimpath -o "$PWD/$s3" .
fi

# A compose sandbox's `docker compose` (sandbox/host/compose): Debian has the Docker engine (docker.io, in
# sandbox/packages.txt) but only Compose v1; v2, the plugin admins run, is built from the Go module proxy with
# its own go.mod (`go install` refuses its exclude directives) and installed where the docker CLI finds it.
compose=v2.40.3
plugin=/usr/local/lib/docker/cli-plugins/docker-compose
if [ "$("$plugin" version --short 2>/dev/null)" != "${compose#v}" ]; then
  echo "setup: building docker compose $compose (a few minutes on a new machine)" >&2
  export PATH="$PATH:/usr/local/go/bin"
  src=$(go mod download -json "github.com/docker/compose/v2@$compose" | jq -r .Dir)
  work=$(mktemp -d)
  cp -r "$src/." "$work"; chmod -R u+w "$work"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$compose" -o "$work/docker-compose" ./cmd)
  install -D -m 755 "$work/docker-compose" "$plugin"
  rm -rf "$work"
fi
