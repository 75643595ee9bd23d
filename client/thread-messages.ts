/**
 * Messages between the client's main thread (chat-client-main.ts) and its
 * listener thread (client/listener/): what both sides share, so that the main
 * thread imports nothing of the listener's.
 */
import type { ClientMessage } from '../common/protocol.js';
import type { RoomCommand } from './room-state.js';
import type { ClientTls } from './secure-connect.js';

export interface ListenerConfig {
  /** The server connected to now (the listener moves it along `servers` as it redials). */
  host: string;
  port: number;
  /** Every server given (--host repeated: a cluster's nodes), tried in turn after a lost connection. */
  servers: Array<{ host: string; port: number }>;
  nick: string;
  verbose: boolean;
  /** Int32 control words shared with the main thread (see Control). */
  control: SharedArrayBuffer;
  connectTimeoutMs: number;
  /** Come back after losing the connection (false: --no-reconnect, and exit 3). */
  reconnect: boolean;
  serverTimeoutMs: number | undefined;
  downloadsDir: string;
  /** --qlog and --lftp-via for /get and /post (client/options.ts). */
  qlogDir: string | null;
  lftpVia: { host: string; port: number } | null;
  /** stdout is a terminal: progress is a redrawn bar, not periodic lines. */
  tty: boolean;
  /** On a terminal: the screen shared with the main thread (client/terminal/screen.ts); null on a pipe. */
  screen: SharedArrayBuffer | null;
  /** On a terminal: colours and [HH:MM] timestamps. */
  color: boolean;
  timestamps: boolean;
  /** TLS to the chat port (null: --no-tls). */
  tls: ClientTls | null;
  /** A private server's password (--server-password, CHAT_SERVER_PASSWORD), or null. */
  serverPassword: string | null;
  /** The nick's password, when it is registered (--password, CHAT_PASSWORD), or null. */
  nickPassword: string | null;
  /** Passwords may go over --no-tls (--allow-plain-passwords). */
  allowPlainPasswords: boolean;
  /** A person at the terminal can be asked for the nick's password (stdin and stdout are a terminal). */
  askPasswords: boolean;
}

/** Indexes into the shared control Int32Array. */
export const Control = {
  /**
   * 0 while running; exit code + 1 once the listener has decided the process
   * must end. The listener notifies it, so a main thread blocked on it
   * (/sleep waits here) wakes at once.
   */
  EXIT: 0,
} as const;

export type ToListener =
  | { k: 'send'; msg: ClientMessage }
  | { k: 'quit'; reason: string }
  | { k: 'get'; name: string; dest: string | undefined; fresh: boolean }
  | { k: 'post'; path: string; name: string | undefined; fresh: boolean }
  | { k: 'transfers' }
  | { k: 'room'; command: RoomCommand }
  /** The answer to FromListener 'password' ('' when none was typed). */
  | { k: 'password'; password: string };

export type FromListener =
  | { k: 'ready'; nick: string; maxText: number; heartbeatIntervalMs: number; heartbeatTimeoutMs: number }
  | { k: 'nick'; nick: string }
  /** Lost (reconnecting) or back: the prompt shows it. */
  | { k: 'connected'; connected: boolean }
  /** The current room changed (the prompt shows it); '' when in none. */
  | { k: 'room'; room: string }
  /** For tab completion: the nicks in the room, or the shared files, as far as the listener knows them. */
  | { k: 'names'; nicks?: string[]; files?: string[] }
  /** The server wants the nick's password: ask for it, hidden (the answer is ToListener 'password'). */
  | { k: 'password'; nick: string }
  | { k: 'exit'; code: number };
