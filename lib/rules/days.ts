// Day arithmetic the rules share: gates, the download grace, the notice period.

export const DAY_MS = 24 * 3600 * 1000;

/** Days (fractional) from `fromIso` to `now`. */
export function daysBetween(fromIso: string, now: Date): number {
    return (now.getTime() - new Date(fromIso).getTime()) / DAY_MS;
}

/** The day (UTC, YYYY-MM-DD) a gate counting `daysLeft` days holds. */
export function holdsOn(daysLeft: number, now: Date): string {
    return new Date(now.getTime() + daysLeft * DAY_MS).toISOString().slice(0, 10);
}
