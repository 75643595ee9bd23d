/**
 * What is left of a ticket after a restart. A ticket's 16 bytes say when and for what it was issued, under the
 * ticket secret (process/secret-source.ts: kept in data/server.secrets across a restart, shared by a cluster's
 * nodes): 6 bytes of issue time (ms), 2 random, 8 of HMAC-SHA256 over those, the op and the name. So it
 * is as unguessable as a random one (the MAC needs the secret), and, once a restart has emptied the ticket table
 * (the authority while the server runs), it still proves what it was issued for: a download's resume after a
 * restart may rest on it (http-download.ts, docs/PROTOCOL.md "Files over HTTP").
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long after its issue a ticket may resume a download across a restart. */
export const RESUME_ACROSS_RESTART_MS = 24 * 3600_000;

function mac(secret: Buffer, head: Buffer, op: string, name: string): Buffer {
  return createHmac('sha256', secret)
    .update('heartbeat ticket\0')
    .update(head)
    .update(`${op}\0${name}`, 'utf8')
    .digest()
    .subarray(0, 8);
}

/** A new ticket's bytes for (op, name), issued at `now` (ms). */
export function signedTicket(secret: Buffer, op: string, name: string, now: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUIntBE(Math.floor(now), 0, 6);
  randomBytes(2).copy(head, 6);
  return Buffer.concat([head, mac(secret, head, op, name)]);
}

/**
 * Whether `ticketHex` was issued under `secret` for (op, one of `names`) before `startedMs` (the table's start: so
 * never a ticket of this run, which the table alone rules) and at most RESUME_ACROSS_RESTART_MS before `now`.
 */
export function issuedBeforeStart(
  secret: Buffer,
  startedMs: number,
  ticketHex: string,
  op: string,
  names: readonly string[],
  now: number,
): boolean {
  if (!/^[0-9a-f]{32}$/.test(ticketHex)) return false;
  const t = Buffer.from(ticketHex, 'hex');
  const issued = t.readUIntBE(0, 6);
  if (issued >= startedMs || now - issued > RESUME_ACROSS_RESTART_MS) return false;
  return names.some((name) => timingSafeEqual(mac(secret, t.subarray(0, 8), op, name), t.subarray(8)));
}
