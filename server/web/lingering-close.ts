/**
 * A refused request's body that was not read: read and discarded for a
 * while, so that the answer reaches the client, then cut off.
 */
import type { IncomingMessage } from 'node:http';

/** How long a refused request's unread body is read and discarded before the connection is cut. */
export const REFUSED_BODY_LINGER_MS = 5_000;

const lingering = new WeakSet<IncomingMessage>();

/** A request announces a body (req.complete is still false while the handler starts, body or not). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * A request refused before its body was read (no ticket, too large, ...). Closing
 * at once would make the kernel answer the body still in flight with a reset,
 * and the client would see a network error instead of the answer (nginx's
 * lingering close exists for the same reason). The connection stays open and
 * Node discards the body once the answer is sent; a body that is still coming
 * after the linger time is cut off.
 */
export function lingerForBody(req: IncomingMessage): void {
  if (lingering.has(req)) return;
  lingering.add(req);
  const timer = setTimeout(() => {
    if (!req.complete) req.socket.destroy();
  }, REFUSED_BODY_LINGER_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}
