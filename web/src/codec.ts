/**
 * The chat protocol of docs/PROTOCOL.md for the browser: the same frames as on
 * TCP (5-byte header: u32 big-endian body length, u8 type; a JSON body), one
 * frame per WebSocket binary message. The message shapes and the checks of
 * every field are the server's own (common/messages.ts, common/frame-schema.ts);
 * the framing is written from the document.
 */

import { HeartbeatChatError } from '../../common/errors.js';
import { FrameType, type ClientMessage, type ServerMessage } from '../../common/messages.js';
import { SchemaError, frameTypeName, isServerType, serverMessageFrom } from '../../common/frame-schema.js';

export { PROTOCOL_VERSION, type ClientMessage, type FileEntry, type ServerMessage } from '../../common/messages.js';

export const HEADER_SIZE = 5;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(msg: ClientMessage): Uint8Array {
  const { type, ...body } = msg;
  const json = encoder.encode(JSON.stringify(body));
  const out = new Uint8Array(HEADER_SIZE + json.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, false);
  view.setUint8(4, FrameType[type]);
  out.set(json, HEADER_SIZE);
  return out;
}

/** A message from the server the page cannot read: the connection is abandoned. */
export class FrameError extends HeartbeatChatError {
  declare readonly code: 'BAD_FRAME';
  constructor(message: string) {
    super('BAD_FRAME', message);
  }
}

/** One binary message holds exactly one frame, of a type servers send, every field as the schema says. */
export function decodeMessage(data: ArrayBuffer): ServerMessage {
  if (data.byteLength < HEADER_SIZE)
    throw new FrameError(`message of ${data.byteLength} bytes is shorter than a frame header`);
  const view = new DataView(data);
  const length = view.getUint32(0, false);
  const type = view.getUint8(4);
  if (!isServerType(type)) throw new FrameError(`frame type ${frameTypeName(type)} is not sent by servers`);
  if (data.byteLength !== HEADER_SIZE + length) throw new FrameError('message does not hold exactly one frame');
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(new Uint8Array(data, HEADER_SIZE)));
  } catch {
    throw new FrameError(`${frameTypeName(type)} body is not valid UTF-8 JSON`);
  }
  try {
    return serverMessageFrom(type, body);
  } catch (err) {
    if (err instanceof SchemaError) throw new FrameError(err.message);
    throw err;
  }
}
