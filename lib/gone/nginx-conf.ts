// A small reader of nginx configuration files: directives with their arguments and blocks, comments
// dropped, each directive with its place in the text (so a server block can be kept byte for byte).
// Enough for a site file (sites-available/*); it does not follow `include`.
//
// Its errors name a line and what kind of thing is wrong there, never the text: the file read may not be a
// vhost at all, and what the closure says ends up in a preview anyone with a pull request can read.

export interface Directive {
    name: string;
    /** Arguments as written (quotes kept), so they render back unchanged. */
    args: string[];
    block?: Directive[];
    /** Offsets in the text: from the directive's name to just after its `;` or closing `}`. */
    start: number;
    end: number;
}

type Token = { kind: "word" | "{" | "}" | ";"; text: string; start: number; end: number };

/** The line (from 1) of an offset in the text. */
export function lineOf(text: string, offset: number): number {
    let line = 1;
    for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) line++;
    return line;
}

function tokens(text: string): Token[] {
    const out: Token[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) {
            i++;
        } else if (c === "#") {
            while (i < text.length && text[i] !== "\n") i++;
        } else if (c === "{" || c === "}" || c === ";") {
            out.push({ kind: c, text: c, start: i, end: i + 1 });
            i++;
        } else {
            const start = i;
            if (c === '"' || c === "'") {
                i++;
                while (i < text.length && text[i] !== c) i += text[i] === "\\" ? 2 : 1;
                if (i >= text.length) throw new Error(`line ${lineOf(text, start)}: a quoted string that is not closed`);
                i++;
            } else {
                while (i < text.length && !/[\s{};]/.test(text[i])) {
                    // `${var}` is one word, not a block.
                    if (text[i] === "$" && text[i + 1] === "{") {
                        const close = text.indexOf("}", i);
                        i = close < 0 ? text.length : close + 1;
                    } else i += text[i] === "\\" ? 2 : 1;
                }
            }
            out.push({ kind: "word", text: text.slice(start, i), start, end: i });
        }
    }
    return out;
}

/** The directives of a configuration text; throws on unbalanced braces or a missing `;`, naming the line. */
export function parseNginxConf(text: string): Directive[] {
    const toks = tokens(text);
    let pos = 0;
    const list = (nested: boolean): Directive[] => {
        const out: Directive[] = [];
        while (pos < toks.length) {
            const t = toks[pos];
            if (t.kind === "}") {
                if (!nested) throw new Error(`line ${lineOf(text, t.start)}: a "}" that closes no block`);
                return out;
            }
            // The kind of a token that is not a word is one of the closure's own "{", "}", ";".
            if (t.kind !== "word") throw new Error(`line ${lineOf(text, t.start)}: a "${t.kind}" where a directive should begin`);
            const words: Token[] = [];
            while (pos < toks.length && toks[pos].kind === "word") words.push(toks[pos++]);
            const end = toks[pos];
            if (!end) throw new Error(`line ${lineOf(text, words[0].start)}: a directive without ";" at its end (the file ends first)`);
            const d: Directive = { name: words[0].text, args: words.slice(1).map((w) => w.text), start: words[0].start, end: end.end };
            pos++;
            if (end.kind === "{") {
                d.block = list(true);
                const close = toks[pos];
                if (!close || close.kind !== "}") throw new Error(`line ${lineOf(text, d.start)}: a block that is not closed`);
                d.end = close.end;
                pos++;
            } else if (end.kind !== ";") throw new Error(`line ${lineOf(text, words[0].start)}: a directive without ";" before "${end.kind}"`);
            out.push(d);
        }
        if (nested) throw new Error("a block is not closed at the end of the file");
        return out;
    };
    return list(false);
}

/** An argument without its quotes. */
export function unquote(arg: string): string {
    return /^(["']).*\1$/s.test(arg) ? arg.slice(1, -1) : arg;
}

/** Every directive in `ds` and its blocks, depth first. */
export function allDirectives(ds: Directive[]): Directive[] {
    return ds.flatMap((d) => [d, ...(d.block ? allDirectives(d.block) : [])]);
}

/** A directive rendered back on one line. */
export function renderDirective(d: Directive): string {
    return `${[d.name, ...d.args].join(" ")};`;
}
