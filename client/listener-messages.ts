/** Messages between the client's main thread and its listener thread. */
import type { ClientMessage } from '../common/protocol.js';

export interface ListenerConfig {
  host: string;
  port: number;
  nick: string;
  verbose: boolean;
  /** Int32 control words shared with the main thread (see Control). */
  control: SharedArrayBuffer;
  connectTimeoutMs: number;
  serverTimeoutMs: number | undefined;
  downloadsDir: string;
  /** stdout is a terminal: progress is a redrawn bar, not periodic lines. */
  tty: boolean;
}

/** Indexes into the shared control Int32Array. */
export const Control = {
  /** 0 while running; exit code + 1 once the listener has decided the process must end. */
  EXIT: 0,
  /** 1 while the main thread is blocked in a synchronous terminal read. */
  BLOCKED_IN_READ: 1,
} as const;

export type ToListener =
  | { k: 'send'; msg: ClientMessage }
  | { k: 'quit'; reason: string }
  | { k: 'get'; name: string; dest: string | undefined }
  | { k: 'post'; path: string; name: string | undefined }
  | { k: 'transfers' };

export type FromListener =
  | { k: 'ready'; nick: string; maxText: number; heartbeatIntervalMs: number; heartbeatTimeoutMs: number }
  | { k: 'nick'; nick: string }
  | { k: 'exit'; code: number };
