/**
 * The contract between the chat workers and the store thread, and between
 * the store thread and the supervisor. The store thread is the sequencer:
 * every frame that goes to a whole room passes through it and leaves on the
 * room bus in the order it was stored, so that everyone sees one order, and a
 * message reaches anyone (its sender included) only once it is committed.
 */
import type { SessionAddress } from '../bus/room-bus.js';
import type { Retention } from './history.js';
import type { LogLevel } from '../logger.js';
import type { MessagePort } from 'node:worker_threads';

export interface StoreThreadConfig {
  /** The data folder (--data); null: nothing is written (--no-history), ids live in memory only. */
  dataDir: string | null;
  busName: string;
  retention: Retention;
  /** How often retention runs, in ms. */
  pruneEveryMs: number;
  logFile: string;
  logLevel: LogLevel;
}

/** A chat worker → the store thread (over the worker's own MessagePort, so one worker's requests stay in order). */
export type ToStore =
  /** A line to the room: stored, then posted to everyone (a refusal goes back to `sender`). */
  | { k: 'say'; from: string; text: string; action: boolean; sender: SessionAddress }
  /** A direct message: stored in the pair's conversation, then posted to both. */
  | { k: 'direct'; from: string; to: string; text: string; sender: SessionAddress; target: SessionAddress }
  /** A frame for the whole room that is not kept (a notice): posted in its place in the room's order. */
  | { k: 'post'; frame: Uint8Array };

/** The store thread → a chat worker. */
export type FromStore = { k: 'refused'; sender: SessionAddress; code: 'NOT_STORED'; message: string };

/** The store thread → the supervisor. */
export type StoreReport =
  | { k: 'ready'; epoch: string; movedAside: string | null; file: string | null }
  | { k: 'open-failed'; code: string; message: string }
  /** Something the operator must know (the disk is full, the database failed); sent at most once a minute per code. */
  | { k: 'fault'; code: string; message: string };

/** The supervisor → the store thread. */
export type ToStoreThread = { k: 'port'; worker: number; port: MessagePort } | { k: 'reopen-log' } | { k: 'crash' } | { k: 'shutdown' };
