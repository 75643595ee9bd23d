/**
 * Tab completion of the word before the cursor, for every input line the
 * project has (the chat client, the operator console, the browser page):
 * /commands at the start of the line, nicks elsewhere (addressed, "bob: ",
 * at the start), shared file names after /get. No dependencies.
 */

/** Candidates for the word that ends at the cursor: where that word starts, and what it may become. */
export type Completer = (beforeCursor: string) => { start: number; candidates: string[] };

export interface CompletionSources {
  commands: readonly string[];
  nicks(): readonly string[];
  /** File names, completed after /get. */
  files?(): readonly string[];
  /** A nick may be completed as the first word (the console's first word is a command or a broadcast: false). */
  nicksAtStart?: boolean;
}

/** Candidates that start with the typed prefix, in order (any case, for nicks and commands alike). */
function matching(prefix: string, names: readonly string[], fold: boolean): string[] {
  const p = fold ? prefix.toLowerCase() : prefix;
  return names.filter((n) => (fold ? n.toLowerCase() : n).startsWith(p));
}

/** A file name as /get takes it: quoted when it holds spaces or quotes. */
function quoted(name: string): string {
  return /[\s"\\]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
}

export function wordCompleter(src: CompletionSources): Completer {
  return (before) => {
    const start = before.search(/\S*$/);
    const word = before.slice(start);
    const head = before.slice(0, start);
    const atStart = head.trim() === '';
    if (atStart && word.startsWith('/'))
      return { start, candidates: matching(word, src.commands, true).map((c) => `${c} `) };
    if (src.files && /^\/get\s+$/.test(head))
      return { start, candidates: matching(word.replace(/^"/, ''), src.files(), false).map((f) => `${quoted(f)} `) };
    if (atStart && src.nicksAtStart === false) return { start, candidates: [] };
    // A nick at the start of a line is addressed ("bob: "); elsewhere it is just named.
    const suffix = atStart ? ': ' : ' ';
    return { start, candidates: matching(word, src.nicks(), true).map((n) => n + suffix) };
  };
}
