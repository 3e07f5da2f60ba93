#!/usr/bin/env bash
# Post the preview on the pull request (PR_NUMBER), or update the comment an earlier push posted: one
# comment per stack, always the latest preview.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
report="$REPORTS/preview.md"
[ -s "$report" ] || { echo "no preview report (the preview did not run): nothing to post" >&2; exit 0; }
id=$(find_comment "$PR_NUMBER" "mastodon-closure-preview:$STACK")
if [ -n "$id" ]; then
  body_json "$report" | gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" --input - > /dev/null
  echo "updated the preview comment $id on #$PR_NUMBER"
else
  body_json "$report" | gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" --input - > /dev/null
  echo "posted the preview on #$PR_NUMBER"
fi
