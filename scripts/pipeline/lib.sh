# Sourced by the pipeline's scripts (.github/workflows/*.yml run them, in order; so does
# test/pipeline.test.ts). The stack, the guard rails, where reports go, and the GitHub API through `gh api`.
# shellcheck shell=bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

STACK=${PULUMI_STACK:-closing}
POLICY_PACK=policy/analyzer
REPORTS=${REPORTS:-${RUNNER_TEMP:-.state}/closure-reports}
mkdir -p "$REPORTS"
export PULUMI_SKIP_UPDATE_CHECK=true
# A fifth less CPU per run: what @pulumi/pulumi loads for a serializer the closure never uses waits for its first use.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require \"$PWD/lib/node-preload.cjs\""

# Append KEY=VALUE to the step's outputs, when run by GitHub Actions.
step_output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >> "$GITHUB_OUTPUT"; fi; }

# Append a markdown file to the job's summary page, when run by GitHub Actions.
step_summary() { if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$1" >> "$GITHUB_STEP_SUMMARY"; fi; }

# `pulumi VERB ...` on the stack with the guard rails, its output in FILE and on the log; sets $code. Never
# with -v, --debug or --logtostderr: the engine's verbose log holds secrets (README "Secrets and logs").
run_pulumi() { # FILE VERB ARGS...
  local file=$1
  shift
  set +e
  pulumi "$@" --stack "$STACK" --non-interactive --color never --policy-pack "$POLICY_PACK" 2>&1 | tee "$file"
  # shellcheck disable=SC2034 # read by the script that sourced this file
  code=${PIPESTATUS[0]}
  set -e
}

# The body of a comment or issue: a marker (found again on the next run), a title, the run, why it was
# refused, the gates' figures the program printed, what changes, the guard rails' verdict, and the
# engine's whole output folded (GitHub keeps 65536 characters of a body; the tail matters most).
render_report() { # MARKER TITLE OUTPUT_FILE
  local marker=$1 title=$2 file=$3
  echo "<!-- $marker -->"
  echo "### $title"
  echo
  if [ -n "${GITHUB_RUN_ID:-}" ]; then
    echo "Run: ${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/$GITHUB_RUN_ID"
    echo
  fi
  # Why the engine or the program refused, first: each `error:` line and the items listed under it.
  local refused
  refused=$(awk '/^ *error: / { print; listing = 1; next } listing && /^ +- / { print; next } { listing = 0 }' "$file" | sed -E 's/^ +//' | awk '!seen[$0]++')
  if [ -n "$refused" ]; then
    echo "**Refused:**"
    echo
    echo '```'
    echo "$refused"
    echo '```'
    echo
  fi
  if grep -qE '^ *(gate |next stage )' "$file"; then
    echo "**Gates** (as the program read them on the host):"
    echo
    grep -E '^ *(gate |next stage )' "$file" | sed -E 's/^ */- /' | sort -u
    echo
  fi
  # The engine's count of what changes ("Resources:"), on one line.
  local changes
  changes=$(awk '/^Resources:/ { block = 1; next } block && /^$/ { block = 0 } block' "$file" | sed -E 's/^ +//')
  if [ -n "$changes" ]; then
    echo "**Resources:** $(echo "$changes" | paste -sd, - | sed 's/,/, /g')"
    echo
  fi
  # The engine's verdict on the guard rails: its "Policies:" block (each violation with its message), or,
  # when every rule passed, the "Policy Packs run:" table.
  local policies
  policies=$(awk '/^(Policies|Policy Packs run):/ { block = 1 } block && /^$/ { block = 0 } block' "$file")
  if [ -n "$policies" ]; then
    echo "**Guard rails** (policy pack \`policy/\`, enforced):"
    echo
    echo '```'
    echo "$policies"
    echo '```'
    echo
  fi
  echo "<details><summary>pulumi output</summary>"
  echo
  echo '```diff'
  tail -c 50000 "$file"
  echo '```'
  echo "</details>"
}

# GitHub's REST API is reached with `gh api` (GH_TOKEN: the job's token; GITHUB_REPOSITORY). All pages of
# a list, as one JSON array:
github_list() { gh api --paginate "$1" | jq -s 'add // []'; }

# The JSON to POST or PATCH: the body from markdown FILE; with TITLE, a new issue labelled mastodon-closure.
# shellcheck disable=SC2016 # $body and $title are jq's variables
body_json() { # FILE [TITLE]
  if [ $# -gt 1 ]; then
    jq -n --rawfile body "$1" --arg title "$2" '{title: $title, body: $body, labels: ["mastodon-closure"]}'
  else
    jq -n --rawfile body "$1" '{body: $body}'
  fi
}

# The id of the first comment on issue/PR N whose body carries MARKER, or nothing.
find_comment() { # N MARKER
  github_list "repos/$GITHUB_REPOSITORY/issues/$1/comments" | jq -r --arg m "<!-- $2 -->" 'map(select(.body | startswith($m))) | .[0].id // empty'
}

# The number of the open issue whose body carries MARKER, or nothing.
find_issue() { # MARKER
  github_list "repos/$GITHUB_REPOSITORY/issues?state=open&labels=mastodon-closure&per_page=100" |
    jq -r --arg m "<!-- $1 -->" 'map(select(.pull_request == null and (.body // "" | startswith($m)))) | .[0].number // empty'
}
