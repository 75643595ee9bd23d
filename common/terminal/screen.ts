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
import { clip } from './layout.js';

const W_LOCK = 0;
const W_INPUT_LEN = 1;
const W_CURSOR = 2;
const W_STATUS_LEN = 3;
const W_FLAGS = 4;
const W_WIDTH = 5;
const HEADER_BYTES = 64;
/** Bytes of the input line as drawn (prompt + the visible part); a longer one is cut at a character boundary. */
export const INPUT_BYTES = 16 * 1024;
const STATUS_BYTES = 4 * 1024;

const F_INPUT_SHOWN = 1;
/** Set by close(): the input line is never drawn again. */
const F_CLOSED = 2;

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
      const bytes = fitBytes(clip(text, this.width - 1), STATUS_BYTES);
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
      Atomics.store(this.i32, W_FLAGS, F_CLOSED);
      writeFullySync(this.fd, encoder.encode(before));
      if (text) writeFullySync(fd, encoder.encode(`${text}\n`));
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

  /** From the cursor on the input line to the start of the bottom area, cleared to the end of the screen. */
  private eraseBottom(): string {
    return `\r${this.statusShown ? UP : ''}${CLEAR_BELOW}`;
  }

  /** The progress line and the input line, the cursor left where the user is typing. */
  private bottom(): string {
    let out = '';
    const status = Atomics.load(this.i32, W_STATUS_LEN);
    if (status > 0)
      out += decoder.decode(this.u8.slice(HEADER_BYTES + INPUT_BYTES, HEADER_BYTES + INPUT_BYTES + status)) + '\r\n';
    if (this.inputShown) {
      const len = Atomics.load(this.i32, W_INPUT_LEN);
      const col = Atomics.load(this.i32, W_CURSOR);
      out += decoder.decode(this.u8.slice(HEADER_BYTES, HEADER_BYTES + len)) + '\r' + (col > 0 ? `\x1b[${col}C` : '');
    }
    return out;
  }

  private locked(draw: () => string): void {
    this.mutex.withLock(() => writeFullySync(this.fd, encoder.encode(draw())));
  }
}
