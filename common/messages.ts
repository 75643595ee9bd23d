/**
 * The chat protocol's vocabulary (docs/PROTOCOL.md): version, frame type
 * numbers and message shapes. No dependencies: the server, the terminal client
 * and the browser page compile against the same definitions. Encoding and
 * strict decoding are in protocol.ts (Node) and web/src/codec.ts (browser).
 */

export const PROTOCOL_VERSION = 1;

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

export const NOTICE_EVENTS = ['joined', 'left', 'timed_out', 'kicked', 'nick', 'shared'] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];

export interface FileEntry {
  name: string;
  size: number;
  mtimeMs: number;
}

export type TransferOp = 'get' | 'post';

export interface WhoEntry {
  nick: string;
  idleMs: number;
  rttMs: number | null;
}

export type ClientMessage =
  | { type: 'HELLO'; version: number; nick: string; client?: string }
  | { type: 'CHAT'; text: string; action: boolean }
  | { type: 'DIRECT'; to: string; text: string }
  | { type: 'WHO' }
  | { type: 'NICK'; nick: string }
  | { type: 'HEARTBEAT_ACK'; seq: number; ts: number }
  | { type: 'BYE'; reason: string }
  | { type: 'FILES' }
  | { type: 'TICKET_REQUEST'; id: number; op: TransferOp; name: string; size?: number };

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
      /** The flood policy (common/flood-gate.ts): credits at once and per second. Clients pace their sends by it. */
      floodBurst?: number;
      floodRate?: number;
    }
  /** id: the message's place in its conversation's history (absent from servers before history). */
  | { type: 'CHAT'; from: string; text: string; action: boolean; ts: number; id?: number }
  | { type: 'DIRECT'; from: string; to: string; text: string; ts: number; id?: number }
  | { type: 'BROADCAST'; text: string; ts: number }
  | { type: 'NOTICE'; event: NoticeEvent; nick: string; newNick?: string; reason?: string; name?: string; size?: number }
  | { type: 'FILES_REPLY'; files: FileEntry[]; total: number }
  | { type: 'TICKET'; id: number; ok: true; op: TransferOp; name: string; ticket: string; port: number; size: number }
  | { type: 'TICKET'; id: number; ok: false; op: TransferOp; name: string; code: string; message: string }
  | { type: 'WHO_REPLY'; users: WhoEntry[]; total: number }
  | { type: 'HEARTBEAT'; seq: number; ts: number }
  | { type: 'ERROR'; code: string; message: string; fatal: boolean }
  | { type: 'BYE'; reason: string };

export type AnyMessage = ClientMessage | ServerMessage;
