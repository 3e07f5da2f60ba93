// The host's own record of its closure (JOURNAL_PATH): the stage it reached and when each was entered.
import { BASELINE_STAGE, STAGES } from "../../rules/stages";
import { shq } from "../../mastodon/shell";
import { JOURNAL_PATH, Journal } from "../records";
import { RemoteHost } from "../ssh";
import { Step } from "./step";

/** The journal on the host, and the host's clock in the same command: the times the journal records are the
 *  host's, as every rule that counts from them goes by the host's clock (lib/rules/clock.ts). */
async function journalAndClock(host: RemoteHost): Promise<{ text?: string; now: string }> {
    const r = await host.run(`date -u +%s; cat ${shq(JOURNAL_PATH)} 2>/dev/null || true`, { label: "read the host's clock and the closure journal" });
    const [seconds, ...rest] = r.stdout.split("\n");
    const text = rest.join("\n");
    return { text: text.trim() ? text : undefined, now: new Date(Number(seconds) * 1000).toISOString() };
}

/** Record on the host the stage it reached and when each stage was last entered from below, by its clock
 *  (gates count from it). Written last, once every step of the stage holds on the host. */
export const journal: Step<{ stage: string; closingDate?: string }, Journal> = {
    async apply(host, _access, p) {
        const { text, now } = await journalAndClock(host);
        const old: Journal = text ? JSON.parse(text) : { stage: BASELINE_STAGE, reachedAt: {} };
        const next: Journal = { ...old, stage: p.stage, reachedAt: { ...old.reachedAt } };
        // Entering a stage from below starts its clock anew (a second announcement, a second 410 period);
        // coming back down to it keeps the time it was first reached.
        const order = STAGES as readonly string[];
        if (order.indexOf(p.stage) > order.indexOf(old.stage) || !next.reachedAt[p.stage]) next.reachedAt[p.stage] = now;
        // The date users were told last: moving it earlier is checked against it (lib/rules/gates.ts).
        if (p.stage === BASELINE_STAGE) delete next.announcedClosingDate;
        else if (p.closingDate) next.announcedClosingDate = p.closingDate;
        await host.writeFile(JOURNAL_PATH, JSON.stringify(next, null, 2) + "\n", { owner: "root", mode: "644", label: "write the closure journal" });
        return next;
    },
    async read(host, _access, p, result) {
        const text = await host.readFile(JOURNAL_PATH, "read the closure journal");
        return { params: { ...p, stage: text ? (JSON.parse(text) as Journal).stage : "(no journal)" }, result };
    },
    // Back to the baseline: the journal stays (the host's own record of its closure) with the stage reset.
    async undo(host, access, _p, outputs) {
        await journal.apply(host, access, { stage: BASELINE_STAGE }, outputs);
    },
};
