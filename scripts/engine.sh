#!/usr/bin/env bash
# Make a Pulumi engine available at the version of @pulumi/pulumi in package-lock.json and print the
# directory to put first on PATH.
#  - A `pulumi` already on PATH at that version is used as it is (users who installed Pulumi).
#  - Otherwise the CLI is built with Go from Pulumi's Go modules (engine/go.mod) into .engine/bin,
#    once; later runs reuse it.
# The Node.js dynamic-provider plugin ships inside @pulumi/pulumi and is linked next to the CLI.
# Progress goes to stderr; stdout is only the bin directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.engine/bin"
want=$(node -p "'v' + require('$root/package-lock.json').packages['node_modules/@pulumi/pulumi'].version")
pinned=$(grep -oE "github.com/pulumi/pulumi/pkg/v3 v[0-9.]+" "$root/engine/go.mod" | cut -d" " -f2)
shim="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"

if [ "$pinned" != "$want" ]; then
  echo "engine/go.mod pins pulumi $pinned but package-lock.json has @pulumi/pulumi $want; run: cd engine && go get github.com/pulumi/pulumi/pkg/v3@$want github.com/pulumi/pulumi/sdk/v3@$want && go mod tidy" >&2
  exit 1
fi
[ -x "$shim" ] || { echo "missing $shim: run npm ci first" >&2; exit 1; }
mkdir -p "$bin"
ln -sf "$shim" "$bin/pulumi-resource-pulumi-nodejs"

if on_path=$(PATH=${PATH//"$bin"/} command -v pulumi 2>/dev/null) && [ "$("$on_path" version 2>/dev/null)" = "$want" ]; then
  ln -sf "$on_path" "$bin/pulumi"
  echo "engine: using $on_path ($want)" >&2
elif [ -x "$bin/pulumi" ] && [ ! -L "$bin/pulumi" ] && [ "$("$bin/pulumi" version)" = "$want" ]; then
  echo "engine: reusing $bin/pulumi ($want)" >&2
else
  PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || { echo "no pulumi $want on PATH and no Go toolchain to build it (install Go, or Pulumi $want)" >&2; exit 1; }
  rm -f "$bin/pulumi"
  echo "engine: building pulumi $want from Go modules (first run only; several minutes on 2 cores)..." >&2
  start=$SECONDS
  ( cd "$root/engine" && go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$want" \
      -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi ) &
  build=$!
  while kill -0 $build 2>/dev/null; do sleep 30; kill -0 $build 2>/dev/null && echo "engine: still building ($((SECONDS - start))s)" >&2; done
  wait $build
  echo "engine: built $("$bin/pulumi" version) in $((SECONDS - start))s" >&2
fi
echo "$bin"
