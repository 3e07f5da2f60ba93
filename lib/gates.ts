// Gates: the preconditions a stage needs before it is entered, decided from facts read on the host.
// Pure, so preview shows the same figures and the same refusal as up, and tests need no host.
import { Gate, Stage, STAGES, STAGE_TABLE, stageIndex } from "./stages";
import type { Settings } from "./settings";
import type { ZoneFacts } from "./zone";

const DAY_MS = 24 * 3600 * 1000;

/** What the host told the probe. Database figures are absent while the database is stopped (dormant). */
export interface HostFacts {
    mastodonVersion: string;
    /** Stage the host reached last (journal on the host), "operating" when none was ever applied. */
    currentStage: Stage;
    /** When each stage was last entered from below (ISO times), from the host's journal. */
    reachedAt: Partial<Record<Stage, string>>;
    /** SELF_DESTRUCT is in .env.production (4.3+), or the legacy command was run (before 4.3). */
    selfDestructEnabled: boolean;
    /** Before 4.3 `tootctl self-destruct` deletes by itself and running it again would start over:
     *  progress is read from the database only. */
    legacySelfDestruct: boolean;
    database?: {
        pendingArchives: number;
        /** Latest dump_updated_at of a processed archive. */
        lastArchiveFinishedAt?: string;
        accountsPendingDeletion: number;
        registrationsMode: string;
    };
    /** Last line of `tootctl self-destruct` while in self-destruct mode. */
    selfDestructProgress?: string;
}

export interface GateResult {
    gate: Gate;
    ok: boolean;
    /** The figure behind the decision, for preview and outputs. */
    figure: string;
}

const SENT_ALL = "Every deletion notice has been sent";

function daysBetween(fromIso: string, now: Date): number {
    return (now.getTime() - new Date(fromIso).getTime()) / DAY_MS;
}

/** `zone`: what the Cloudflare zone holds, read when parking on Cloudflare (lib/zone.ts). */
export function evaluateGate(gate: Gate, facts: HostFacts, settings: Settings, now: Date, zone?: ZoneFacts): GateResult {
    const db = facts.database;
    switch (gate) {
        case "closingDateReached": {
            const closing = new Date(`${settings.closingDate}T00:00:00Z`);
            const daysLeft = Math.ceil((closing.getTime() - now.getTime()) / DAY_MS);
            return {
                gate,
                ok: daysLeft <= 0,
                figure: daysLeft > 0 ? `${daysLeft} day(s) left until the closing date ${settings.closingDate}` : `closing date ${settings.closingDate} reached`,
            };
        }
        case "noPendingArchives":
            if (!db) return { gate, ok: false, figure: "database not readable" };
            return { gate, ok: db.pendingArchives === 0, figure: `${db.pendingArchives} archive(s) pending` };
        case "downloadGracePassed": {
            if (!db) return { gate, ok: false, figure: "database not readable" };
            if (!db.lastArchiveFinishedAt) return { gate, ok: true, figure: "no archive was ever made" };
            const waited = daysBetween(db.lastArchiveFinishedAt, now);
            const left = Math.ceil(settings.downloadGraceDays - waited);
            return {
                gate,
                ok: waited >= settings.downloadGraceDays,
                figure:
                    left > 0
                        ? `last archive finished ${db.lastArchiveFinishedAt}; ${left} day(s) of the ${settings.downloadGraceDays}-day download grace left`
                        : `last archive finished ${db.lastArchiveFinishedAt}; ${settings.downloadGraceDays}-day download grace passed`,
            };
        }
        case "deletionNoticesSent": {
            if (facts.legacySelfDestruct) {
                if (!db) return { gate, ok: false, figure: "database not readable" };
                return {
                    gate,
                    ok: facts.selfDestructEnabled && db.accountsPendingDeletion === 0,
                    figure: `${db.accountsPendingDeletion} account(s) pending deletion (legacy tootctl self-destruct: Sidekiq's deliveries are not counted)`,
                };
            }
            const progress = facts.selfDestructProgress ?? "self-destruct is not enabled";
            const pending = db ? `${db.accountsPendingDeletion} account(s) pending deletion; ` : "";
            return { gate, ok: facts.selfDestructEnabled && progress.includes(SENT_ALL), figure: `${pending}${progress}` };
        }
        case "goneDaysPassed": {
            const since = facts.reachedAt.dormant;
            if (!since) return { gate, ok: false, figure: "the host never went dormant" };
            const left = Math.ceil(settings.goneDays - daysBetween(since, now));
            return {
                gate,
                ok: left <= 0,
                figure: left > 0 ? `dormant since ${since}; ${left} day(s) of the ${settings.goneDays}-day 410 period left` : `dormant since ${since}; ${settings.goneDays}-day 410 period passed`,
            };
        }
        case "zoneOnAccount": {
            const cf = settings.cloudflare;
            if (!cf) return { gate, ok: true, figure: "no Cloudflare settings: DNS is left to do by hand" };
            const z = zone?.zone;
            if (!z) return { gate, ok: false, figure: `zone ${cf.zone} not found with cloudflareApiToken (check the zone's name and the token's Zone: Read permission)` };
            if (z.accountId !== cf.accountId) {
                return { gate, ok: false, figure: `zone ${z.name} (${z.id}) is on account ${z.accountId} ("${z.accountName}"), not on cloudflareAccountId ${cf.accountId}` };
            }
            if (z.status !== "active") {
                return { gate, ok: false, figure: `zone ${z.name} is ${z.status}, not active: Cloudflare does not answer for it yet (its nameservers are not Cloudflare's)` };
            }
            return { gate, ok: true, figure: `zone ${z.name} (${z.id}) is active on account ${z.accountId}` };
        }
    }
}

/** The gates of `target`, evaluated; they only bind when the stage is being entered (moving forward). */
export function evaluateGates(target: Stage, facts: HostFacts, settings: Settings, now: Date, zone?: ZoneFacts): { results: GateResult[]; binding: boolean } {
    return {
        results: STAGE_TABLE[target].gates.map((g) => evaluateGate(g, facts, settings, now, zone)),
        binding: stageIndex(target) > stageIndex(facts.currentStage),
    };
}

/** What the stage after `stage` will need, in words, for the outputs. */
export function nextStageNeeds(stage: Stage): string {
    const next: Stage | undefined = STAGES[stageIndex(stage) + 1];
    if (!next) return "nothing: this is the last stage";
    const gates = STAGE_TABLE[next].gates;
    const extra = next === "self-destructing" ? ["confirmSelfDestruct set to the domain"] : [];
    const needs = [...gates, ...extra];
    return `stage "${next}" needs: ${needs.length ? needs.join(", ") : "no gate"}`;
}
