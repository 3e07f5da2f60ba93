// The keys whose values are Pulumi secrets: given when required, and never in plain text. A secret found in
// plain text has been written where it cannot be taken back: the message says where, and how to rotate it.
import { Checked, OPTIONAL_SECRET_KEYS, SECRET_KEYS, Written } from "./keys";
import { KIND_SETTINGS } from "./kinds";

/** How to replace each secret once it has leaked. */
const ROTATE: Record<(typeof SECRET_KEYS)[number] | (typeof OPTIONAL_SECRET_KEYS)[number], string> = {
    sshPrivateKey: "make a new key pair, add its public key to the server's authorized_keys and remove the old one",
    databasePassword: "change the role's password in PostgreSQL (ALTER ROLE ... PASSWORD) and DB_PASS in .env.production",
    statusToken: "revoke the token (Preferences > Development, or Account > Authorized apps) and make a new one",
    cloudflareApiToken: "roll the token in Cloudflare's dashboard (My Profile > API Tokens)",
};

function plainSecret(key: keyof typeof ROTATE): string {
    return (
        `${key} is stored in plain text: it is in Pulumi.<stack>.yaml (and in its git history if that file was committed) and in the ` +
        `backend's history of every update run with it. Treat it as leaked: ${ROTATE[key]}; then set the new value with: ` +
        `pulumi config set --secret ${key} ...`
    );
}

/** The secrets' problems; `isSecret` says whether a key is stored encrypted. */
export function secretProblems(checked: Checked, written: Written, isSecret: (key: string) => boolean, problems: string[]): void {
    for (const key of SECRET_KEYS) {
        const required = key !== "databasePassword" || KIND_SETTINGS[checked.deployment].databasePassword === "required";
        if (written[key] === undefined) {
            if (required) problems.push(`${key} is required; set it with: pulumi config set --secret ${key} ...`);
        } else if (!isSecret(key)) problems.push(plainSecret(key));
    }
    for (const key of OPTIONAL_SECRET_KEYS) {
        if (written[key] !== undefined && !isSecret(key)) problems.push(plainSecret(key));
    }
}
