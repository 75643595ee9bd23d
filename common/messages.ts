/**
 * The chat protocol's vocabulary (docs/PROTOCOL.md): version, frame type
 * numbers and message shapes. No dependencies: the server, the terminal client
 * and the browser page compile against the same definitions. Encoding and
 * strict decoding are in protocol.ts (Node) and web/src/codec.ts (browser).
 */

/** The version this repository's terminal client speaks (the browser page: web/src/chat.ts). */
export const PROTOCOL_VERSION = 2;
/** Versions the server speaks: 1 (one room, no history frames) and 2 (rooms, history). */
export const SERVER_PROTOCOL_VERSIONS = [1, 2] as const;

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
  // Version 2: rooms and history.
  JOIN: 0x12,
  PART: 0x13,
  TOPIC: 0x14,
  ROOMS: 0x15,
  NAMES: 0x16,
  HISTORY_REQUEST: 0x17,
  JOINED: 0x18,
  PARTED: 0x19,
  ROOMS_REPLY: 0x1a,
  NAMES_REPLY: 0x1b,
  HISTORY: 0x1c,
  RESUMED: 0x1d,
  // Version 2: registered nicks.
  ACCOUNT: 0x1e,
  ACCOUNT_REPLY: 0x1f,
} as const;
export type FrameTypeName = keyof typeof FrameType;

/** away: the session's connection was lost and it may resume (back: it did). */
export const NOTICE_EVENTS = [
  'joined',
  'left',
  'timed_out',
  'kicked',
  'nick',
  'shared',
  'parted',
  'topic',
  'away',
  'back',
] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];
/** What a version-1 client knows: the others are not sent to it. */
export const V1_NOTICE_EVENTS: readonly NoticeEvent[] = ['joined', 'left', 'timed_out', 'kicked', 'nick', 'shared'];

/** One message of a conversation's history. */
export interface HistoryEntry {
  id: number;
  ts: number;
  from: string;
  text: string;
  action: boolean;
  /** Direct messages: the receiver. */
  to?: string;
}

/** Where a resuming client's history stands: the last id it has of a room, or of its direct messages with a nick. */
export interface LastSeen {
  room?: string;
  with?: string;
  id: number;
}

export interface RoomInfo {
  room: string;
  members: number;
  topic: string;
}

export interface FileEntry {
  /** A folder's ends in `/` (docs/LFTP.md, "Folders"). */
  name: string;
  /** A folder's: the bytes of its files. */
  size: number;
  mtimeMs: number;
  /** A folder's: how many files it holds. */
  files?: number;
  /** A cluster's: the node that holds it, when it is not the one asked (its TICKET says where to fetch it). */
  node?: string;
}

export type TransferOp = 'get' | 'post';

export interface WhoEntry {
  nick: string;
  idleMs: number;
  rttMs: number | null;
  /** Its connection was lost: the session waits to be resumed, holding its nick and rooms (rttMs null). */
  away?: boolean;
}

export const ACCOUNT_OPS = ['register', 'identify', 'password'] as const;
export const ACCOUNT_EVENTS = ['registered', 'identified', 'password', 'unregistered', 'offline'] as const;
export type AccountEvent = (typeof ACCOUNT_EVENTS)[number];

export type ClientMessage =
  /** resume (version 2): the token of the session to come back to, and `last`, the last id it has of each conversation. */
  /** password: a private server's (--server-password); nickPassword: the nick's, when it is registered. */
  | {
      type: 'HELLO';
      version: number;
      nick: string;
      client?: string;
      resume?: string;
      last?: LastSeen[];
      password?: string;
      nickPassword?: string;
      /** false: this client cannot resume (it keeps no token): a lost connection ends the session at once. */
      resumable?: boolean;
    }
  /** room (version 2): the room it is for; without it, the default room. */
  | { type: 'CHAT'; text: string; action: boolean; room?: string; ref?: string }
  /** action: a /me said to one person ("* alice waves"), as CHAT's. */
  | { type: 'DIRECT'; to: string; text: string; action?: boolean; ref?: string }
  | { type: 'WHO'; ref?: string }
  | { type: 'NICK'; nick: string; ref?: string }
  | { type: 'HEARTBEAT_ACK'; seq: number; ts: number }
  | { type: 'BYE'; reason: string }
  | { type: 'FILES' }
  | { type: 'TICKET_REQUEST'; id: number; op: TransferOp; name: string; size?: number }
  | { type: 'JOIN'; room: string; ref?: string }
  | { type: 'PART'; room: string; reason?: string; ref?: string }
  /** Without text: what is the topic; with it (maybe empty): set it. */
  | { type: 'TOPIC'; room: string; text?: string; ref?: string }
  | { type: 'ROOMS'; ref?: string }
  | { type: 'NAMES'; room: string; ref?: string }
  /** One of room and with; before: an id (older than it); since: a time in ms; limit: at most this many (the server caps it). */
  | {
      type: 'HISTORY_REQUEST';
      id: number;
      room?: string;
      with?: string;
      before?: number;
      since?: number;
      limit?: number;
      ref?: string;
    }
  /** Version 2, registered nicks: claim the current nick, become a registered one, change its password. */
  | { type: 'ACCOUNT'; op: 'register'; password: string; ref?: string }
  | { type: 'ACCOUNT'; op: 'identify'; nick: string; password: string; ref?: string }
  | { type: 'ACCOUNT'; op: 'password'; password: string; newPassword: string; ref?: string };

export type ServerMessage =
  | {
      type: 'WELCOME';
      version: number;
      nick: string;
      session: string;
      heartbeatIntervalMs: number;
      heartbeatTimeoutMs: number;
      maxFrame: number;
      maxText: number;
      server: string;
      users: number;
      /** UDP port of the server's LFTP endpoint, when it has one. */
      lftpPort?: number;
      /** Version 2: the room the session is in from the start (JOINED and its history follow). */
      room?: string;
      /** The flood policy (common/flood-gate.ts): credits at once and per second. Clients pace their sends by it. */
      floodBurst?: number;
      floodRate?: number;
      /** Version 2, when the server keeps history: the token to resume this session with, and for how long after a lost connection. */
      resume?: string;
      resumeWindowMs?: number;
      /** This WELCOME answers a resume: the session goes on (what it missed follows, then RESUMED). */
      resumed?: boolean;
      /** The nick is registered and its password was given. */
      account?: boolean;
    }
  /** id: the message's place in its conversation's history (absent from servers before history). */
  | { type: 'CHAT'; from: string; text: string; action: boolean; ts: number; id?: number; room?: string; ref?: string }
  /** action: present (true) only for a /me; absent, plain text (servers before it never send it). */
  | {
      type: 'DIRECT';
      from: string;
      to: string;
      text: string;
      ts: number;
      id?: number;
      action?: boolean;
      ref?: string;
    }
  | { type: 'BROADCAST'; text: string; ts: number }
  /** room: where it happened (joined, parted, topic); text: the new topic. */
  | {
      type: 'NOTICE';
      event: NoticeEvent;
      nick: string;
      newNick?: string;
      reason?: string;
      name?: string;
      size?: number;
      room?: string;
      text?: string;
      ref?: string;
    }
  | { type: 'FILES_REPLY'; files: FileEntry[]; total: number }
  /** key: the transfer's LFTP master key, base64url (docs/LFTP.md, "Packet protection"). */
  | {
      type: 'TICKET';
      id: number;
      ok: true;
      op: TransferOp;
      name: string;
      ticket: string;
      key: string;
      port: number;
      size: number;
      /** The address to send the transfer to when it is not the chat server's (a cluster's node holding the file). */
      host?: string;
    }
  | { type: 'TICKET'; id: number; ok: false; op: TransferOp; name: string; code: string; message: string }
  | { type: 'WHO_REPLY'; users: WhoEntry[]; total: number; ref?: string }
  | { type: 'HEARTBEAT'; seq: number; ts: number }
  | { type: 'ERROR'; code: string; message: string; fatal: boolean; ref?: string }
  /** resumable: the session is kept for the resume window (a shutdown, a heartbeat timeout). */
  | { type: 'BYE'; reason: string; resumable?: boolean }
  | { type: 'JOINED'; room: string; topic: string; members: number; ref?: string }
  | { type: 'PARTED'; room: string; reason?: string; ref?: string }
  | { type: 'ROOMS_REPLY'; rooms: RoomInfo[]; total: number; ref?: string }
  | { type: 'NAMES_REPLY'; room: string; nicks: string[]; total: number; ref?: string }
  /**
   * id: the HISTORY_REQUEST's (absent for the history sent on joining); done: the last frame of this answer;
   * more: older messages than these exist.
   */
  | {
      type: 'HISTORY';
      id?: number;
      room?: string;
      with?: string;
      entries: HistoryEntry[];
      done: boolean;
      more: boolean;
      missed?: boolean;
    }
  /** After a resume: everything missed has been sent (HISTORY with `missed`), `missed` messages in all. */
  | { type: 'RESUMED'; missed: number }
  /**
   * What became of an account: registered, identified (the session is now its nick), password changed, unregistered
   * (by the operator), or offline: `count` direct messages came while it was offline (HISTORY frames with `missed` follow).
   */
  | { type: 'ACCOUNT_REPLY'; op: AccountEvent; nick: string; count?: number; ref?: string };

export type AnyMessage = ClientMessage | ServerMessage;

/**
 * A request's reference (PROTOCOL.md, "Request references"): a client may put `ref` on a request, and the server
 * puts it on every frame that answers that request to the client (its echo, its reply, its refusal). At most this
 * many characters, each printable ASCII.
 */
export const MAX_REF_CHARS = 64;
export const REF_PATTERN = /^[!-~]{1,64}$/;

/** `{ref}` when there is one, else nothing: spread into the frames that answer a request. */
export function withRef(ref: string | undefined): { ref?: string } {
  return ref === undefined ? {} : { ref };
}
