/**
 * One Unicode policy for everything people read: chat text, nicks and file
 * names. Dependency-free, so the server, the terminal client and the browser
 * page apply the same rule.
 *
 * Text (messages, topics, reasons) is kept as written, with what could take
 * over a screen or lie about its order made visible instead: C0 controls
 * become their Control Pictures (ESC shows as ␛), DEL ␡; C1 controls, every
 * bidirectional control (embeddings, overrides, isolates, and the marks LRM,
 * RLM and ALM: "Trojan Source", CVE-2021-42574), the line and paragraph
 * separators (U+2028/2029, which break a line where no line may break) and
 * lone surrogates become U+FFFD. Zero-width joiners and variation selectors
 * stay, because emoji sequences and several scripts need them; but a text
 * made only of white space and invisible characters is empty.
 *
 * Names (nicks, file names) are stricter: they may hold no invisible
 * character at all (docs/PROTOCOL.md, "Nicks" and "File names").
 */

const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\p{Bidi_Control}]|\p{Cs}/gu;

/** Text with unsafe characters replaced by a visible stand-in: C0 → its Control Picture, DEL → ␡, the rest → U+FFFD. */
export function neutralizeControls(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

export function hasUnsafeControls(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/** Characters that draw nothing: white space, default ignorables (zero-width spaces and joiners, BOM, fillers, tags), and the braille blank. */
const BLANK = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/** True when the text would show nothing at all: such a message is empty, however many bytes it has. */
export function isBlank(text: string): boolean {
  return BLANK.test(text);
}

/**
 * Characters a name may never hold: default ignorables (zero-width, fillers,
 * BOM, tags, variation selectors), bidi controls, controls and format
 * characters, line and paragraph separators, lone surrogates, private-use and
 * unassigned code points. Each either draws nothing, draws as something
 * else in another font, or reorders what is around it.
 */
export const NAME_INVISIBLE =
  /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]|\p{Cs}/u;

/** Case-insensitive identity: full case folding (ß = ss, Σ = σ = ς) on the NFC form. */
export function foldCase(text: string): string {
  return text.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/** A character for an error message: its code point, and itself when it is visible. */
export function describeChar(ch: string): string {
  const hex = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  const shown = /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? ` (${ch})` : '';
  return `U+${hex}${shown}`;
}

/** At most maxChars characters, cut between code points (never half of a surrogate pair). */
export function clipChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return [...text].slice(0, maxChars).join('');
}

const encoder = new TextEncoder();

/** At most maxBytes of UTF-8, cut between code points (WebSocket close reasons hold 123 bytes). */
export function clipUtf8(text: string, maxBytes: number): string {
  // encodeInto writes whole characters only and says how much of the text that was.
  return text.slice(0, encoder.encodeInto(text, new Uint8Array(maxBytes)).read);
}
