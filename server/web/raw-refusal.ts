/**
 * An HTTP refusal written straight to a socket that has no request object to
 * answer through: a connection refused as it arrives, or a WebSocket
 * handshake refused. The client gets a status and a sentence, then the
 * connection closes; one that does not read it is destroyed a second later.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

const LINGER_MS = 1000;

/** `linger` false: out of descriptors, the socket is closed as soon as the kernel has the answer. */
export function refuseRaw(socket: Socket, status: number, message: string, linger = true): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.on('error', () => socket.destroy());
  if (linger) setTimeout(() => socket.destroy(), LINGER_MS).unref();
  else socket.once('finish', () => socket.destroy());
}
