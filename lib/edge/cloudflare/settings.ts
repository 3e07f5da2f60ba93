// What parking on Cloudflare needs from the stack's settings (parsed and checked in lib/rules/settings/cloudflare.ts).
export interface CloudflareSettings {
    accountId: string;
    /** The zone's name, e.g. example.org; its id is looked up. */
    zone: string;
    /** Hostnames answered by the parking Worker: the domain first, then parkExtraHostnames. */
    hostnames: string[];
    nullMx: boolean;
    spf: boolean;
    dmarc: boolean;
    stopNginx: boolean;
}
