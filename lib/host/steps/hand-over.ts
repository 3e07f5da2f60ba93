// The hand-over of the hosts to this stack (adoptHost, README: One closure per host). The owner records are
// rewritten by the run's claim (lib/host/lock.ts), under the hosts' locks, before any change of the run; this
// step makes a run that has nothing else to change claim the hosts, and reads the hand-over back. Declared
// while adoptHost names the record being (or already) taken over.
import { ownerToken, parseOwnerRecord } from "../../rules/owner";
import { OWNER_RECORD } from "../records";
import { RemoteHost } from "../ssh";
import { Step } from "./step";

/** The token of the record the Mastodon host's owner record says it was handed over from, if any. */
async function handedOverFrom(host: RemoteHost): Promise<string | undefined> {
    const text = await host.readFile(OWNER_RECORD, "read the host's owner record");
    const from = text === undefined ? undefined : parseOwnerRecord(text)?.adoptedFrom;
    return from && ownerToken(from);
}

export const handOver: Step<{ from: string }, { from: string }> = {
    async apply(host, _access, p) {
        const from = await handedOverFrom(host);
        if (from !== p.from)
            throw new Error(
                `the host's owner record (${OWNER_RECORD}) was not handed over from ${p.from} (it says ${from ?? "no hand-over"}): run preview again to see who owns the host`,
            );
        return { from };
    },
    async read(host, _access, p, result) {
        return { params: { ...p, from: (await handedOverFrom(host)) ?? "(no hand-over recorded)" }, result };
    },
    // The host stays this stack's: removing adoptHost ends nothing.
    async undo() {},
};
