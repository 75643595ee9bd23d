/**
 * The client's terminal, shared by its two threads. The bottom of the screen
 * is the input line, with the progress line of a transfer (if any) just above
 * it; everything else scrolls above both. The main thread owns the input
 * line, the listener prints incoming lines and the progress line, and both
 * write through this class: one SharedArrayBuffer holds the lock, the input
 * line as drawn, the progress line and the width, so either thread can redraw
 * the bottom after printing, and no two writes ever interleave. The lock is
 * the same robust futex mutex the server's session table uses.
 */
import { SharedMutex } from '../shared-mutex.js';
import { writeFullySync } from '../sync-output.js';
import { clip, columns } from './layout.js';

const W_LOCK = 0;
const W_INPUT_LEN = 1;
const W_CURSOR = 2;
const W_STATUS_LEN = 3;
const W_FLAGS = 4;
const W_WIDTH = 5;
/** The width the bottom was last drawn at: narrower now, the terminal has wrapped what was drawn (eraseBottom). */
const W_DRAWN_WIDTH = 6;
/** The columns of the input line and of the progress line as last drawn. */
const W_INPUT_COLS = 7;
const W_STATUS_COLS = 8;
/** The cursor's column as last drawn. */
const W_DRAWN_CURSOR = 9;
const HEADER_BYTES = 64;
/** Bytes of the input line as drawn (prompt + the visible part); a longer one is cut at a character boundary. */
export const INPUT_BYTES = 16 * 1024;
const STATUS_BYTES = 4 * 1024;

const F_INPUT_SHOWN = 1;
/** Set by close(): the input line is never drawn again. */
const F_CLOSED = 2;
/** The terminal is gone (hung up): nothing is written any more, by either thread. */
const F_GONE = 4;

const CLEAR_BELOW = '\x1b[J';
const UP = '\x1b[A';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 of text, cut at a character boundary to fit max bytes. */
function fitBytes(text: string, max: number): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export class TerminalScreen {
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly mutex: SharedMutex;

  static create(width: number): TerminalScreen {
    const screen = new TerminalScreen(new SharedArrayBuffer(HEADER_BYTES + INPUT_BYTES + STATUS_BYTES));
    screen.setWidth(width);
    return screen;
  }

  /** @param fd where to write (stdout) */
  constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly fd = 1,
  ) {
    this.i32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.u8 = new Uint8Array(buffer);
    this.mutex = new SharedMutex(this.i32, W_LOCK, undefined, 'the terminal lock');
  }

  get width(): number {
    return Atomics.load(this.i32, W_WIDTH);
  }
  setWidth(columns: number): void {
    Atomics.store(this.i32, W_WIDTH, Math.max(10, Math.min(10_000, columns || 80)));
  }

  /** Lines that scroll up above the bottom, which is drawn again after them. */
  print(lines: string[]): void {
    if (lines.length === 0) return;
    this.locked(() => this.eraseBottom() + lines.map((l) => `${l}\r\n`).join('') + this.bottom());
  }

  /** The input line as the editor fits it: the text to draw, the cursor's column in it. */
  setInput(text: string, cursorColumn: number): void {
    this.locked(() => {
      const before = this.eraseBottom();
      const bytes = fitBytes(text, INPUT_BYTES);
      this.u8.set(bytes, HEADER_BYTES);
      Atomics.store(this.i32, W_INPUT_LEN, bytes.length);
      Atomics.store(this.i32, W_CURSOR, cursorColumn);
      Atomics.store(this.i32, W_INPUT_COLS, columns(decoder.decode(bytes)));
      if (!(Atomics.load(this.i32, W_FLAGS) & F_CLOSED)) Atomics.or(this.i32, W_FLAGS, F_INPUT_SHOWN);
      return before + this.bottom();
    });
  }

  /** Stops drawing the input line (and clears it), as on exit. */
  hideInput(): void {
    this.locked(() => {
      const before = this.eraseBottom();
      Atomics.and(this.i32, W_FLAGS, ~F_INPUT_SHOWN);
      return before + this.bottom();
    });
  }

  /** The progress line above the input ('' removes it). */
  setStatus(text: string): void {
    this.locked(() => {
      const before = this.eraseBottom();
      const bytes = fitBytes(text, STATUS_BYTES);
      this.u8.set(bytes, HEADER_BYTES + INPUT_BYTES);
      Atomics.store(this.i32, W_STATUS_LEN, bytes.length);
      return before + this.bottom();
    });
  }

  /** The terminal bell, between two drawings rather than inside one. */
  bell(): void {
    this.locked(() => '\x07');
  }

  /**
   * The last words before the client ends: the progress and input lines
   * cleared for good (nothing half-typed is left for the shell's prompt), then
   * the text on fd (stderr for an error).
   */
  close(text: string, fd: number): void {
    this.mutex.withLock(() => {
      const before = this.eraseBottom();
      Atomics.store(this.i32, W_STATUS_LEN, 0);
      Atomics.store(this.i32, W_FLAGS, F_CLOSED | (Atomics.load(this.i32, W_FLAGS) & F_GONE));
      this.write(this.fd, before);
      if (text) this.write(fd, `${text}\n`);
    });
  }

  /** Draws the bottom again (after a resize, or Ctrl-L). */
  redraw(): void {
    this.locked(() => this.eraseBottom() + this.bottom());
  }

  private get statusShown(): boolean {
    return Atomics.load(this.i32, W_STATUS_LEN) > 0;
  }
  private get inputShown(): boolean {
    return (Atomics.load(this.i32, W_FLAGS) & F_INPUT_SHOWN) !== 0;
  }

  /**
   * From the cursor on the input line to the start of the bottom area, cleared to the end of the screen. A
   * window narrowed since the bottom was drawn has wrapped its lines (tmux, VTE, kitty, iTerm2 and most
   * terminals reflow): the cursor is then on the last row of the input line's first `col / width` rows, and the
   * progress line takes rows of its own; all of them are cleared, or a stale copy would stay above.
   */
  private eraseBottom(): string {
    const width = this.width;
    let up = this.statusShown ? 1 : 0;
    if (width < Atomics.load(this.i32, W_DRAWN_WIDTH)) {
      const inputRows = this.inputShown ? Math.floor(Atomics.load(this.i32, W_DRAWN_CURSOR) / width) : 0;
      const statusRows = this.statusShown ? Math.max(1, Math.ceil(Atomics.load(this.i32, W_STATUS_COLS) / width)) : 0;
      up = inputRows + statusRows;
    }
    return `\r${up === 1 ? UP : up > 1 ? `\x1b[${up}A` : ''}${CLEAR_BELOW}`;
  }

  /** The progress line and the input line, each within the width (a line never wraps), the cursor where the user is typing. */
  private bottom(): string {
    let out = '';
    const width = this.width;
    Atomics.store(this.i32, W_DRAWN_WIDTH, width);
    const status = Atomics.load(this.i32, W_STATUS_LEN);
    if (status > 0) {
      const start = HEADER_BYTES + INPUT_BYTES;
      const line = clip(decoder.decode(this.u8.slice(start, start + status)), width - 1);
      Atomics.store(this.i32, W_STATUS_COLS, columns(line));
      out += line + '\r\n';
    }
    if (this.inputShown) {
      let text = decoder.decode(this.u8.slice(HEADER_BYTES, HEADER_BYTES + Atomics.load(this.i32, W_INPUT_LEN)));
      let col = Atomics.load(this.i32, W_CURSOR);
      // Fitted to a wider window than this one: cut until the main thread fits it again (its resize handler).
      if (Atomics.load(this.i32, W_INPUT_COLS) > width - 1) {
        text = clip(text, width - 1);
        col = Math.min(col, width - 1);
      }
      Atomics.store(this.i32, W_DRAWN_CURSOR, col);
      out += text + '\r' + (col > 0 ? `\x1b[${col}C` : '');
    }
    return out;
  }

  private locked(draw: () => string): void {
    this.mutex.withLock(() => this.write(this.fd, draw()));
  }

  /** A terminal that hung up (EIO) takes nothing more: the program goes on to end cleanly (a BYE, its exit code). */
  private write(fd: number, text: string): void {
    if (Atomics.load(this.i32, W_FLAGS) & F_GONE) return;
    try {
      writeFullySync(fd, encoder.encode(text));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EIO' && code !== 'ENXIO' && code !== 'EBADF') throw err;
      Atomics.or(this.i32, W_FLAGS, F_GONE);
    }
  }
}
