// Parking on Cloudflare from the settings: all of its keys absent (parking stays by hand), or the account,
// the zone the domain belongs to and the token, with the hostnames to answer for.
import type { CloudflareSettings } from "../../edge/cloudflare/settings";
import { Checked, CLOUDFLARE_KEYS, Written } from "./keys";
import { DOMAIN, names, normalName } from "./values";

/** The three keys any other Cloudflare key needs, and what each is. */
const NEEDED = {
    cloudflareAccountId: "the Cloudflare account id (32 hexadecimal characters, on the dashboard's overview page)",
    cloudflareZone: "the Cloudflare zone holding the domain, e.g. example.org",
    cloudflareApiToken: "an API token (README: Parking on Cloudflare); set it with: pulumi config set --secret cloudflareApiToken",
} as const;

/** The Cloudflare settings, or undefined when no Cloudflare key is set; their problems into `problems`. */
export function cloudflareSettings(checked: Checked, written: Written, problems: string[]): CloudflareSettings | undefined {
    const given = CLOUDFLARE_KEYS.filter((k) => written[k] !== undefined);
    if (given.length === 0) return undefined;
    for (const [key, what] of Object.entries(NEEDED)) {
        if (written[key as keyof typeof NEEDED] === undefined) problems.push(`${key} is required with ${given.join(", ")}: ${what}`);
    }
    // Names are compared as written (normalised), each that is a DNS name, whatever else is wrong.
    const domain = (written.domain ?? "").toLowerCase();
    const zone = normalName(written.cloudflareZone ?? "");
    const inZone = (name: string) => name === zone || name.endsWith(`.${zone}`);
    if (checked.cloudflareZone && domain && !inZone(domain))
        problems.push(`cloudflareZone "${zone}" does not hold the domain "${written.domain}": give the zone the domain is in`);
    const extras = written.parkExtraHostnames === undefined ? [] : names(written.parkExtraHostnames);
    for (const name of extras) {
        if (zone && DOMAIN.test(name) && !inZone(name)) problems.push(`parkExtraHostnames: "${name}" is not in the zone "${zone}"`);
    }
    return {
        accountId: checked.cloudflareAccountId ?? "",
        zone,
        hostnames: [...new Set([domain, ...extras])],
        nullMx: checked.parkNullMx,
        spf: checked.parkSpf,
        dmarc: checked.parkDmarc,
        stopNginx: checked.stopNginxWhenParked,
    };
}
