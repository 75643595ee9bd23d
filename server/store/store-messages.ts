/**
 * The contract between the chat workers and the store thread, and between
 * the store thread and the supervisor. The store thread is the sequencer:
 * every frame that goes to a whole room passes through it and leaves on the
 * room bus in the order it was stored, so that everyone sees one order, and a
 * message reaches anyone (its sender included) only once it is committed.
 */
import type { RoomRef, SessionAddress } from '../bus/room-bus.js';
import type { Retention } from './history.js';
import type { RoomLimits } from './rooms.js';
import type { LogLevel } from '../logger.js';
import type { MessagePort } from 'node:worker_threads';
import type { LastSeen } from '../../common/messages.js';
import type { SlotRef } from '../shm/session-table.js';

export interface StoreThreadConfig {
  /** This node's id (--node-id): the addresses of sessions restored here carry it. */
  node: string;
  /** The room everyone joins at login (--default-room). */
  defaultRoom: string;
  rooms: RoomLimits;
  /** Messages a client gets on joining a room (--history-on-join; 0: none). */
  historyOnJoin: number;
  /** The largest frame body: history is split into frames that fit. */
  maxFrame: number;
  /** The data folder (--data); null: nothing is written (--no-history), ids live in memory only. */
  dataDir: string | null;
  busName: string;
  retention: Retention;
  /** How often retention runs, in ms. */
  pruneEveryMs: number;
  logFile: string;
  logLevel: LogLevel;
  /** The session table: the store thread brings back kept sessions as AWAY slots, and frees them when their window ends. */
  sessionBuffer: SharedArrayBuffer;
  /** Where the store thread says how many rooms its directory holds (shm/node-counts.ts: LUSERS). */
  countsBuffer: SharedArrayBuffer;
  /** How long a session whose connection was lost waits for it to resume (--resume-window; 0: sessions are not kept). */
  resumeWindowMs: number;
  /** The process's first store thread (false: one started again after a crash, over the same session table). */
  fresh: boolean;
  /** --redis: the cluster's Redis (URL, password included), where the room log and the bus between nodes are; null: one node. */
  redisUrl: string | null;
}

/** A chat worker → the store thread (over the worker's own MessagePort, so one worker's requests stay in order). */
export type ToStore =
  /** A line to a room the sender is in: stored, then posted to its members (a refusal goes back to `sender`). */
  | { k: 'say'; room: string; from: string; text: string; action: boolean; sender: SessionAddress; ref?: string }
  /** A direct message: stored in the pair's conversation, then posted to both. */
  | {
      k: 'direct';
      from: string;
      to: string;
      text: string;
      action: boolean;
      sender: SessionAddress;
      target: SessionAddress;
      ref?: string;
    }
  /** A direct message to a nick with no session: kept for it if it is registered (inbox-requests.ts), else NO_SUCH_NICK. */
  | {
      k: 'direct-offline';
      from: string;
      to: string;
      text: string;
      action: boolean;
      sender: SessionAddress;
      ref?: string;
    }
  /** The session holds its registered nick (it logged in, or identified): what came while it was offline. */
  | { k: 'inbox'; session: SessionAddress }
  /** A frame for everyone that is not kept (a file shared, the operator's broadcast): posted in its place in the order. */
  | { k: 'post'; frame: Uint8Array }
  /** A session after HELLO: into the default room, with its history (version 2); token: its resume token's hash (hex), null if it cannot resume. */
  | { k: 'enter'; session: SessionAddress; nick: string; version: number; token: string | null; account?: boolean }
  /** The session registers its nick with this password hash (password-hash.ts); the answer (ACCOUNT_REPLY or an ERROR) goes to it. */
  | { k: 'register'; session: SessionAddress; nick: string; hash: string; ref?: string }
  /** The session's registered nick gets a new password hash (the worker checked the old password). */
  | { k: 'set-password'; session: SessionAddress; nick: string; hash: string; ref?: string }
  /** The operator ends a nick's registration (its holder, if online, is told). */
  | { k: 'unregister'; nick: string }
  /** Its connection was lost and its slot is AWAY: it keeps its rooms for the resume window. */
  | { k: 'away'; session: SessionAddress }
  /**
   * The session at `previous` came back as `session` (its slot taken over with its token; `token` is the new token's hash):
   * what it missed since `last`, in parts of about `partBytes`, then live. takeOver: taken over by a login with its
   * registered nick's password instead (a client with nothing to resume from): its rooms, each as a join shows it.
   */
  | {
      k: 'resume';
      previous: SessionAddress;
      session: SessionAddress;
      nick: string;
      version: number;
      token: string;
      last: LastSeen[];
      partBytes: number;
      takeOver?: true;
    }
  /** The resuming session's worker has sent the last part of what it missed: the next part. */
  | { k: 'replay-next'; session: SessionAddress }
  /** The session's worker has taken the credits its HISTORY_REQUEST's answer costs (FromStore charge): read it now. */
  | { k: 'history-next'; session: SessionAddress }
  /** The store thread's own clock: away sessions whose window has ended time out. */
  | { k: 'expire'; now: number }
  /** The operator kicked a session that is away. */
  | { k: 'end-away'; target: SlotRef; reason: string }
  /**
   * A dead node of the cluster (this node reaped it): its sessions, by their session keys, that lost their
   * connection now (their rooms hear it) and that ended (they leave their rooms, said).
   */
  | { k: 'node-gone'; away: string[]; ended: string[]; reason: string }
  /** The session ended: out of its rooms, `notice` (if any) to each of them once. */
  | { k: 'leave'; session: SessionAddress; notice: Uint8Array | null }
  /** A new nick: `notice` to the session's rooms; `own`, the session's own copy when its request had a ref. */
  | { k: 'rename'; session: SessionAddress; nick: string; notice: Uint8Array; account?: boolean; own?: Uint8Array }
  /** ref (on these and the messages above): the client's request reference, put on what answers it (PROTOCOL.md). */
  | { k: 'join'; session: SessionAddress; room: string; ref?: string }
  | { k: 'part'; session: SessionAddress; room: string; reason?: string; ref?: string }
  | { k: 'topic'; session: SessionAddress; room: string; text?: string; ref?: string }
  | { k: 'rooms'; session: SessionAddress; ref?: string }
  | { k: 'names'; session: SessionAddress; room: string; ref?: string }
  | {
      k: 'history';
      session: SessionAddress;
      id: number;
      room?: string;
      with?: string;
      before?: number;
      since?: number;
      limit?: number;
      ref?: string;
    }
  /** After the store thread restarted: a worker's session and the rooms it was in. */
  | { k: 'restore'; session: SessionAddress; nick: string; version: number; rooms: RoomRef[] }
  /** The supervisor: a worker died; its sessions in `away` wait to resume, the others leave their rooms with this reason. */
  | { k: 'worker-died'; worker: number; reason: string; away: SlotRef[] };

/**
 * A question a worker needs answered before a session exists (HELLO for a registered nick), outside the order:
 * the store thread answers it on the worker's port at once (FromStore 'answer').
 */
export type StoreAsk = { k: 'ask'; id: number; q: { k: 'account'; nick: string } };

/** A worker's registry moved or ended a session of another node's (a cluster's): the store thread tells that node, outside the order. */
export type StoreLetGo = { k: 'let-go'; target: SessionAddress; nick: string; how: 'moved' | 'ended' };

/** The operator kicks a session that lives on another node: the store thread's bus carries it there, outside the order. */
export type StoreKickElsewhere = { k: 'kick-elsewhere'; target: SessionAddress; reason: string };

/** The account a nick is, or looks like (same: it is that nick; else a look-alike of it). */
export interface AccountAnswer {
  nick: string;
  hash: string;
  same: boolean;
}

/**
 * The store thread → a worker, on its port: every request it sent up to the count-th has been handled;
 * or the answer to an ask (error: the store could not answer).
 */
export type FromStore =
  | { k: 'handled'; count: number }
  /**
   * What the store reads for the session costs it `credits` of its flood credits (history-reads.ts): its worker
   * takes them, in order with the session's frames; with `next`, it then says history-next.
   */
  | { k: 'charge'; session: SessionAddress; credits: number; next: boolean }
  /** A HISTORY_REQUEST's answer for the session: its frames, one after the other in `buffer` (transferred). */
  | { k: 'frames'; session: SessionAddress; buffer: ArrayBuffer; lengths: number[] }
  | { k: 'answer'; id: number; account: AccountAnswer | null }
  | { k: 'answer'; id: number; error: string };

/** The store thread → the supervisor. */
export type StoreReport =
  | { k: 'ready'; epoch: string; movedAside: string | null; file: string | null }
  | { k: 'open-failed'; code: string; message: string }
  /** Something the operator must know (the disk is full, the database failed); sent at most once a minute per code. */
  | { k: 'fault'; code: string; message: string }
  /** A line for the operator's console (a session timed out). */
  | { k: 'event'; text: string };

/** The supervisor → the store thread. */
export type ToStoreThread =
  | { k: 'port'; worker: number; port: MessagePort }
  | { k: 'reopen-log' }
  | { k: 'crash' }
  | { k: 'shutdown' };
