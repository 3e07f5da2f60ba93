// The pages a closed domain serves: the 410 page while users can still sign in and download (closedPage) and
// the one for good (goneForGoodPage), in the announcement's language. Rendered into the vhost and the Worker.
import { EXPORT_PATH, SIGN_IN_PATH } from "./contract";
import type { Language } from "./contract";

export interface GonePage {
    domain: string;
    closingDate?: string;
    successor?: string;
    /** The language shown first; the page carries both. Default en. */
    language?: Language;
    /** While closed: the last day users can still sign in and download their archive (YYYY-MM-DD). */
    downloadsUntil?: string;
}

/** HTML-escaped, and safe inside an nginx string: `$` would start a variable, `\\` an escape. */
export function escapeHtml(s: string): string {
    return s.replace(/[&<>"'$\\]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page of a domain gone for good (dormant and parked), in English and Japanese. */
export function goneForGoodPage(page: GonePage): string {
    const domain = escapeHtml(page.domain);
    const successorName = page.successor ? escapeHtml(page.successor.replace(/^https:\/\//, "")) : undefined;
    const link = successorName ? `<a href="https://${successorName}">${successorName}</a>` : "";
    const date = page.closingDate ? escapeHtml(page.closingDate) : undefined;
    const sections: Record<Language, string> = {
        en:
            `<section lang="en"><h1>${domain} has closed${date ? ` on ${date}` : ""}.</h1>` +
            `<p>This Mastodon server is gone for good. Its accounts and posts have been deleted.${link ? ` Its community continues at ${link}.` : ""}</p></section>`,
        ja:
            `<section lang="ja"><h1>${domain} は${date ? ` ${date} に` : ""}閉鎖しました。</h1>` +
            `<p>この Mastodon サーバーは完全に終了し、アカウントと投稿は削除されました。${link ? `コミュニティは ${link} で続いています。` : ""}</p></section>`,
    };
    const first = page.language ?? "en";
    const order: Language[] = first === "ja" ? ["ja", "en"] : ["en", "ja"];
    return (
        `<!doctype html><html lang="${first}"><head><meta charset="utf-8"><meta name="robots" content="noindex">` +
        `<title>${domain} has closed / 閉鎖しました</title></head><body>${order.map((l) => sections[l]).join("<hr>")}</body></html>`
    );
}

/** The page while users can still take their data (closed and self-destructing), in English and Japanese:
 *  the server has closed, signing in and downloading the archive still work (until `downloadsUntil` when
 *  given), with links to sign in and to the export page. */
export function closedPage(page: GonePage): string {
    const domain = escapeHtml(page.domain);
    const successorName = page.successor ? escapeHtml(page.successor.replace(/^https:\/\//, "")) : undefined;
    const link = successorName ? `<a href="https://${successorName}">${successorName}</a>` : "";
    const date = page.closingDate ? escapeHtml(page.closingDate) : undefined;
    const until = page.downloadsUntil ? escapeHtml(page.downloadsUntil) : undefined;
    const links = (signIn: string, download: string) => `<p><a href="${SIGN_IN_PATH}">${signIn}</a> · <a href="${EXPORT_PATH}">${download}</a></p>`;
    const sections: Record<Language, string> = {
        en:
            `<section lang="en"><h1>${domain} has closed${date ? ` on ${date}` : ""}.</h1>` +
            `<p>You can still sign in and download the archive of your account${until ? ` until ${until}` : " for a short while"}; after that, its accounts and posts will be deleted.${link ? ` Its community continues at ${link}.` : ""}</p>` +
            links("Sign in", "Download your archive") +
            `</section>`,
        ja:
            `<section lang="ja"><h1>${domain} は${date ? ` ${date} に` : ""}閉鎖しました。</h1>` +
            `<p>${until ? `${until} まで` : "しばらくの間"}は、ログインしてアカウントのアーカイブをダウンロードできます。その後、アカウントと投稿は削除されます。${link ? `コミュニティは ${link} で続いています。` : ""}</p>` +
            links("ログイン", "アーカイブをダウンロード") +
            `</section>`,
    };
    const first = page.language ?? "en";
    const order: Language[] = first === "ja" ? ["ja", "en"] : ["en", "ja"];
    return (
        `<!doctype html><html lang="${first}"><head><meta charset="utf-8"><meta name="robots" content="noindex">` +
        `<title>${domain} has closed / 閉鎖しました</title></head><body>${order.map((l) => sections[l]).join("<hr>")}</body></html>`
    );
}
