/**
 * Chat protocol messages (docs/PROTOCOL.md) for Node: encoding and strict
 * decoding of the shapes in messages.ts. A body is one UTF-8 JSON object; every field is checked
 * for presence and type, unknown fields are ignored (room for additions).
 */
import { encodeFrame, type RawFrame } from './frame.js';
import { ProtocolError, type WireErrorCode } from './errors.js';
import { decodeUtf8Strict } from './text.js';
import { FrameType, NOTICE_EVENTS, type AnyMessage, type ClientMessage, type NoticeEvent, type ServerMessage, type TransferOp } from './messages.js';

export * from './messages.js';

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));
export function isKnownFrameType(type: number): boolean {
  return KNOWN_TYPES.has(type);
}

const KNOWN_NOTICE_EVENTS: ReadonlySet<string> = new Set(NOTICE_EVENTS);

/** Encodes a message as a complete frame (header + JSON body). */
export function encodeMessage(msg: AnyMessage): Buffer {
  const { type, ...body } = msg;
  return encodeFrame(FrameType[type], Buffer.from(JSON.stringify(body), 'utf8'));
}

export function errorMessage(code: WireErrorCode, message: string, fatal: boolean): ServerMessage {
  return { type: 'ERROR', code, message, fatal };
}

type Obj = Record<string, unknown>;

function bodyObject(frame: RawFrame): Obj {
  const text = decodeUtf8Strict(frame.body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('BAD_FRAME', `${typeName(frame.type)} body is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('BAD_FRAME', `${typeName(frame.type)} body must be a JSON object`);
  }
  return value as Obj;
}

function typeName(type: number): string {
  for (const [name, value] of Object.entries(FrameType)) if (value === type) return name;
  return `0x${type.toString(16)}`;
}

function str(o: Obj, key: string, frame: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ProtocolError('BAD_FRAME', `${frame}.${key} must be a string`);
  return v;
}

function optStr(o: Obj, key: string, frame: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, frame);
}

function num(o: Obj, key: string, frame: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError('BAD_FRAME', `${frame}.${key} must be a number`);
  return v;
}

function bool(o: Obj, key: string, frame: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ProtocolError('BAD_FRAME', `${frame}.${key} must be a boolean`);
  return v;
}

/** Decodes what a client may send; anything else is a ProtocolError. */
export function decodeClientMessage(frame: RawFrame): ClientMessage {
  switch (frame.type) {
    case FrameType.HELLO: {
      const o = bodyObject(frame);
      const client = optStr(o, 'client', 'HELLO');
      return { type: 'HELLO', version: num(o, 'version', 'HELLO'), nick: str(o, 'nick', 'HELLO'), ...(client ? { client } : {}) };
    }
    case FrameType.CHAT: {
      const o = bodyObject(frame);
      return { type: 'CHAT', text: str(o, 'text', 'CHAT'), action: bool(o, 'action', 'CHAT', false) };
    }
    case FrameType.DIRECT: {
      const o = bodyObject(frame);
      return { type: 'DIRECT', to: str(o, 'to', 'DIRECT'), text: str(o, 'text', 'DIRECT') };
    }
    case FrameType.WHO:
      bodyObject(frame);
      return { type: 'WHO' };
    case FrameType.NICK:
      return { type: 'NICK', nick: str(bodyObject(frame), 'nick', 'NICK') };
    case FrameType.HEARTBEAT_ACK: {
      const o = bodyObject(frame);
      return { type: 'HEARTBEAT_ACK', seq: num(o, 'seq', 'HEARTBEAT_ACK'), ts: num(o, 'ts', 'HEARTBEAT_ACK') };
    }
    case FrameType.BYE:
      return { type: 'BYE', reason: optStr(bodyObject(frame), 'reason', 'BYE') ?? '' };
    case FrameType.FILES:
      bodyObject(frame);
      return { type: 'FILES' };
    case FrameType.TICKET_REQUEST: {
      const o = bodyObject(frame);
      const op = str(o, 'op', 'TICKET_REQUEST');
      if (op !== 'get' && op !== 'post') throw new ProtocolError('BAD_FRAME', 'TICKET_REQUEST.op must be "get" or "post"');
      const size = o['size'] === undefined ? undefined : num(o, 'size', 'TICKET_REQUEST');
      return { type: 'TICKET_REQUEST', id: num(o, 'id', 'TICKET_REQUEST'), op, name: str(o, 'name', 'TICKET_REQUEST'), ...(size !== undefined ? { size } : {}) };
    }
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `frame type ${typeName(frame.type)} is not sent by clients`);
  }
}

/** Decodes what a server may send; used by the client and by tests. */
export function decodeServerMessage(frame: RawFrame): ServerMessage {
  const o = bodyObject(frame);
  switch (frame.type) {
    case FrameType.WELCOME:
      return {
        type: 'WELCOME',
        version: num(o, 'version', 'WELCOME'),
        nick: str(o, 'nick', 'WELCOME'),
        session: str(o, 'session', 'WELCOME'),
        heartbeatIntervalMs: num(o, 'heartbeatIntervalMs', 'WELCOME'),
        heartbeatTimeoutMs: num(o, 'heartbeatTimeoutMs', 'WELCOME'),
        maxFrame: num(o, 'maxFrame', 'WELCOME'),
        maxText: num(o, 'maxText', 'WELCOME'),
        server: str(o, 'server', 'WELCOME'),
        users: num(o, 'users', 'WELCOME'),
        ...(typeof o['lftpPort'] === 'number' ? { lftpPort: o['lftpPort'] } : {}),
      };
    case FrameType.CHAT:
      return { type: 'CHAT', from: str(o, 'from', 'CHAT'), text: str(o, 'text', 'CHAT'), action: bool(o, 'action', 'CHAT', false), ts: num(o, 'ts', 'CHAT') };
    case FrameType.DIRECT:
      return { type: 'DIRECT', from: str(o, 'from', 'DIRECT'), to: str(o, 'to', 'DIRECT'), text: str(o, 'text', 'DIRECT'), ts: num(o, 'ts', 'DIRECT') };
    case FrameType.BROADCAST:
      return { type: 'BROADCAST', text: str(o, 'text', 'BROADCAST'), ts: num(o, 'ts', 'BROADCAST') };
    case FrameType.NOTICE: {
      const event = str(o, 'event', 'NOTICE');
      if (!KNOWN_NOTICE_EVENTS.has(event)) throw new ProtocolError('BAD_FRAME', `NOTICE.event ${JSON.stringify(event)} is unknown`);
      const newNick = optStr(o, 'newNick', 'NOTICE');
      const reason = optStr(o, 'reason', 'NOTICE');
      const name = optStr(o, 'name', 'NOTICE');
      return {
        type: 'NOTICE',
        event: event as NoticeEvent,
        nick: str(o, 'nick', 'NOTICE'),
        ...(newNick !== undefined ? { newNick } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(typeof o['size'] === 'number' ? { size: o['size'] } : {}),
      };
    }
    case FrameType.WHO_REPLY: {
      const users = o['users'];
      if (!Array.isArray(users)) throw new ProtocolError('BAD_FRAME', 'WHO_REPLY.users must be an array');
      return {
        type: 'WHO_REPLY',
        total: typeof o['total'] === 'number' ? o['total'] : users.length,
        users: users.map((u: unknown) => {
          if (typeof u !== 'object' || u === null) throw new ProtocolError('BAD_FRAME', 'WHO_REPLY.users[] must be objects');
          const e = u as Obj;
          const rtt = e['rttMs'];
          return { nick: str(e, 'nick', 'WHO_REPLY'), idleMs: num(e, 'idleMs', 'WHO_REPLY'), rttMs: typeof rtt === 'number' ? rtt : null };
        }),
      };
    }
    case FrameType.HEARTBEAT:
      return { type: 'HEARTBEAT', seq: num(o, 'seq', 'HEARTBEAT'), ts: num(o, 'ts', 'HEARTBEAT') };
    case FrameType.ERROR:
      return { type: 'ERROR', code: str(o, 'code', 'ERROR'), message: str(o, 'message', 'ERROR'), fatal: bool(o, 'fatal', 'ERROR', false) };
    case FrameType.BYE:
      return { type: 'BYE', reason: optStr(o, 'reason', 'BYE') ?? '' };
    case FrameType.FILES_REPLY: {
      const files = o['files'];
      if (!Array.isArray(files)) throw new ProtocolError('BAD_FRAME', 'FILES_REPLY.files must be an array');
      return {
        type: 'FILES_REPLY',
        total: typeof o['total'] === 'number' ? o['total'] : files.length,
        files: files.map((f: unknown) => {
          if (typeof f !== 'object' || f === null) throw new ProtocolError('BAD_FRAME', 'FILES_REPLY.files[] must be objects');
          const e = f as Obj;
          return { name: str(e, 'name', 'FILES_REPLY'), size: num(e, 'size', 'FILES_REPLY'), mtimeMs: num(e, 'mtimeMs', 'FILES_REPLY') };
        }),
      };
    }
    case FrameType.TICKET: {
      const op = str(o, 'op', 'TICKET');
      if (op !== 'get' && op !== 'post') throw new ProtocolError('BAD_FRAME', 'TICKET.op must be "get" or "post"');
      const base = { type: 'TICKET' as const, id: num(o, 'id', 'TICKET'), op: op as TransferOp, name: str(o, 'name', 'TICKET') };
      if (o['ok'] === true) return { ...base, ok: true, ticket: str(o, 'ticket', 'TICKET'), port: num(o, 'port', 'TICKET'), size: num(o, 'size', 'TICKET') };
      return { ...base, ok: false, code: str(o, 'code', 'TICKET'), message: str(o, 'message', 'TICKET') };
    }
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `frame type ${typeName(frame.type)} is not sent by servers`);
  }
}
