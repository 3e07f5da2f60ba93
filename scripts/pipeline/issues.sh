#!/usr/bin/env bash
# After the scheduled check (drift.sh, its output DRIFTED): one issue per stack for drift, opened or
# updated while the server differs from the stack and closed once it does not; and one that says, from the
# gates re-read on the host, whether the next stage can be entered yet (a comment when it becomes so).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
[ -n "${DRIFTED:-}" ] || { echo "the check did not finish (no report): no issue is changed" >&2; exit 0; }
run_url="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/${GITHUB_RUN_ID:-0}"
issues="repos/$GITHUB_REPOSITORY/issues"
comment() { # N TEXT
  # shellcheck disable=SC2016 # $body is jq's variable
  jq -n --arg body "$2" '{body: $body}' | gh api --method POST "$issues/$1/comments" --input - > /dev/null
}

drift=$(find_issue "mastodon-closure-drift:$STACK")
if [ "$DRIFTED" = true ]; then
  if [ -n "$drift" ]; then
    body_json "$REPORTS/drift.md" | gh api --method PATCH "$issues/$drift" --input - > /dev/null
    comment "$drift" "Still drifted: $run_url"
    echo "drift: updated issue #$drift"
  else
    drift=$(body_json "$REPORTS/drift.md" "Stack $STACK drifted from the live server" | gh api --method POST "$issues" --input - | jq -r .number)
    echo "drift: opened issue #$drift"
  fi
elif [ -n "$drift" ]; then
  comment "$drift" "The server is as the stack says again: $run_url"
  jq -n '{state: "closed", state_reason: "completed"}' | gh api --method PATCH "$issues/$drift" --input - > /dev/null
  echo "drift: closed issue #$drift"
fi

# The next stage's gates, as the program printed them: `next stage "X": GATE holds (figure)`.
gates=$(grep -E '^ *next stage "' "$REPORTS/drift.txt" | sed -E 's/^ +//' | sort -u || true)
next=$(find_issue "mastodon-closure-next:$STACK")
if [ -z "$gates" ]; then
  if [ -n "$next" ]; then
    jq -n '{state: "closed", state_reason: "completed"}' | gh api --method PATCH "$issues/$next" --input - > /dev/null
    echo "next stage: no gate waits any more, closed issue #$next"
  fi
  exit 0
fi
stage=$(sed -nE '1s/^next stage "([^"]+)".*/\1/p' <<< "$gates")
if grep -q 'does not hold' <<< "$gates"; then ready=false; verdict="cannot be entered yet"; else ready=true; verdict="can be entered now: open a pull request that sets \`stage: $stage\`"; fi
body="$REPORTS/next.md"
{
  echo "<!-- mastodon-closure-next:$STACK -->"
  echo "<!-- ready: $ready -->"
  echo "### Stack \`$STACK\`: the next stage, \`$stage\`, $verdict"
  echo
  echo "Re-read on the host by the scheduled check ($run_url):"
  echo
  sed -E 's/^/- /' <<< "$gates"
} > "$body"
if [ -z "$next" ]; then
  next=$(body_json "$body" "Stack $STACK: when the next stage can be entered" | gh api --method POST "$issues" --input - | jq -r .number)
  echo "next stage: opened issue #$next ($verdict)"
else
  was_ready=$(gh api "$issues/$next" | jq -r '.body | test("<!-- ready: true -->")')
  body_json "$body" | gh api --method PATCH "$issues/$next" --input - > /dev/null
  if [ "$ready" = true ] && [ "$was_ready" != true ]; then comment "$next" "The next stage, \`$stage\`, can be entered now: $run_url"; fi
  echo "next stage: updated issue #$next ($verdict)"
fi
