#!/usr/bin/env bash
# Select the operator's stack in the backend (PULUMI_BACKEND_URL) and set the secrets the repository
# holds as Pulumi secrets in it: the SSH key, the database password and, when set, the Cloudflare API token
# and the status token. Values come on stdin, never in argv; a secret not given here must already be in
# Pulumi.<stack>.yaml (encrypted), or the program refuses to run and says which.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
if ! pulumi stack select "$STACK" --non-interactive; then
  echo "::error::stack $STACK not found in the backend ${PULUMI_BACKEND_URL:-(pulumi login)}: create it once with 'pulumi stack init $STACK' and commit Pulumi.$STACK.yaml (README, The pipeline)" >&2
  exit 1
fi
set_secret() { # KEY VALUE
  if [ -n "$2" ]; then
    printf '%s' "$2" | pulumi config set --secret --stack "$STACK" "mastodon-closure:$1"
    echo "secret mastodon-closure:$1 set from the repository's secrets"
  fi
}
set_secret sshPrivateKey "${SSH_PRIVATE_KEY:-}"
set_secret databasePassword "${DATABASE_PASSWORD:-}"
set_secret cloudflareApiToken "${CLOUDFLARE_API_TOKEN:-}"
set_secret statusToken "${STATUS_TOKEN:-}"
