/** What the listener is given to work with: its connection, where its words go, and the port to the main thread. */
import type { ServerMessage } from '../../common/protocol.js';
import type { FromListener } from '../thread-messages.js';

/** The connection as the listener uses it: a net.Socket, or a stand-in in tests. */
export interface ListenerSocket {
  readonly destroyed: boolean;
  readonly writable: boolean;
  write(data: Buffer): unknown;
  end(): unknown;
  destroy(): unknown;
  setTimeout(ms: number): unknown;
  removeAllListeners(): unknown;
  /** chat-ready: connected, and (with TLS) the server's certificate is trusted: frames may go (secure-connect.ts). */
  on(event: 'chat-ready' | 'end' | 'close' | 'timeout', fn: () => void): unknown;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'error', fn: (err: NodeJS.ErrnoException) => void): unknown;
}

/** Closes a socket that is being replaced, so that nothing it still says reaches the listener. */
export function abandonSocket(socket: ListenerSocket): void {
  socket.removeAllListeners();
  socket.on('error', () => undefined);
  socket.destroy();
}

/** Where the listener's words go. */
export interface ListenerOutput {
  /** A line for the user (stdout); clears a progress bar first. */
  line(text: string): void;
  /** The lines a server message renders to (a terminal decorates them: time, colours, mentions of `me`). */
  message(msg: ServerMessage, lines: string[], me: string): void;
  /** Redraws the progress line on a terminal ('' clears it). */
  status(text: string): void;
  /** The last line before the client ends: stdout for a clean end, stderr otherwise. */
  final(text: string, isError: boolean): void;
  /** The terminal's width, for lines that must fit it (absent: not a terminal). */
  columns?(): number;
}

export interface ListenerPort {
  post(msg: FromListener): void;
  /**
   * The listener has decided the exit code: the main thread must learn it and
   * stop, even while it is blocked reading the terminal (main.ts).
   */
  exit(code: number): void;
}
