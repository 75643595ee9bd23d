/**
 * Chat frame codec: a 5-byte header (u32 big-endian body length, u8 type)
 * followed by the body. The header has a fixed size so that a reader always
 * knows how many bytes to wait for, whatever TCP did to the write boundaries.
 */
import { ProtocolError } from './errors.js';

export const HEADER_SIZE = 5;
/** Default and hard upper bound for --max-frame (body bytes). */
export const DEFAULT_MAX_FRAME = 64 * 1024;
export const MAX_MAX_FRAME = 16 * 1024 * 1024;
export const MIN_MAX_FRAME = 1024;

export interface RawFrame {
  type: number;
  body: Buffer;
}

export function encodeFrame(type: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  out.writeUInt32BE(body.length, 0);
  out.writeUInt8(type, 4);
  out.set(body, HEADER_SIZE);
  return out;
}

export interface FrameDecoderOptions {
  maxFrame: number;
  /** Checked on the header, so an unknown type is refused before its body is buffered. */
  isKnownType: (type: number) => boolean;
}

/** Checks a frame header's fields: the length limit and the type, before any body byte is kept. */
function checkHeader(length: number, type: number, options: FrameDecoderOptions): void {
  if (length > options.maxFrame) {
    throw new ProtocolError(
      'FRAME_TOO_LARGE',
      `frame body of ${length} bytes exceeds the limit of ${options.maxFrame}`,
    );
  }
  if (!options.isKnownType(type))
    throw new ProtocolError('UNKNOWN_TYPE', `unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
}

/**
 * One frame that arrived whole, as in a WebSocket binary message: the message
 * must hold exactly one frame, header and body, nothing before or after.
 */
export function decodeSingleFrame(message: Buffer, options: FrameDecoderOptions): RawFrame {
  if (message.length < HEADER_SIZE)
    throw new ProtocolError('BAD_FRAME', `message of ${message.length} bytes is shorter than a frame header`);
  const length = message.readUInt32BE(0);
  const type = message[4]!;
  checkHeader(length, type, options);
  if (message.length !== HEADER_SIZE + length) {
    throw new ProtocolError(
      'BAD_FRAME',
      `message of ${message.length} bytes does not hold exactly one frame (header says ${HEADER_SIZE + length})`,
    );
  }
  return { type, body: message.subarray(HEADER_SIZE) };
}

const enum State {
  Header,
  Body,
  Failed,
}

/**
 * Streaming decoder. push() accepts chunks of any size and split; complete
 * frames come out in order. The body length is checked against the limit as
 * soon as the header is complete, before a single body byte is kept.
 * After an error the decoder stays failed: the stream has lost its framing.
 *
 * The unread bytes are the first chunk from `offset` on, then the later
 * chunks whole. A header inside one chunk is read in place and a body inside
 * one chunk is a view of it, so a frame costs one allocation (its body view);
 * only a header or body that spans chunks is copied. Chat clients read
 * hundreds of thousands of small frames a second (BENCHMARKS.md, fan-out).
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private offset = 0;
  private buffered = 0;
  private state = State.Header;
  private bodyLength = 0;
  private bodyType = 0;

  constructor(private readonly options: FrameDecoderOptions) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Returns the frames completed by this chunk; throws ProtocolError on a bad stream. */
  push(chunk: Buffer): RawFrame[] {
    if (this.state === State.Failed) throw new ProtocolError('BAD_FRAME', 'stream already failed');
    const frames: RawFrame[] = [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.state === State.Header) {
        if (this.buffered < HEADER_SIZE) break;
        const first = this.chunks[0]!;
        if (first.length - this.offset >= HEADER_SIZE) {
          this.bodyLength = first.readUInt32BE(this.offset);
          this.bodyType = first[this.offset + 4]!;
          this.skip(HEADER_SIZE);
        } else {
          const header = this.consume(HEADER_SIZE);
          this.bodyLength = header.readUInt32BE(0);
          this.bodyType = header[4]!;
        }
        try {
          checkHeader(this.bodyLength, this.bodyType, this.options);
        } catch (err) {
          this.fail();
          throw err;
        }
        this.state = State.Body;
      }
      if (this.state === State.Body) {
        if (this.buffered < this.bodyLength) break;
        frames.push({ type: this.bodyType, body: this.consume(this.bodyLength) });
        this.state = State.Header;
      }
    }
    return frames;
  }

  private fail(): void {
    this.state = State.Failed;
    this.chunks.length = 0;
    this.offset = 0;
    this.buffered = 0;
  }

  /** Moves past n bytes of the first chunk (n no more than it has left). */
  private skip(n: number): void {
    this.buffered -= n;
    this.offset += n;
    if (this.offset === this.chunks[0]!.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }

  /** Takes n buffered bytes off the front: a view when they lie in one chunk, a copy when they span chunks. */
  private consume(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    const start = this.offset;
    if (n <= first.length - start) {
      this.skip(n);
      return start === 0 && n === first.length ? first : first.subarray(start, start + n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let filled = 0; filled < n; ) {
      const head = this.chunks[0]!;
      const take = Math.min(head.length - this.offset, n - filled);
      head.copy(out, filled, this.offset, this.offset + take);
      filled += take;
      this.skip(take);
    }
    return out;
  }
}
