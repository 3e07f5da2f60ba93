// The closure's own records on the host, in one state directory: where each one is and what it holds. The
// steps (lib/host/steps/) write them; the probe (lib/host/probe.ts) reads them, so that the next run knows
// what an earlier one did even when the stack's state does not (a run killed half way, a stack made anew).
import { ServiceState } from "../mastodon/deployment";

/** Where the closure keeps its own records on the host. */
export const STATE_DIR = "/var/lib/mastodon-closure";
export const JOURNAL_PATH = `${STATE_DIR}/journal.json`;
/** How the closure found each service before it stopped the first one (written before any stop). */
export const SERVICES_RECORD = `${STATE_DIR}/services.json`;
/** How nginx was found before parking stopped it (apart from SERVICES_RECORD, which is the dormant stop's). */
export const NGINX_RECORD = `${STATE_DIR}/nginx.json`;
/** When the announcement was e-mailed and to how many users: written once it is, so it is never sent twice. */
export const EMAIL_RECORD = `${STATE_DIR}/announcement-email.json`;
/** The server's own vhost (the bytes nginx read at nginxSite, through a symlink), kept the first time the
 *  closure replaces it and put back on the way back. Here, never beside the site: nginx's `include
 *  sites-enabled/*` would read a copy there. On the nginx host (the proxy's, with split hosts). */
export const ORIGINAL_VHOST = `${STATE_DIR}/original-vhost`;
/** sha256 of ORIGINAL_VHOST as the closure kept it. */
export const KEPT_VHOST_SUM = `${STATE_DIR}/original-vhost.sha256`;
/** The nginxSite ORIGINAL_VHOST was kept from (one line), so it is never put back at another path. */
export const KEPT_VHOST_SITE = `${STATE_DIR}/original-vhost.site`;
/** The vhost in place before a change, while nginx -t judges the change (put back when it rejects it). */
export const PREVIOUS_VHOST = `${STATE_DIR}/previous-vhost`;
/** The closure vhost as received, before it is written to the site. */
export const NEW_VHOST = `${STATE_DIR}/new-vhost`;
/** Where closure versions before the state directory kept the original: beside the site (moved from there
 *  into ORIGINAL_VHOST the next time the vhost step runs; read from there by the probe until then). */
export const legacyKeptVhost = (site: string) => `${site}.closure-original`;
/** The directories the closure made (for the dumps): written before it makes one, so a directory it did not
 *  make is never taken for its own (left as found: owner and mode unchanged). */
export const CREATED_DIRS_RECORD = `${STATE_DIR}/created-dirs.json`;
/** Which stack's closure owns the host (lib/rules/owner.ts OwnerRecord), mode 600: written at the closure's
 *  first change to its hosts, on every one of them; another stack is refused at preview. */
export const OWNER_RECORD = `${STATE_DIR}/owner.json`;
/** The lock a run holds on each host of the closure from its first change to its end (lib/host/lock.ts), with
 *  who holds it. In /run: root's, and gone at a reboot with whatever held it. */
export const HOST_LOCK = "/run/mastodon-closure.lock";

/** JOURNAL_PATH: the stage the host reached and when each stage was last entered from below. */
export interface Journal {
    stage: string;
    reachedAt: Record<string, string>;
    /** The closing date the announcement gives (the last one applied). */
    announcedClosingDate?: string;
}

/** CREATED_DIRS_RECORD: the directories the closure made, outermost first. An entry for a directory that is
 *  not there (removed after a failed dump, or a run killed before it made it) is dropped at the next write. */
export interface CreatedDirs {
    dirs: string[];
}

/** EMAIL_RECORD. */
export interface EmailRecord {
    sentAt: string;
    recipients: number;
    /** The announcement that was e-mailed. */
    announcementId: number;
}

/** How a service was found before the closure stopped it (SERVICES_RECORD, NGINX_RECORD: `{ states }`). */
export type UnitState = ServiceState;
