/**
 * Command arguments, one rule for every command of both clients (the terminal
 * client's /get, /post, /register, /identify and /password; the page's
 * /password): words are separated by spaces, "double quotes" keep spaces in
 * one (file names and passwords may have them), \" and \\ inside quotes are a
 * quote and a backslash, and a quote left open is an error, never a literal
 * quote in a name or a password.
 */

/** Why a line with an unclosed quote is refused. */
export const OPEN_QUOTE =
  'a double quote is not closed: put a name or password with spaces in "double quotes" (\\" and \\\\ inside them)';

export type Args = { ok: true; args: string[] } | { ok: false; error: string };

/** The words of text by the one rule, or why it has none (a quote left open). */
export function parseArgs(text: string): Args {
  const args: string[] = [];
  let word: string | null = null;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') quoted = false;
      else if (c === '\\' && i + 1 < text.length) word += text[++i]!;
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== null) args.push(word);
      word = null;
    } else if (c === '"') {
      quoted = true;
      word ??= '';
    } else word = (word ?? '') + c;
  }
  if (quoted) return { ok: false, error: OPEN_QUOTE };
  if (word !== null) args.push(word);
  return { ok: true, args };
}

/** The words of text by the one rule; none when a quote is left open (callers' usage lines then refuse the line). */
export function splitArgs(text: string): string[] {
  const r = parseArgs(text);
  return r.ok ? r.args : [];
}
