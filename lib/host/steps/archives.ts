// An archive requested for every user who can sign in to download it, in one Rails boot.
import { railsRunner } from "../reads";
import { Step, unchanged } from "./step";

/** `requestedAt`: when (the runner's clock), so that the outputs of the run that asked count them (absent in
 *  states recorded before it was kept). */
export const requestArchives: Step<{ recentDays: number }, { requested: number; skipped: number; requestedAt?: string }> = {
    async apply(host, access, p, previous) {
        if (previous) return previous;
        const r = await railsRunner(host, access, "request_archives.rb", { recent_days: p.recentDays });
        return { requested: Number(r.requested), skipped: Number(r.skipped), requestedAt: new Date().toISOString() };
    },
    // The archives belong to their users: the closure owns nothing there to read back or take back.
    read: unchanged,
    async undo() {},
};
