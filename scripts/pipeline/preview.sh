#!/usr/bin/env bash
# The pull request's preview: what `up` would change on the live server, read from the host itself
# (--refresh), with the gates' figures and the guard rails. Fails when the preview does (a gate that does
# not hold, a guard rail, bad settings); the report is written either way, for the comment.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
run_pulumi "$REPORTS/preview.txt" preview --diff --refresh
if [ "$code" -eq 0 ]; then verdict="Preview of stack \`$STACK\`: what merging this changes on the server"; else verdict="Preview of stack \`$STACK\` failed (exit $code): merging this would change nothing"; fi
render_report "mastodon-closure-preview:$STACK" "$verdict" "$REPORTS/preview.txt" > "$REPORTS/preview.md"
step_summary "$REPORTS/preview.md"
exit "$code"
