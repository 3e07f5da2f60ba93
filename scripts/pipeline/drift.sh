#!/usr/bin/env bash
# The scheduled check: does the live server still look as the stack says? `preview --refresh` reads back
# what every step owns on the host; --expect-no-changes fails on any difference (a vhost edited by hand, a
# stopped service started, registrations reopened; or settings merged but not applied). The gates of the
# next stage are re-read too (time passes: the closing date, grace periods, goneDays). The ledger of who has
# left is left out: it changes whenever a user signs in, moves or takes an archive, which is no drift (the up
# after the next change writes it). Outputs `drifted`.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# A URN pattern: its $ is the URN's own.
# shellcheck disable=SC2016
ledger='**$pulumi-nodejs:dynamic/closure:LeavingLedger::*'
run_pulumi "$REPORTS/drift.txt" preview --diff --refresh --expect-no-changes --exclude "$ledger"
if [ "$code" -eq 0 ]; then
  step_output drifted false
  title="Stack \`$STACK\`: the server is as the stack says"
else
  step_output drifted true
  title="Stack \`$STACK\` drifted: the server differs from the stack (exit $code)"
fi
render_report "mastodon-closure-drift:$STACK" "$title" "$REPORTS/drift.txt" > "$REPORTS/drift.md"
step_summary "$REPORTS/drift.md"
exit "$code"
