// The settings the unit tests start from: a valid stack at a stage (a closing date from announced on, the
// confirmation from self-destructing on), `extra` over it. Parsed as the program parses them.
import { parseSettings, SECRET_KEYS, Settings } from "../../lib/rules/settings";
import { Stage, stageIndex } from "../../lib/rules/stages";

export const TEST_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMmJ1cGvQ0f0g3Kf9gq0u3l1Y2rP6oZr2m6Ykq7yQX5d";

export function testSettings(stage: Stage, extra: Record<string, string> = {}): Settings {
    const values: Record<string, string> = {
        stage,
        host: "203.0.113.10",
        domain: "social.example",
        sshHostKey: TEST_HOST_KEY,
        sshPrivateKey: "k",
        databasePassword: "p",
        ...(stage === "operating" ? {} : { closingDate: "2026-06-01" }),
        ...(stageIndex(stage) >= stageIndex("self-destructing") ? { confirmSelfDestruct: "social.example" } : {}),
        ...extra,
    };
    return parseSettings({ get: (k) => values[k], isSecret: (k) => ([...SECRET_KEYS, "cloudflareApiToken"] as readonly string[]).includes(k) });
}
