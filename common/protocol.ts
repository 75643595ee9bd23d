/**
 * Chat protocol messages (docs/PROTOCOL.md) for Node: encoding, and strict
 * decoding through the schema the browser shares (frame-schema.ts). A body
 * is one UTF-8 JSON object; every field is checked for presence and type,
 * unknown fields are ignored (room for additions).
 */
import { encodeFrame, type RawFrame } from './frame.js';
import { ProtocolError, type WireErrorCode } from './errors.js';
import { decodeUtf8Strict } from './text.js';
import { FrameType, type AnyMessage, type ClientMessage, type ServerMessage } from './messages.js';
import {
  SchemaError,
  clientMessageFrom,
  frameTypeName,
  isClientType,
  isServerType,
  serverMessageFrom,
} from './frame-schema.js';

export * from './messages.js';

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));
export function isKnownFrameType(type: number): boolean {
  return KNOWN_TYPES.has(type);
}

/** Encodes a message as a complete frame (header + JSON body). */
export function encodeMessage(msg: AnyMessage): Buffer {
  const { type, ...body } = msg;
  return encodeFrame(FrameType[type], Buffer.from(JSON.stringify(body), 'utf8'));
}

export function errorMessage(code: WireErrorCode, message: string, fatal: boolean, ref?: string): ServerMessage {
  return ref === undefined ? { type: 'ERROR', code, message, fatal } : { type: 'ERROR', code, message, fatal, ref };
}

function bodyObject(frame: RawFrame): Record<string, unknown> {
  const text = decodeUtf8Strict(frame.body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('BAD_FRAME', `${frameTypeName(frame.type)} body is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('BAD_FRAME', `${frameTypeName(frame.type)} body must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function decodeWith<M>(
  frame: RawFrame,
  sends: (type: number) => boolean,
  from: (type: number, body: unknown) => M,
  sender: string,
): M {
  // The type first: a frame the peer may not send is refused before its body is read.
  if (!sends(frame.type))
    throw new ProtocolError('UNKNOWN_TYPE', `frame type ${frameTypeName(frame.type)} is not sent by ${sender}`);
  const body = bodyObject(frame);
  try {
    return from(frame.type, body);
  } catch (err) {
    if (err instanceof SchemaError) throw new ProtocolError('BAD_FRAME', err.message);
    throw err;
  }
}

/** Decodes what a client may send; anything else is a ProtocolError. */
export function decodeClientMessage(frame: RawFrame): ClientMessage {
  return decodeWith(frame, isClientType, clientMessageFrom, 'clients');
}

/** Decodes what a server may send; used by the client and by tests. */
export function decodeServerMessage(frame: RawFrame): ServerMessage {
  return decodeWith(frame, isServerType, serverMessageFrom, 'servers');
}
