/**
 * A session slot: where each field sits (see docs/ARCHITECTURE.md), and the
 * shapes a slot is read into. Word indexes are within the slot: Int32 fields
 * in 4-byte words, Int64 fields in 8-byte words; byte fields by offset.
 */
export const SLOT_BYTES = 344;
// Int32 fields (index within the slot, in 4-byte words)
export const S_STATE = 0;
export const S_OWNER = 1;
export const S_GENERATION = 2;
export const S_NICK_LEN = 3;
export const S_RTT_US = 4;
export const S_PORT = 5;
export const S_ADDR_LEN = 6;
export const S_SESSION_ID = 7;
export const S_TRANSPORT = 34; // byte 136, after the address
// Int64 fields (index within the slot, in 8-byte words)
export const S64_CONNECTED_AT = 4;
export const S64_LAST_SEEN = 5;
export const S64_MSGS_IN = 6;
export const S64_BYTES_IN = 7;
export const S64_MSGS_OUT = 8;
export const S64_BYTES_OUT = 9;
export const S64_LAST_ACTIVE = 10;
/** When the session went away (wall ms; meaningful while AWAY): its nick is kept until this + the resume window. */
export const S64_AWAY_SINCE = 42; // byte 336, after the tokens
// Byte fields
export const S_ADDR_OFFSET = 88;
export const S_ADDR_BYTES = 48;
/** The nick's keys (nick-keys.ts): 16 bytes each. */
export const S_FOLD_KEY_OFFSET = 144;
export const S_LOOK_KEY_OFFSET = 160;
/** The nick as shown, UTF-8: at most 32 characters of at most 4 bytes. */
export const S_NICK_OFFSET = 176;
export const S_NICK_BYTES = 128;
/** The resume token's hash (resume-token.ts), and the one it replaced (so that a used token is told from an unknown one). */
export const S_TOKEN_OFFSET = 304;
export const S_PREV_TOKEN_OFFSET = 320;
export const S_TOKEN_BYTES = 16;

/** AWAY: the connection was lost, the session waits for it to resume (session-table.ts). */
export const SlotState = { FREE: 0, ACTIVE: 1, AWAY: 2 } as const;

/** How a session is connected; stored as its index in this list. */
export const TRANSPORTS = ['tcp', 'ws', 'irc'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface SlotRef {
  slot: number;
  generation: number;
}

export interface SessionInfo extends SlotRef {
  sessionId: number;
  nick: string;
  owner: number;
  transport: Transport;
  address: string;
  port: number;
  connectedAt: number;
  /** Last heartbeat answer (wall ms). */
  lastSeen: number;
  /** Last chat or direct message sent by the user (wall ms): "idle" is measured from here. */
  lastActive: number;
  rttMs: number | null;
  msgsIn: number;
  bytesIn: number;
  msgsOut: number;
  bytesOut: number;
  /** Its connection was lost: it waits to be resumed (AWAY), holding its nick and rooms. */
  away: boolean;
  /** Since when (wall ms), while away; else null. */
  awaySince: number | null;
  /** A cluster's: the node it lives on, when that is another node (its counters are there: here they are 0). */
  node?: string;
}

export type NickLookup = SlotRef & { owner: number; nick: string };

/** A nick in use that a new one would be, or would pass for (holder is that nick, as shown). */
export interface NickConflict {
  reason: 'NICK_TAKEN';
  holder: string;
  /** True when it is the same nick (case, normalisation), false when it only looks the same. */
  same: boolean;
  /** Set when the holder is away (its connection lost, wall ms): it keeps the nick for the resume window from then. */
  awaySince?: number;
}

/** The session that held a nick when its owner logged in with the password: taken over, or ended (replaced). */
export type HeldSession = SlotRef & {
  owner: number;
  nick: string;
  away: boolean;
  /** Set by a cluster's registry (cluster/redis-nicks.ts) when the session was on another node; absent: on this one. */
  node?: string;
};

/**
 * taken: the claim took over the session that held the nick (the same slot, a new generation: its id and nick
 * are the claim's); replaced: that session was ended and this one claimed in its place (claimAsOwner).
 */
export type ClaimResult =
  | ({ ok: true; sessionId: number; taken?: HeldSession; replaced?: HeldSession } & SlotRef)
  | ({ ok: false } & NickConflict)
  | { ok: false; reason: 'SERVER_FULL' };

/** previous: the session as it was before (owner -1: it was away; node: set when it was on another node). */
export type ResumeResult =
  | ({ ok: true; sessionId: number; nick: string; previous: SlotRef & { owner: number; node?: string } } & SlotRef)
  | { ok: false; reason: 'USED' | 'UNKNOWN' };

/** replaced: the nick's holder was ended for this session to take it (renameAsOwner). */
export type RenameResult = 'ok' | 'GONE' | NickConflict | { reason: 'REPLACED'; replaced: HeldSession };

export interface SlotCounters {
  msgsIn: number;
  bytesIn: number;
  msgsOut: number;
  bytesOut: number;
}
