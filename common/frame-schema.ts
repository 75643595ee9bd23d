/**
 * The chat protocol's message bodies as checks (docs/PROTOCOL.md, "Messages"):
 * one schema that both decoders run, the server's (protocol.ts) and the
 * browser page's (web/src/codec.ts). Every field is checked for presence and
 * type; unknown fields are ignored.
 */
import {
  ACCOUNT_EVENTS,
  ACCOUNT_OPS,
  FrameType,
  NOTICE_EVENTS,
  REF_PATTERN,
  type ClientMessage,
  type FrameTypeName,
  type ServerMessage,
} from './messages.js';
import {
  SchemaError,
  arrayOf,
  boolean,
  number,
  numberOrNull,
  object,
  oneOf,
  optional,
  string,
  andThen,
  withDefault,
  type Check,
} from './schema.js';

type Body<M extends { type: string }, T extends M['type']> = Omit<Extract<M, { type: T }>, 'type'>;
type Bodies<M extends { type: string }> = { [T in M['type']]: Check<Body<M, T>> };

const TRANSFER_OPS = ['get', 'post'] as const;

/** A request's reference: 1 to 64 printable ASCII characters (messages.ts MAX_REF_CHARS). */
const refCheck: Check<string> = (v, path) => {
  if (typeof v !== 'string' || !REF_PATTERN.test(v))
    throw new SchemaError(`${path} must be 1 to 64 printable ASCII characters (no spaces)`);
  return v;
};
const ref = optional(refCheck);
const empty = object({});
const bye = object({ reason: withDefault(string, '') });
const serverBye = object({ reason: withDefault(string, ''), resumable: optional(boolean) });

/** What a client may send. */
export const CLIENT_BODIES: Bodies<ClientMessage> = {
  HELLO: object({
    version: number,
    nick: string,
    client: optional(string),
    resume: optional(string),
    last: optional(arrayOf(object({ room: optional(string), with: optional(string), id: number }))),
    password: optional(string),
    nickPassword: optional(string),
    resumable: optional(boolean),
  }),
  CHAT: object({ text: string, action: withDefault(boolean, false), room: optional(string), ref }),
  DIRECT: object({ to: string, text: string, action: optional(boolean), ref }),
  WHO: object({ ref }),
  NICK: object({ nick: string, ref }),
  HEARTBEAT_ACK: object({ seq: number, ts: number }),
  BYE: bye,
  FILES: empty,
  TICKET_REQUEST: object({ id: number, op: oneOf(TRANSFER_OPS), name: string, size: optional(number) }),
  JOIN: object({ room: string, ref }),
  PART: object({ room: string, reason: optional(string), ref }),
  TOPIC: object({ room: string, text: optional(string), ref }),
  ROOMS: object({ ref }),
  NAMES: object({ room: string, ref }),
  HISTORY_REQUEST: object({
    id: number,
    room: optional(string),
    with: optional(string),
    before: optional(number),
    since: optional(number),
    limit: optional(number),
    ref,
  }),
  ACCOUNT: (v, path) => {
    const { op } = accountOp(v, path);
    if (op === 'register') return { op, ...object({ password: string, ref })(v, path) };
    if (op === 'identify') return { op, ...object({ nick: string, password: string, ref })(v, path) };
    return { op, ...object({ password: string, newPassword: string, ref })(v, path) };
  },
};

const accountOp = object({ op: oneOf(ACCOUNT_OPS) });

const historyEntry = object({
  id: number,
  ts: number,
  from: string,
  text: string,
  action: withDefault(boolean, false),
  to: optional(string),
});

const ticketBase = object({ id: number, op: oneOf(TRANSFER_OPS), name: string, ok: withDefault(boolean, false) });
const ticketGranted = object({ ticket: string, key: string, port: number, size: number, host: optional(string) });
const ticketRefused = object({ code: string, message: string });

/** What a server may send. */
export const SERVER_BODIES: Bodies<ServerMessage> = {
  WELCOME: object({
    version: number,
    nick: string,
    session: string,
    heartbeatIntervalMs: number,
    heartbeatTimeoutMs: number,
    maxFrame: number,
    maxText: number,
    server: string,
    users: number,
    lftpPort: optional(number),
    room: optional(string),
    floodBurst: optional(number),
    floodRate: optional(number),
    resume: optional(string),
    resumeWindowMs: optional(number),
    resumed: optional(boolean),
    account: optional(boolean),
  }),
  CHAT: object({
    from: string,
    text: string,
    action: withDefault(boolean, false),
    ts: number,
    id: optional(number),
    room: optional(string),
    ref,
  }),
  DIRECT: object({
    from: string,
    to: string,
    text: string,
    ts: number,
    id: optional(number),
    action: optional(boolean),
    ref,
  }),
  BROADCAST: object({ text: string, ts: number }),
  NOTICE: object({
    event: oneOf(NOTICE_EVENTS),
    nick: string,
    newNick: optional(string),
    reason: optional(string),
    name: optional(string),
    size: optional(number),
    room: optional(string),
    text: optional(string),
    ref,
  }),
  WHO_REPLY: andThen(
    object({
      users: arrayOf(object({ nick: string, idleMs: number, rttMs: numberOrNull, away: optional(boolean) })),
      total: optional(number),
      ref,
    }),
    (o) => ({ users: o.users, total: o.total ?? o.users.length, ...(o.ref === undefined ? {} : { ref: o.ref }) }),
  ),
  FILES_REPLY: andThen(
    object({
      files: arrayOf(
        object({ name: string, size: number, mtimeMs: number, files: optional(number), node: optional(string) }),
      ),
      total: optional(number),
    }),
    (o) => ({ files: o.files, total: o.total ?? o.files.length }),
  ),
  TICKET: (v, path) => {
    const base = ticketBase(v, path);
    return base.ok
      ? { ...base, ok: true as const, ...ticketGranted(v, path) }
      : { ...base, ok: false as const, ...ticketRefused(v, path) };
  },
  HEARTBEAT: object({ seq: number, ts: number }),
  ERROR: object({ code: string, message: string, fatal: withDefault(boolean, false), ref }),
  BYE: serverBye,
  JOINED: object({ room: string, topic: string, members: number, ref }),
  PARTED: object({ room: string, reason: optional(string), ref }),
  ROOMS_REPLY: object({
    rooms: arrayOf(object({ room: string, members: number, topic: string })),
    total: number,
    ref,
  }),
  NAMES_REPLY: object({ room: string, nicks: arrayOf(string), total: number, ref }),
  HISTORY: object({
    id: optional(number),
    room: optional(string),
    with: optional(string),
    entries: arrayOf(historyEntry),
    done: boolean,
    more: boolean,
    missed: optional(boolean),
  }),
  RESUMED: object({ missed: number }),
  ACCOUNT_REPLY: object({ op: oneOf(ACCOUNT_EVENTS), nick: string, count: optional(number), ref }),
};

const NAMES = new Map<number, FrameTypeName>(Object.entries(FrameType).map(([k, v]) => [v, k as FrameTypeName]));

/** A frame type's name, or its number in hex when it has none. */
export function frameTypeName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}

function sends<M extends { type: string }>(bodies: Bodies<M>, type: number): boolean {
  const name = NAMES.get(type);
  return name !== undefined && name in bodies;
}

function decodeWith<M extends { type: string }>(bodies: Bodies<M>, type: number, body: unknown): M {
  const name = NAMES.get(type);
  if (name === undefined || !(name in bodies))
    throw new SchemaError(`frame type ${frameTypeName(type)} is not in this direction`);
  const check = bodies[name as M['type']] as Check<Record<string, unknown>>;
  // Every check builds a fresh object: it takes the type in place rather than being copied once more per frame.
  const msg = check(body, name);
  msg['type'] = name;
  return msg as unknown as M;
}

export const isClientType = (type: number): boolean => sends(CLIENT_BODIES, type);
export const isServerType = (type: number): boolean => sends(SERVER_BODIES, type);

/** A client's message from its frame type (isClientType) and parsed body. Throws SchemaError. */
export function clientMessageFrom(type: number, body: unknown): ClientMessage {
  return decodeWith(CLIENT_BODIES, type, body);
}

/** A server's message from its frame type (isServerType) and parsed body. Throws SchemaError. */
export function serverMessageFrom(type: number, body: unknown): ServerMessage {
  return decodeWith(SERVER_BODIES, type, body);
}

export { SchemaError };
