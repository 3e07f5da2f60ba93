// Whose clock the rules read: the host's. The closing date, the notice, the grace periods and the reminders are
// days and times of the server (Mastodon publishes a scheduled reminder, stamps an archive and ends a
// retention by its own clock; the journal records when each stage was entered by it), so a runner whose clock
// is off (a CI container, a laptop) must not open a gate early or late. The probe reads the host's clock over
// SSH; the runner's clock, corrected by the skew measured, gives the host's time for the rest of the run.

/** A skew above this is worth a warning: NTP keeps clocks within a second, so this is a clock left unset. */
export const CLOCK_SKEW_WARNING_MS = 5 * 60_000;

/** Below this the skew is the reading's own error (the host's clock is read to the second, over a round trip):
 *  the runner's clock is the host's. */
const READING_PRECISION_MS = 2_000;

/**
 * The host's clock minus the runner's, in ms, from one reading of the host's `date -u +%s` (whole seconds,
 * so the middle of that second) taken between two readings of the runner's clock (the middle of the round
 * trip); 0 when within the reading's precision.
 */
export function clockSkewMs(hostSeconds: number, runnerBeforeMs: number, runnerAfterMs: number): number {
    const skew = hostSeconds * 1000 + 500 - (runnerBeforeMs + runnerAfterMs) / 2;
    return Math.abs(skew) <= READING_PRECISION_MS + (runnerAfterMs - runnerBeforeMs) / 2 ? 0 : Math.round(skew);
}

/** The host's time when the runner's clock says `runnerNow`. */
export function hostNow(runnerNow: Date, skewMs: number | undefined): Date {
    return new Date(runnerNow.getTime() + (skewMs ?? 0));
}

/** "5 min", "3 h 20 min", "2 day(s) 4 h": a skew in words. */
function duration(ms: number): string {
    const minutes = Math.round(Math.abs(ms) / 60_000);
    const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
    return [d ? `${d} day(s)` : "", h ? `${h} h` : "", m || (!d && !h) ? `${m} min` : ""].filter(Boolean).join(" ");
}

/** The warning preview and up print when the host's clock and the runner's differ by more than a few minutes. */
export function clockSkewWarning(skewMs: number | undefined): string | undefined {
    if (skewMs === undefined || Math.abs(skewMs) <= CLOCK_SKEW_WARNING_MS) return undefined;
    return (
        `the host's clock is ${duration(skewMs)} ${skewMs > 0 ? "ahead of" : "behind"} this machine's (date -u on the host, read over SSH): ` +
        `the closure goes by the host's clock (the closing date, the grace periods, the reminders are the server's days), ` +
        `so check which one is wrong and set it right (timedatectl, NTP)`
    );
}
