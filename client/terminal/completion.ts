/**
 * Tab completion for the chat's input line: /commands at the start of the
 * line, nicks of the people in the room, and shared file names after /get.
 * The lists come from the listener thread as it learns them.
 */
import type { Completer } from '../../common/terminal/line-editor.js';

export const COMMANDS = ['/files', '/get', '/help', '/me', '/msg', '/nick', '/post', '/quit', '/sleep', '/transfers', '/who'];

export interface CompletionSources {
  nicks(): readonly string[];
  files(): readonly string[];
}

const none: CompletionSources = { nicks: () => [], files: () => [] };

/** Candidates that start with the typed prefix (nicks without regard to case), in order. */
function matching(prefix: string, names: readonly string[], fold: boolean): string[] {
  const p = fold ? prefix.toLowerCase() : prefix;
  return names.filter((n) => (fold ? n.toLowerCase() : n).startsWith(p));
}

/** A file name as /get takes it: quoted when it holds spaces or quotes. */
function quoted(name: string): string {
  return /[\s"\\]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
}

export function commandCompleter(sources: CompletionSources = none): Completer {
  return (before) => {
    const start = before.search(/\S*$/);
    const word = before.slice(start);
    const head = before.slice(0, start);
    if (head.trim() === '' && word.startsWith('/')) return { start, candidates: matching(word, COMMANDS, false).map((c) => `${c} `) };
    if (/^\/get\s+$/.test(head)) return { start, candidates: matching(word.replace(/^"/, ''), sources.files(), false).map((f) => `${quoted(f)} `) };
    // A nick at the start of a line is addressed ("bob: "); elsewhere it is just named.
    const suffix = head.trim() === '' ? ': ' : ' ';
    return { start, candidates: matching(word, sources.nicks(), true).map((n) => n + suffix) };
  };
}
