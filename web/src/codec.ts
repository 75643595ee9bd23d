/**
 * The chat protocol of docs/PROTOCOL.md for the browser: the same frames as on
 * TCP (5-byte header: u32 big-endian body length, u8 type; a JSON body), one
 * frame per WebSocket binary message. Written against the document, not the
 * server's code: a second implementation that keeps the spec honest.
 */

export const FrameType = {
  HELLO: 0x01,
  WELCOME: 0x02,
  CHAT: 0x03,
  DIRECT: 0x04,
  BROADCAST: 0x05,
  NOTICE: 0x06,
  WHO: 0x07,
  WHO_REPLY: 0x08,
  NICK: 0x09,
  HEARTBEAT: 0x0a,
  HEARTBEAT_ACK: 0x0b,
  ERROR: 0x0c,
  BYE: 0x0d,
  FILES: 0x0e,
  FILES_REPLY: 0x0f,
  TICKET_REQUEST: 0x10,
  TICKET: 0x11,
} as const;

export type FrameTypeName = keyof typeof FrameType;
const NAMES = new Map<number, FrameTypeName>(Object.entries(FrameType).map(([k, v]) => [v, k as FrameTypeName]));

export const HEADER_SIZE = 5;
export const PROTOCOL_VERSION = 1;

export interface FileEntry {
  name: string;
  size: number;
  mtimeMs: number;
}

/** What the server sends, as the page uses it. Fields are checked where they are read. */
export type ServerMessage =
  | { type: 'WELCOME'; nick: string; session: string; heartbeatIntervalMs: number; heartbeatTimeoutMs: number; maxText: number; server: string; users: number }
  | { type: 'CHAT'; from: string; text: string; action: boolean; ts: number }
  | { type: 'DIRECT'; from: string; to: string; text: string; ts: number }
  | { type: 'BROADCAST'; text: string; ts: number }
  | { type: 'NOTICE'; event: string; nick: string; newNick?: string; reason?: string; name?: string; size?: number }
  | { type: 'WHO_REPLY'; users: Array<{ nick: string; idleMs: number; rttMs: number | null }>; total: number }
  | { type: 'HEARTBEAT'; seq: number; ts: number }
  | { type: 'ERROR'; code: string; message: string; fatal: boolean }
  | { type: 'BYE'; reason: string }
  | { type: 'FILES_REPLY'; files: FileEntry[]; total: number }
  | { type: 'TICKET'; id: number; op: 'get' | 'post'; name: string; ok: true; ticket: string; size: number }
  | { type: 'TICKET'; id: number; op: 'get' | 'post'; name: string; ok: false; code: string; message: string };

export type ClientMessage =
  | { type: 'HELLO'; version: number; nick: string; client: string }
  | { type: 'CHAT'; text: string; action?: boolean }
  | { type: 'DIRECT'; to: string; text: string }
  | { type: 'WHO' }
  | { type: 'NICK'; nick: string }
  | { type: 'HEARTBEAT_ACK'; seq: number; ts: number }
  | { type: 'BYE'; reason: string }
  | { type: 'FILES' }
  | { type: 'TICKET_REQUEST'; id: number; op: 'get' | 'post'; name: string; size?: number };

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

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** One binary message holds exactly one frame. */
export function decodeMessage(data: ArrayBuffer): ServerMessage {
  if (data.byteLength < HEADER_SIZE) throw new FrameError(`message of ${data.byteLength} bytes is shorter than a frame header`);
  const view = new DataView(data);
  const length = view.getUint32(0, false);
  const type = NAMES.get(view.getUint8(4));
  if (!type) throw new FrameError(`unknown frame type ${view.getUint8(4)}`);
  if (data.byteLength !== HEADER_SIZE + length) throw new FrameError('message does not hold exactly one frame');
  const body: unknown = JSON.parse(decoder.decode(new Uint8Array(data, HEADER_SIZE)));
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FrameError('frame body is not a JSON object');
  return { type, ...body } as ServerMessage;
}
