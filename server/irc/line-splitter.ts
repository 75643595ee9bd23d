/**
 * IRC lines out of a byte stream. TCP keeps no message boundaries, so lines
 * are cut at LF (a CR before it is dropped: clients send CR LF, some send LF
 * alone). Bounded as ws's receiver bounds frames: no more than `maxLine`
 * bytes are ever held for one line. A longer line is not buffered: its start
 * is reported once as too long, and the rest of it, up to its LF, is thrown
 * away as it arrives, so a peer that never sends LF costs `maxLine` bytes.
 * Empty lines are skipped (modern.ircdocs.horse: servers ignore them).
 */
import { MAX_LINE_BYTES, MAX_TAGS_BYTES } from './message.js';

/** The longest line kept: 8191 bytes of tags and 512 of the rest, CR LF included. */
export const MAX_WIRE_LINE = MAX_TAGS_BYTES + MAX_LINE_BYTES;

export type SplitLine = { kind: 'line'; bytes: Buffer } | { kind: 'too-long'; start: Buffer };

export class LineSplitter {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** In the middle of a line already reported too long: drop until its LF. */
  private skipping = false;

  constructor(private readonly maxLine = MAX_WIRE_LINE) {}

  /** Every whole line this chunk completes, in order, and a report for each line over the bound. */
  push(chunk: Uint8Array): SplitLine[] {
    const out: SplitLine[] = [];
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      const lf = data.indexOf(0x0a);
      if (lf < 0) {
        this.hold(data, out);
        return out;
      }
      this.hold(data.subarray(0, lf), out);
      if (!this.skipping) this.emit(out);
      this.reset();
      data = data.subarray(lf + 1);
    }
  }

  /** Bytes held for an unfinished line (never more than maxLine). */
  get pending(): number {
    return this.heldBytes;
  }

  private hold(part: Buffer, out: SplitLine[]): void {
    if (this.skipping || part.length === 0) return;
    // The bound counts the line's end, as the spec's 512 counts CR LF: the CR is held with the line, the LF is one more.
    if (this.heldBytes + part.length + 1 > this.maxLine) {
      const start = Buffer.concat([...this.held, part]).subarray(0, Math.min(64, this.heldBytes + part.length));
      out.push({ kind: 'too-long', start: Buffer.from(start) });
      this.held = [];
      this.heldBytes = 0;
      this.skipping = true;
      return;
    }
    this.held.push(Buffer.from(part));
    this.heldBytes += part.length;
  }

  private emit(out: SplitLine[]): void {
    let line = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length > 0) out.push({ kind: 'line', bytes: line });
  }

  private reset(): void {
    this.held = [];
    this.heldBytes = 0;
    this.skipping = false;
  }
}
