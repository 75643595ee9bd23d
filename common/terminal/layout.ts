/**
 * Column widths and how the input line fits the terminal's width. A grapheme
 * takes the columns string-width says (CJK and most emoji 2, combining marks
 * 0); a line wider than the terminal scrolls sideways so the cursor stays in
 * view, with ‹ and › where text is hidden. Pure.
 */
import stringWidth from 'string-width';

export function columns(text: string): number {
  return stringWidth(text);
}

export interface InputView {
  /** Exactly what to draw after clearing the line: prompt and the visible part of the text. */
  text: string;
  /** The cursor's column within it (0-based). */
  cursorColumn: number;
}

/**
 * The visible part of prompt + line. The last column is never used: writing
 * into it makes many terminals wrap, and the line would then be two.
 */
export function fitInputLine(prompt: string, chars: readonly string[], cursor: number, width: number): InputView {
  const room = Math.max(1, width - 1);
  let head = prompt;
  let headWidth = columns(prompt);
  if (headWidth > room / 2) {
    // A prompt wider than half the screen would leave no room to type: shorten it.
    head = clip(prompt, Math.floor(room / 2) - 1) + '…';
    headWidth = columns(head);
  }
  const space = Math.max(1, room - headWidth);
  // Only the graphemes near the cursor are measured: a pasted line may be a megabyte long.
  const fits = widthAtLeast(chars, space) < space;
  if (fits) return { text: head + chars.join(''), cursorColumn: headWidth + measure(chars, 0, cursor) };
  // Scroll so the cursor sits inside, leaving a column for the markers.
  let first = cursor;
  let before = 0;
  while (first > 0 && before + columns(chars[first - 1]!) <= space - 2) before += columns(chars[--first]!);
  let last = first;
  let used = first > 0 ? 1 : 0;
  while (last < chars.length && used + columns(chars[last]!) <= space - 1) used += columns(chars[last++]!);
  const left = first > 0 ? '‹' : '';
  const right = last < chars.length ? '›' : '';
  return {
    text: head + left + chars.slice(first, last).join('') + right,
    cursorColumn: headWidth + (left ? 1 : 0) + before,
  };
}

/** The columns of chars, counted only until they reach `atLeast`. */
function widthAtLeast(chars: readonly string[], atLeast: number): number {
  let n = 0;
  for (let i = 0; i < chars.length && n < atLeast; i++) n += columns(chars[i]!);
  return n;
}

function measure(chars: readonly string[], from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += columns(chars[i]!);
  return n;
}

/** The longest start of text that fits in max columns (whole graphemes). */
export function clip(text: string, max: number): string {
  let out = '';
  let used = 0;
  for (const g of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) {
    const w = columns(g.segment);
    if (used + w > max) break;
    out += g.segment;
    used += w;
  }
  return out;
}
