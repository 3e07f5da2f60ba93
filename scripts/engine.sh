#!/usr/bin/env bash
# Make a Pulumi engine available at the version of @pulumi/pulumi in package-lock.json and print the
# directory to put first on PATH. The engine is three parts, all in .engine/bin:
#  - the CLI: a `pulumi` already on PATH at that version is used as it is (users who installed Pulumi);
#    otherwise it is built with Go from Pulumi's Go modules (engine/go.mod), once;
#  - the Node.js language host (runs index.js for `pulumi preview|up`): the one next to a `pulumi` from
#    PATH when it has one; otherwise built from engine/language-host (Pulumi's Go SDK at v3.68.0, the newest
#    version the Go module proxy serves that still contains it; the CLI speaks to it over the same gRPC
#    protocol, and the program's runtime is @pulumi/pulumi from node_modules, at the pinned version), as
#    pulumi-language-nodejs-host, started through engine/language-host/runtime-options, which hands it
#    Pulumi.yaml's runtime options as the flags it reads them from;
#  - the dynamic-provider plugin: a shell shim that runs node_modules' code, linked relatively, so a copied
#    checkout uses its own node_modules. (Policy packs run as policy/analyzer, an executable of their own.)
# Progress goes to stderr; stdout is only the bin directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.engine/bin"
want=$(node -p "'v' + require('$root/package-lock.json').packages['node_modules/@pulumi/pulumi'].version")
pinned=$(grep -oE "github.com/pulumi/pulumi/pkg/v3 v[0-9.]+" "$root/engine/go.mod" | cut -d" " -f2)
host_version=$(grep -oE "github.com/pulumi/pulumi/sdk/v3 v[0-9.]+" "$root/engine/language-host/go.mod" | cut -d" " -f2)
PATH="$PATH:/usr/local/go/bin"

if [ "$pinned" != "$want" ]; then
  echo "engine/go.mod pins pulumi $pinned but package-lock.json has @pulumi/pulumi $want; run: cd engine && go get github.com/pulumi/pulumi/pkg/v3@$want github.com/pulumi/pulumi/sdk/v3@$want && go mod tidy" >&2
  exit 1
fi
[ -x "$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" ] || { echo "missing node_modules/@pulumi/pulumi: run npm ci first" >&2; exit 1; }
mkdir -p "$bin"
ln -sfn ../../node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs "$bin/pulumi-resource-pulumi-nodejs"

# Run `go build` in the background with a line of progress every 30 s: the first build takes minutes.
go_build() { # DIR OUTPUT PACKAGE VERSION WHAT
  command -v go >/dev/null || { echo "no Go toolchain to build $5 (install Go, or Pulumi $want with its language plugins)" >&2; exit 1; }
  echo "engine: building $5 $4 from Go modules (first run only)..." >&2
  local start=$SECONDS build
  ( cd "$1" && go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$4" -o "$2" "$3" ) &
  build=$!
  while kill -0 $build 2>/dev/null; do
    sleep 1
    (( (SECONDS - start) % 30 == 0 )) && echo "engine: still building $5 ($((SECONDS - start))s)" >&2
  done
  wait $build
  echo "$4" > "$2.version"
  echo "engine: built $5 $4 in $((SECONDS - start))s" >&2
}

own_host=false
if on_path=$(PATH=${PATH//"$bin"/} command -v pulumi 2>/dev/null) && [ "$("$on_path" version 2>/dev/null)" = "$want" ]; then
  ln -sfn "$on_path" "$bin/pulumi"
  echo "engine: using $on_path ($want)" >&2
  real_dir=$(dirname "$(readlink -f "$on_path")")
  [ -x "$real_dir/pulumi-language-nodejs" ] && own_host=true
elif [ -x "$bin/pulumi" ] && [ ! -L "$bin/pulumi" ] && [ "$("$bin/pulumi" version)" = "$want" ]; then
  echo "engine: reusing $bin/pulumi ($want)" >&2
else
  rm -f "$bin/pulumi"
  go_build "$root/engine" "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$want" "the pulumi CLI"
fi

host="$bin/pulumi-language-nodejs-host" options="$bin/pulumi-language-nodejs"
if $own_host; then
  rm -f "$host" "$host.version" "$options" "$options.version"
  echo "engine: using the Node.js language host next to $on_path" >&2
else
  if [ -x "$host" ] && [ "$(cat "$host.version" 2>/dev/null)" = "$host_version" ]; then
    echo "engine: reusing $host ($host_version)" >&2
  else
    go_build "$root/engine/language-host" "$host" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs "$host_version" "the Node.js language host"
  fi
  if [ ! -x "$options" ] || [ -n "$(find "$root/engine/language-host" -newer "$options" -type f)" ]; then
    go_build "$root/engine/language-host" "$options" ./runtime-options "$host_version" "its runtime options"
  fi
fi

echo "$bin"
