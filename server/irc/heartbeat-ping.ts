/**
 * The chat's heartbeats over IRC: its HEARTBEAT {seq, ts} goes as
 * `PING <seq>.<ts>` and the client's `PONG [server] :<seq>.<ts>` comes back
 * as HEARTBEAT_ACK {seq, ts}, so the worker's own heartbeat tracking (the
 * chat's timeouts, RTT, and its rule that the server's stall is never the
 * client's fault: docs/ARCHITECTURE.md, "Heartbeats") runs unchanged for
 * IRC sessions. Every IRC client answers PING with PONG and the same text.
 * A PONG whose text is not one of ours (a reply to nothing) is ignored.
 */
import type { IrcMessage } from './message.js';

export function heartbeatPing(server: string, seq: number, ts: number): IrcMessage {
  return { source: server, command: 'PING', params: [`${seq}.${ts}`] };
}

/** The HEARTBEAT_ACK a PONG's text stands for, or null. */
export function pongAck(token: string): { type: 'HEARTBEAT_ACK'; seq: number; ts: number } | null {
  const m = /^(\d{1,15})\.(\d{1,16}(?:\.\d{1,6})?)$/.exec(token);
  if (!m) return null;
  const seq = Number(m[1]);
  const ts = Number(m[2]);
  return Number.isSafeInteger(seq) && Number.isFinite(ts) ? { type: 'HEARTBEAT_ACK', seq, ts } : null;
}
