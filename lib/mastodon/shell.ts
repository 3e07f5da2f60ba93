// Shell quoting for the lines the closure sends to a host: every word it does not write itself is quoted here.
/** Single-quote a word for a POSIX shell. */
export function shq(word: string): string {
    return `'${word.replace(/'/g, `'\\''`)}'`;
}
