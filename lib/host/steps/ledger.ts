// The ledger of who has left (lib/rules/ledger.ts), written on the host for the admin: LEDGER_PATH, root's,
// mode 600. Its params hold only counts and the digest of the text: the usernames are read again on the host
// when it is written, and never pass through the engine.
import type { LedgerFacts } from "../../rules/facts";
import { countsOfLedger } from "../../rules/ledger";
import { shq } from "../../mastodon/shell";
import { HostAccess } from "../access";
import { accessLogScript, LEDGER_PATH, ledgerFactsOf, ledgerTextOf, sha256 } from "../ledger";
import { connectDatabase } from "../reads";
import { fileOf, readFileScript, RemoteHost } from "../ssh";
import { Step } from "./step";

/** The ledger wanted: counts and digest, and what to read it from when it is written now (absent: kept as
 *  last written, once the accounts go). */
export interface LedgerParams extends LedgerFacts {
    domain: string;
    /** When this stage's archive requests were made: the ledger is written again after them, as they change it. */
    archivesRequestedAt?: string | null;
}

/** The ledger as the host shows it now: Mastodon's tables, the access log on the proxy, and what the ledger
 *  written before said (read with the log in one command where nginx runs on this host). */
async function ledgerText(host: RemoteHost, access: HostAccess, domain: string, from: NonNullable<LedgerFacts["readFrom"]>): Promise<string> {
    const proxy = await host.on("proxy");
    let previous: string | undefined;
    let logLines: string[] = [];
    if (from.accessLog && proxy === host) {
        const lines = (
            await host.run(`${readFileScript(LEDGER_PATH)}\n${accessLogScript(from.accessLog)}`, {
                label: `read the ledger of who has left and archive downloads in ${from.accessLog}`,
            })
        ).stdout.split("\n");
        previous = fileOf(lines);
        logLines = lines.slice(2);
    } else {
        previous = await onHost(host);
        if (from.accessLog)
            logLines = (await proxy.run(accessLogScript(from.accessLog), { label: `read archive downloads in ${from.accessLog}` })).stdout.split("\n");
    }
    const db = await connectDatabase(host, access);
    try {
        return await ledgerTextOf(db, domain, from, logLines, previous);
    } finally {
        await db.end();
    }
}

/** The ledger on the host, or undefined. */
async function onHost(host: RemoteHost): Promise<string | undefined> {
    return host.readFile(LEDGER_PATH, "read the ledger of who has left");
}

/** What was written: the ledger as the host showed it when it was written (users act, and archives are requested
 *  by this very run, between the preview and the write). */
type Written = Partial<Pick<LedgerFacts, "digest" | "counts">>;

export const ledger: Step<LedgerParams, Written> = {
    async apply(host, access, p) {
        if (p.readFrom) {
            const text = await ledgerText(host, access, p.domain, p.readFrom);
            await host.writeFile(LEDGER_PATH, text, { owner: "root", mode: "600", label: "write the ledger of who has left" });
            return ledgerFactsOf(text)!;
        }
        // Kept as last written: it is there, or it cannot be written again.
        const text = await onHost(host);
        if (text === undefined || sha256(text) !== p.digest)
            throw new Error(
                `the ledger of who has left (${LEDGER_PATH}) changed on ${host.target.host} since it was last written, and it is no longer written once self-destruct runs`,
            );
        return {};
    },
    paramsAfter(p, written) {
        return written.digest && written.counts ? { ...p, digest: written.digest, counts: written.counts } : p;
    },
    async read(host, _access, p, result) {
        const text = await onHost(host);
        return { params: { ...p, digest: text === undefined ? "(no ledger)" : sha256(text), counts: (text && countsOfLedger(text)) || p.counts }, result };
    },
    async undo(host) {
        await host.run(`rm -f ${shq(LEDGER_PATH)}`, { label: "remove the ledger of who has left" });
    },
};
