/**
 * The operator dashboard's feed (docs/PROTOCOL.md, "Operator dashboard"):
 * JSON messages on /admin/ws. Types only, no dependencies: the server and the
 * dashboard page compile against the same definitions.
 */

/**
 * One sample: [ms since the transfer was first seen, cwnd (packets), ssthresh (packets), srtt (ms, -1 unknown),
 * bytes delivered (acknowledged, or received in order), bytes sent or received so far at the farthest
 * (the sender's highest sent, the receiver's highest held), losses so far (the sender's declared losses, the receiver's holes),
 * the sender's pacing rate (bytes per second, -1: it paces nothing or this server does not send),
 * the sender's congestion phase ('' where this server does not send)].
 */
export type TransferPoint = [number, number, number, number, number, number, number, number, string];

export interface TransferView {
  id: string;
  worker: number;
  op: 'get' | 'post';
  name: string;
  owner: string | null;
  remote: string;
  state: string;
  finished: boolean;
  succeeded: boolean;
  /** The server sends the data (a get): its cwnd is the one that matters. */
  serverSends: boolean;
  /** The sender's congestion control: 'reno', 'bbr' (then the ssthresh series is its BDP estimate), or 'client'. */
  congestion: string;
  size: number;
  bytes: number;
  startedAt: number;
  points: TransferPoint[];
}

export interface SessionRow {
  nick: string;
  transport: string;
  /** -1 while away. */
  worker: number;
  address: string;
  rttMs: number | null;
  idleMs: number;
  connectedMs: number;
  msgsIn: number;
  /** Its connection was lost: it waits to be resumed (address: the lost connection's). */
  away?: true;
  /** A cluster's: the other node it lives on (its RTT, idle time and counts are kept there: shown as none). */
  node?: string;
}

/** Server → dashboard, every second. */
export interface AdminSnapshot {
  type: 'snapshot';
  now: number;
  server: string;
  workers: Array<{ index: number; clients: number; loopLagMs: number }>;
  msgsPerSec: number;
  deliveriesPerSec: number;
  sessions: SessionRow[];
  /** Every session, connected or away (sessions lists the first 1,000): the count WELCOME and WHO give. */
  sessionsTotal?: number;
  transfers: TransferView[];
}

/** Server → dashboard, in answer to a command. */
export interface AdminResult {
  type: 'result';
  ok: boolean;
  message: string;
}

/** Dashboard → server. */
export type AdminCommand = { type: 'broadcast'; text: string } | { type: 'kick'; nick: string; reason?: string };
