/**
 * The frames a server sends on one connection, decoded: a frame bigger than
 * the server's own advertised limit (its WELCOME's maxFrame) is a protocol
 * error, as is anything common/protocol.ts cannot decode. Before WELCOME the
 * default limit holds; the decoder accepts up to the protocol's maximum, so
 * that the limit can be raised without losing what is already buffered.
 */
import { DEFAULT_MAX_FRAME, FrameDecoder, MAX_MAX_FRAME } from '../common/frame.js';
import { ProtocolError } from '../common/errors.js';
import { decodeServerMessage, isKnownFrameType, type ServerMessage } from '../common/protocol.js';

export class ServerFrames {
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  private maxFrame = DEFAULT_MAX_FRAME;

  /** WELCOME said how big a frame it may send (bounded to the protocol's range). */
  setLimit(maxFrame: number): void {
    this.maxFrame = Math.min(MAX_MAX_FRAME, Math.max(DEFAULT_MAX_FRAME, maxFrame));
  }

  /** The messages `chunk` completes; throws ProtocolError. */
  *push(chunk: Buffer): Generator<ServerMessage> {
    for (const f of this.decoder.push(chunk)) {
      if (f.body.length > this.maxFrame)
        throw new ProtocolError('FRAME_TOO_LARGE', `server sent a ${f.body.length}-byte frame, over its own limit`);
      yield decodeServerMessage(f);
    }
  }
}
