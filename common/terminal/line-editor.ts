/**
 * The input line as a pure state machine: text as grapheme clusters (what a
 * person sees as one character: 的, 👋, e + a combining accent), a cursor
 * between them, readline's editing keys, history, and tab completion. Keys in
 * (keys.ts), results out; no terminal, no clock.
 */
import type { KeyEvent } from './keys.js';
import type { History } from './history.js';
import type { Completer } from './completion.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

export type { Completer } from './completion.js';

export type EditResult =
  | { kind: 'none' }
  /** The line or the cursor changed: redraw. */
  | { kind: 'changed' }
  | { kind: 'submit'; line: string }
  /** A paste of several lines, as pasted: the caller confirms before they go out as many messages (the line typed stays). */
  | { kind: 'paste'; lines: string[] }
  /** Ctrl-C on an empty line, Ctrl-D on an empty line: the caller decides (a second Ctrl-C quits). */
  | { kind: 'interrupt' }
  | { kind: 'eof' }
  | { kind: 'bell' };

interface Cycle {
  start: number;
  candidates: string[];
  index: number;
  /** The grapheme count of the completion inserted last, to replace it on the next Tab. */
  inserted: number;
}

/**
 * Graphemes at most, to bound memory (the protocol's own text limit is enforced on send, saying the line's real
 * size). As large as the largest paste (keys.ts), so that a long paste is never cut short in silence.
 */
export const MAX_LINE_GRAPHEMES = 1 << 20;

export class LineEditor {
  private chars: string[] = [];
  private pos = 0;
  private cycle: Cycle | null = null;

  constructor(
    private readonly history: History | null = null,
    private readonly complete: Completer | null = null,
  ) {}

  get text(): string {
    return this.chars.join('');
  }
  get cursor(): number {
    return this.pos;
  }
  get graphemes(): readonly string[] {
    return this.chars;
  }

  /** Replaces the whole line, the cursor at its end. */
  set(text: string): void {
    this.chars = graphemes(text).slice(0, MAX_LINE_GRAPHEMES);
    this.pos = this.chars.length;
  }

  apply(e: KeyEvent): EditResult {
    if (!(e.type === 'key' && e.key === 'tab')) this.cycle = null;
    if (e.type === 'text') return this.insert(e.text);
    if (e.type === 'paste') return this.pasted(e.text);
    return this.key(e.key);
  }

  private insert(text: string): EditResult {
    const clean = text.replace(/[\x00-\x1f\x7f]/g, '');
    if (clean === '') return { kind: 'none' };
    // Re-segmented with the grapheme before the cursor, so that a combining mark typed after a letter joins it
    // (only that one: a line may be a long paste).
    const joined = graphemes((this.pos > 0 ? this.chars[this.pos - 1]! : '') + clean);
    const head = this.chars.slice(0, Math.max(0, this.pos - 1));
    this.chars = [...head, ...joined, ...this.chars.slice(this.pos)].slice(0, MAX_LINE_GRAPHEMES);
    this.pos = Math.min(head.length + joined.length, this.chars.length);
    return { kind: 'changed' };
  }

  /**
   * One line is typed in at the cursor. Several are handed over as they are, the last one too (with or without
   * its newline): nothing of a paste stays behind to be joined to the next one, and the line being typed is
   * neither mixed into them nor lost.
   */
  private pasted(text: string): EditResult {
    const lines = text.replace(/\r\n?/g, '\n').split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length <= 1) return this.insert(lines[0] ?? '');
    return { kind: 'paste', lines };
  }

  private key(key: string): EditResult {
    switch (key) {
      case 'enter': {
        const line = this.text;
        this.history?.add(line);
        this.set('');
        return { kind: 'submit', line };
      }
      case 'left':
      case 'ctrl-b':
        return this.moveTo(this.pos - 1);
      case 'right':
      case 'ctrl-f':
        return this.moveTo(this.pos + 1);
      case 'home':
      case 'ctrl-a':
        return this.moveTo(0);
      case 'end':
      case 'ctrl-e':
        return this.moveTo(this.chars.length);
      case 'word-left':
        return this.moveTo(this.wordStart(this.pos));
      case 'word-right':
        return this.moveTo(this.wordEnd(this.pos));
      case 'backspace':
        return this.remove(this.pos - 1, this.pos);
      case 'delete':
        return this.remove(this.pos, this.pos + 1);
      case 'ctrl-d':
        return this.chars.length === 0 ? { kind: 'eof' } : this.remove(this.pos, this.pos + 1);
      case 'ctrl-u':
        return this.remove(0, this.pos);
      case 'ctrl-k':
        return this.remove(this.pos, this.chars.length);
      case 'ctrl-w':
      case 'delete-word-left':
        return this.remove(this.wordStart(this.pos), this.pos);
      case 'delete-word-right':
        return this.remove(this.pos, this.wordEnd(this.pos));
      case 'ctrl-c':
        if (this.chars.length === 0) return { kind: 'interrupt' };
        this.set('');
        return { kind: 'changed' };
      case 'up':
      case 'ctrl-p':
        return this.recall(this.history?.previous(this.text));
      case 'down':
      case 'ctrl-n':
        return this.recall(this.history?.next());
      case 'tab':
        return this.tab();
      case 'ctrl-l':
        return { kind: 'changed' };
      default:
        return { kind: 'none' };
    }
  }

  private moveTo(p: number): EditResult {
    const next = Math.max(0, Math.min(this.chars.length, p));
    if (next === this.pos) return { kind: 'none' };
    this.pos = next;
    return { kind: 'changed' };
  }

  private remove(from: number, to: number): EditResult {
    const a = Math.max(0, from);
    const b = Math.min(this.chars.length, to);
    if (b <= a) return { kind: 'none' };
    this.chars.splice(a, b - a);
    this.pos = a;
    return { kind: 'changed' };
  }

  private isSpace(i: number): boolean {
    return /^\s+$/u.test(this.chars[i] ?? ' ');
  }
  /** Start of the word before p (spaces before p skipped first), as readline's Alt-B. */
  private wordStart(p: number): number {
    let i = p;
    while (i > 0 && this.isSpace(i - 1)) i--;
    while (i > 0 && !this.isSpace(i - 1)) i--;
    return i;
  }
  /** End of the word after p, as readline's Alt-F. */
  private wordEnd(p: number): number {
    let i = p;
    while (i < this.chars.length && this.isSpace(i)) i++;
    while (i < this.chars.length && !this.isSpace(i)) i++;
    return i;
  }

  private recall(line: string | null | undefined): EditResult {
    if (line === null || line === undefined) return { kind: 'bell' };
    this.set(line);
    return { kind: 'changed' };
  }

  /** Completes the word before the cursor; Tab again cycles through the candidates. */
  private tab(): EditResult {
    if (!this.complete) return { kind: 'bell' };
    if (!this.cycle) {
      const before = this.chars.slice(0, this.pos).join('');
      const { start, candidates } = this.complete(before);
      if (candidates.length === 0) return { kind: 'bell' };
      const startGrapheme = graphemes(before.slice(0, start)).length;
      this.cycle = { start: startGrapheme, candidates, index: -1, inserted: this.pos - startGrapheme };
    }
    const c = this.cycle;
    c.index = (c.index + 1) % c.candidates.length;
    const word = graphemes(c.candidates[c.index]!);
    this.chars.splice(c.start, c.inserted, ...word);
    c.inserted = word.length;
    this.pos = c.start + word.length;
    return { kind: 'changed' };
  }
}
