/** Command arguments as both clients read them (the terminal client's /get and /password, the page's /password). */

/** Words, where "double quotes" keep spaces (file names and passwords may have them; \" and \\ inside them). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}
