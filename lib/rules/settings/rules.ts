// The rules between keys that the stage and the deployment kind make: the closing date from the stage that
// announces on, the confirmation of self-destruct from the stage that runs it on (both from the stage
// table), and the keys a deployment kind refuses.
import { BASELINE_STAGE, firstStage, needsClosingDate, needsSelfDestructConfirmation } from "../stages";
import type { Checked, SettingKey, Written } from "./keys";
import { KIND_SETTINGS } from "./kinds";

/** Keys that contradict the deployment kind: refused, not ignored. */
export function kindProblems(checked: Checked, written: Written, problems: string[]): void {
    const kind = checked.deployment;
    for (const [key, why] of Object.entries(KIND_SETTINGS[kind].refused) as Array<[SettingKey, string]>) {
        if (written[key] !== undefined)
            problems.push(
                `${key} applies to deployment "systemd" only, and deployment is "${kind}": ${why}; remove it (pulumi config rm mastodon-closure:${key})`,
            );
    }
}

/** What the stage asks of other keys. A stage missing or refused counts as the baseline. */
export function stageProblems(checked: Checked, written: Written, problems: string[]): void {
    const stage = checked.stage ?? BASELINE_STAGE;
    if (written.closingDate === undefined && needsClosingDate(stage)) {
        problems.push(`closingDate is required from stage "${firstStage((spec) => spec.announce)}" on (YYYY-MM-DD): the announcement gives it`);
    }
    const domain = written.domain ?? "";
    const confirmation = written.confirmSelfDestruct;
    if (needsSelfDestructConfirmation(stage) && confirmation !== domain) {
        problems.push(
            confirmation === undefined
                ? `confirmSelfDestruct is required from stage "${firstStage((spec) => spec.selfDestruct)}" on: set it to the server's domain ("${domain}") to confirm the irreversible self-destruct`
                : `confirmSelfDestruct must equal the server's domain "${domain}"; got "${confirmation}"`,
        );
    }
}
