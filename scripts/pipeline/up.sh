#!/usr/bin/env bash
# The approved change: `pulumi up` on the stack, from the host as it is (--refresh: a hand change since
# the preview is put back too), with the guard rails; then the outputs on the job's summary.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
run_pulumi "$REPORTS/up.txt" up --yes --diff --refresh
if [ "$code" -eq 0 ]; then
  pulumi stack output --json --stack "$STACK" > "$REPORTS/outputs.json"
  title="\`pulumi up\` of stack \`$STACK\`: now at \`$(jq -r .stage "$REPORTS/outputs.json")\`"
else
  title="\`pulumi up\` of stack \`$STACK\` failed (exit $code): run it again once the cause is fixed (steps are safe to repeat)"
fi
render_report "mastodon-closure-up:$STACK" "$title" "$REPORTS/up.txt" > "$REPORTS/up.md"
step_summary "$REPORTS/up.md"
exit "$code"
