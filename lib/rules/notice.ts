// What the server announces: the closure, its date, the successor, and "export your data now", in
// English or Japanese; the operator's own text (announcementText) wins over the templates. And the notice
// the closing date must give (checkClosingDate).
import type { Language } from "../gone/contract";
import { DAY_MS } from "./days";
import type { HostFacts } from "./facts";
import type { Settings } from "./settings";
import { ANNOUNCING_STAGE, needsClosingDate, Stage, STAGE_TABLE } from "./stages";

export interface NoticeInput {
    domain: string;
    closingDate: string;
    successor?: string;
    language: Language;
    /** The operator's own text; {closingDate}, {successor} and {domain} are filled in. */
    ownText?: string;
    /** The closure requests every user's archive at the closing date (requestArchives): say so, and that
     *  it comes by e-mail, rather than send users to "Request your archive". */
    archivesByEmail?: boolean;
}

const TEMPLATES: Record<Language, { main: string; mainArchivesByEmail: string; successor: string; reminder: string }> = {
    en: {
        mainArchivesByEmail:
            "{domain} will close on {closingDate}.{successor} On the closing date an archive of your account (your posts and media) is prepared " +
            "for you, and you get an e-mail with a link to download it: you do not need to request it. Please also export your data now: " +
            "download the CSV lists under Preferences > Import and export > Data export. After the closing date only signing in and downloading your archive will work, for a short while.",
        main:
            "{domain} will close on {closingDate}.{successor} Please export your data now: " +
            'Preferences > Import and export > Data export, then "Request your archive" and download the CSV lists. ' +
            "After the closing date only signing in and downloading your archive will work, for a short while.",
        successor: " You are welcome to move to {successor}: set it up under Preferences > Account > Moving from a different account.",
        reminder: "Reminder: {domain} closes in {days} day(s), on {closingDate}. Export your data now (Preferences > Import and export).",
    },
    ja: {
        mainArchivesByEmail:
            "{domain} は {closingDate} に閉鎖します。{successor}閉鎖日に、あなたのアカウントのアーカイブ(投稿とメディア)を用意し、" +
            "ダウンロード用のリンクをメールでお送りします(ご自身でリクエストする必要はありません)。" +
            "CSV は今のうちに「ユーザー設定 > インポートとエクスポート > データのエクスポート」からダウンロードしてください。" +
            "閉鎖日以降は、しばらくの間ログインとアーカイブのダウンロードだけができます。",
        main:
            "{domain} は {closingDate} に閉鎖します。{successor}今のうちにデータをエクスポートしてください: " +
            "「ユーザー設定 > インポートとエクスポート > データのエクスポート」で「アーカイブをリクエスト」し、CSV もダウンロードしてください。" +
            "閉鎖日以降は、しばらくの間ログインとアーカイブのダウンロードだけができます。",
        successor: "移転先として {successor} をおすすめします(「ユーザー設定 > アカウント > 別のアカウントからの引っ越し」)。",
        reminder:
            "お知らせ: {domain} の閉鎖まであと {days} 日です({closingDate})。今のうちにデータをエクスポートしてください(ユーザー設定 > インポートとエクスポート)。",
    },
};

function fill(template: string, values: Record<string, string>): string {
    return template.replace(/\{(\w+)\}/g, (all, key: string) => values[key] ?? all);
}

export function announcementText(n: NoticeInput): string {
    const t = TEMPLATES[n.language];
    const successor = n.successor ? fill(t.successor, { successor: n.successor.replace(/^https:\/\//, "") }) : "";
    const values = { domain: n.domain, closingDate: n.closingDate, successor: n.successor ?? "" };
    return n.ownText ? fill(n.ownText, values) : fill(n.archivesByEmail ? t.mainArchivesByEmail : t.main, { ...values, successor });
}

export interface Reminder {
    daysBefore: number;
    /** When Mastodon publishes it: 09:00 UTC that day. */
    scheduledAt: string;
    text: string;
}

/**
 * Reminders before the closing date. Those already due when the closure was announced are left out, so
 * announcing late does not publish a burst of reminders; `announcedAt` is the recorded time the stage was
 * first reached, which keeps the set the same on every later run.
 */
export function reminders(n: NoticeInput, daysBefore: number[], announcedAt: Date): Reminder[] {
    return daysBefore
        .map((days) => {
            const at = new Date(`${n.closingDate}T09:00:00Z`);
            at.setUTCDate(at.getUTCDate() - days);
            return {
                daysBefore: days,
                scheduledAt: at.toISOString(),
                text: fill(TEMPLATES[n.language].reminder, { domain: n.domain, closingDate: n.closingDate, days: String(days) }),
            };
        })
        .filter((r) => new Date(r.scheduledAt) > announcedAt);
}

/** Days of notice below which preview warns: the Server Covenant of joinmastodon.org asks listed servers
 *  for three months. */
export const COVENANT_NOTICE_DAYS = 90;

/**
 * The closing date as announced: users must get a notice period. Announcing the closure (or moving the date
 * earlier once announced) needs it at least minimumNoticeDays ahead; moving it later is always allowed.
 * Returns the refusal, and a warning below the Covenant's 90 days.
 */
export function checkClosingDate(target: Stage, facts: HostFacts, settings: Settings, now: Date): { refusal?: string; warning?: string } {
    if (!needsClosingDate(target) || !settings.closingDate) return {};
    const entering = !needsClosingDate(facts.currentStage);
    const movedEarlier = !entering && facts.announcedClosingDate !== undefined && settings.closingDate < facts.announcedClosingDate;
    if (!entering && !movedEarlier) return {};
    // Whole calendar days (UTC) from today: today is 0, yesterday -1. `now` is the host's clock (lib/rules/clock.ts).
    const today = now.toISOString().slice(0, 10);
    const days = Math.round((Date.parse(`${settings.closingDate}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / DAY_MS);
    const what = entering ? "announcing the closure" : `moving the closing date earlier than the announced ${facts.announcedClosingDate}`;
    if (days < settings.minimumNoticeDays) {
        return {
            refusal:
                `closingDate ${settings.closingDate} is ${days < 0 ? "in the past" : `${days} day(s) away`}: ${what} needs it at least ` +
                `${settings.minimumNoticeDays} day(s) ahead (minimumNoticeDays), so that users can export their data; set a later closingDate ` +
                `(a day in UTC: today is ${today} in UTC by the host's clock)`,
        };
    }
    return days < COVENANT_NOTICE_DAYS
        ? {
              warning: `closingDate ${settings.closingDate} gives ${days} day(s) of notice; joinmastodon.org's Server Covenant asks listed servers for ${COVENANT_NOTICE_DAYS}`,
          }
        : {};
}

/** When the closure was announced: when the host entered the announcing stage, while it is at a stage that
 *  announces; else now (announcing again after moving back to operating counts from then). */
export function announcedAtOf(facts: HostFacts, now: Date): Date {
    const since = facts.reachedAt[ANNOUNCING_STAGE];
    return STAGE_TABLE[facts.currentStage].announce && since ? new Date(since) : now;
}
