/**
 * Bytes from a terminal in raw mode, turned into keys: UTF-8 text (split
 * anywhere across reads), control keys, the escape sequences xterm, tmux and
 * the Linux console send for cursor and editing keys, Alt-letter, and
 * bracketed paste. Pure: the caller feeds bytes and, when a lone ESC has
 * waited long enough, calls flushEscape().
 */

export type KeyName =
  | 'enter'
  | 'tab'
  | 'shift-tab'
  | 'backspace'
  | 'delete'
  | 'left'
  | 'right'
  | 'up'
  | 'down'
  | 'home'
  | 'end'
  | 'word-left'
  | 'word-right'
  | 'delete-word-left'
  | 'delete-word-right'
  | 'escape'
  | `ctrl-${'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'k' | 'l' | 'n' | 'p' | 'u' | 'w' | 'z'}`;

export type KeyEvent = { type: 'text'; text: string } | { type: 'key'; key: KeyName } | { type: 'paste'; text: string };

const ESC = 0x1b;
const PASTE_END = '\x1b[201~';
/** A paste larger than this is cut (and the rest dropped) rather than held in memory without end. */
const MAX_PASTE_BYTES = 1 << 20;

const CONTROL: Partial<Record<number, KeyName>> = {
  0x01: 'ctrl-a',
  0x02: 'ctrl-b',
  0x03: 'ctrl-c',
  0x04: 'ctrl-d',
  0x05: 'ctrl-e',
  0x06: 'ctrl-f',
  0x08: 'backspace',
  0x09: 'tab',
  0x0a: 'enter',
  0x0b: 'ctrl-k',
  0x0c: 'ctrl-l',
  0x0d: 'enter',
  0x0e: 'ctrl-n',
  0x10: 'ctrl-p',
  0x15: 'ctrl-u',
  0x17: 'ctrl-w',
  0x1a: 'ctrl-z',
  0x7f: 'backspace',
};

/** CSI sequences by their parameters and final byte (ESC [ params final). */
function csiKey(params: string, final: string): KeyName | null {
  const mod = params.split(';')[1];
  const ctrlOrAlt = mod === '5' || mod === '3';
  switch (final) {
    case 'A':
      return 'up';
    case 'B':
      return 'down';
    case 'C':
      return ctrlOrAlt ? 'word-right' : 'right';
    case 'D':
      return ctrlOrAlt ? 'word-left' : 'left';
    case 'H':
      return 'home';
    case 'F':
      return 'end';
    case 'Z':
      return 'shift-tab';
    case '~':
      switch (params.split(';')[0]) {
        case '1':
        case '7':
          return 'home';
        case '4':
        case '8':
          return 'end';
        case '3':
          return ctrlOrAlt ? 'delete-word-right' : 'delete';
      }
  }
  return null;
}

const ALT: Partial<Record<string, KeyName>> = {
  b: 'word-left',
  f: 'word-right',
  d: 'delete-word-right',
  '\x7f': 'delete-word-left',
  '\b': 'delete-word-left',
};

/** How many bytes the UTF-8 sequence led by b takes (1 for a byte that cannot lead one). */
function utf8Length(b: number): number {
  if (b >= 0xf0 && b <= 0xf4) return 4;
  if (b >= 0xe0) return b <= 0xef ? 3 : 1;
  if (b >= 0xc2) return 2;
  return 1;
}

export class KeyDecoder {
  private pending = Buffer.alloc(0);
  private paste: string[] | null = null;
  private pasteBytes = 0;
  private readonly decoder = new TextDecoder('utf-8');

  /** True while a lone ESC (or the start of a sequence) waits for more bytes. */
  get waitingOnEscape(): boolean {
    return this.paste === null && this.pending.length > 0 && this.pending[0] === ESC;
  }

  push(chunk: Uint8Array): KeyEvent[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    const out: KeyEvent[] = [];
    let i = 0;
    while (i < this.pending.length) {
      const used = this.paste ? this.readPaste(i, out) : this.readOne(i, out);
      if (used === 0) break; // incomplete: wait for more bytes
      i += used;
    }
    this.pending = this.pending.subarray(i);
    return mergeText(out);
  }

  /** The bytes after an ESC never came: it was the Escape key itself (or Alt and a key that got lost). */
  flushEscape(): KeyEvent[] {
    if (!this.waitingOnEscape) return [];
    this.pending = this.pending.subarray(1);
    return [{ type: 'key', key: 'escape' }, ...this.push(Buffer.alloc(0))];
  }

  private readPaste(i: number, out: KeyEvent[]): number {
    const rest = this.pending.subarray(i);
    const end = rest.indexOf(PASTE_END);
    // Keep a tail that could be the start of the end marker.
    const take = end >= 0 ? end : Math.max(0, rest.length - (PASTE_END.length - 1));
    if (take > 0 && this.pasteBytes < MAX_PASTE_BYTES) {
      this.paste!.push(this.decoder.decode(rest.subarray(0, take), { stream: true }));
      this.pasteBytes += take;
    }
    if (end < 0) return take;
    out.push({ type: 'paste', text: this.paste!.join('') + this.decoder.decode() });
    this.paste = null;
    this.pasteBytes = 0;
    return end + PASTE_END.length;
  }

  private readOne(i: number, out: KeyEvent[]): number {
    const b = this.pending[i]!;
    if (b === ESC) return this.readEscape(i, out);
    const control = CONTROL[b];
    if (control) {
      out.push({ type: 'key', key: control });
      return 1;
    }
    if (b < 0x20) return 1; // other control bytes mean nothing here, and must never reach the screen
    const n = utf8Length(b);
    if (i + n > this.pending.length) return 0;
    out.push({ type: 'text', text: this.decoder.decode(this.pending.subarray(i, i + n)) });
    return n;
  }

  private readEscape(i: number, out: KeyEvent[]): number {
    const p = this.pending;
    if (i + 1 >= p.length) return 0;
    const next = p[i + 1]!;
    if (next === 0x5b /* [ */) {
      let j = i + 2;
      while (j < p.length && p[j]! >= 0x20 && p[j]! <= 0x3f) j++;
      if (j >= p.length) return 0;
      const params = p.subarray(i + 2, j).toString('latin1');
      const final = String.fromCharCode(p[j]!);
      if (params === '200' && final === '~') {
        this.paste = [];
        return j - i + 1;
      }
      const key = csiKey(params, final);
      if (key) out.push({ type: 'key', key });
      return j - i + 1;
    }
    if (next === 0x4f /* O */) {
      if (i + 2 >= p.length) return 0;
      const key = csiKey('', String.fromCharCode(p[i + 2]!));
      if (key) out.push({ type: 'key', key });
      return 3;
    }
    const alt = ALT[String.fromCharCode(next)];
    if (alt) out.push({ type: 'key', key: alt });
    return 2;
  }
}

function mergeText(events: KeyEvent[]): KeyEvent[] {
  const out: KeyEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.type === 'text' && last?.type === 'text') last.text += e.text;
    else out.push(e);
  }
  return out;
}

/**
 * A terminal that does not bracket pastes (an old one, tmux's paste-buffer without -p, screen) sends a pasted
 * "one⏎two" as keys: the first line would go at once and the second wait on the input line, to be joined to
 * whatever comes next. Nobody types Enter and then more text within one read: such a read is a paste. Its text
 * and Enters become one paste event (other keys in it are dropped); any other read is left as it is.
 */
export function pastesIn(events: KeyEvent[]): KeyEvent[] {
  const enter = events.findIndex((e) => e.type === 'key' && e.key === 'enter');
  if (enter < 0 || !events.slice(enter + 1).some((e) => e.type === 'text')) return events;
  let text = '';
  for (const e of events)
    if (e.type === 'text' || e.type === 'paste') text += e.text;
    else if (e.key === 'enter') text += '\n';
  return [{ type: 'paste', text }];
}
