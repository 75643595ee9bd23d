/**
 * A session as the cluster keeps it (keys.ts, `{p}s`): what any node needs to
 * find it, refuse its nick to others, and resume it — never its counters,
 * which stay in its node's session table. JSON, one per session; the scripts
 * read its index fields (fold, look, token, spent, node).
 */
import { nickKeys } from '../shm/nick-keys.js';
import type { HeldSession, SessionInfo, SlotRef, Transport } from '../shm/session-table.js';
import type { NewSession } from '../shm/slot-claims.js';
import { sessionKey } from '../bus/node-id.js';
import type { NickHolder } from '../bus/nick-registry.js';

export interface SessionRecord {
  key: string;
  nick: string;
  /** The nick's fold and look keys, hex (shm/nick-keys.ts). */
  fold: string;
  look: string;
  node: string;
  slot: number;
  generation: number;
  owner: number;
  sessionId: number;
  transport: Transport;
  address: string;
  port: number;
  connectedAt: number;
  /** Wall ms since when it is away; 0: connected. */
  awaySince: number;
  /** The resume token's hash, hex ('' : none); and the one it replaced, spent (''). */
  token: string;
  spent: string;
  /** When its node wrote it (wall ms): a node's reconcile drops only records older than the table it read. */
  at: number;
}

const hex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString('hex') : '');

/** The record of a session just claimed (or moved) on `node` at `at`. */
export function newRecord(node: string, s: NewSession, at: SlotRef & { sessionId: number }, spent = ''): SessionRecord {
  const keys = nickKeys(s.nick);
  return {
    key: sessionKey({ node, ...at }),
    nick: s.nick,
    fold: hex(keys.fold),
    look: hex(keys.look),
    node,
    slot: at.slot,
    generation: at.generation,
    owner: s.owner,
    sessionId: at.sessionId,
    transport: s.transport,
    address: s.address,
    port: s.port,
    connectedAt: Math.round(s.now),
    awaySince: s.away ? Math.round(s.awaySince ?? s.now) : 0,
    token: hex(s.token),
    spent,
    at: Date.now(),
  };
}

export function parseRecord(json: string): SessionRecord {
  return JSON.parse(json) as SessionRecord;
}

export function holderOf(r: SessionRecord): NickHolder {
  return { node: r.node, slot: r.slot, generation: r.generation, owner: r.owner, nick: r.nick };
}

export function heldOf(r: SessionRecord): HeldSession {
  return { ...holderOf(r), away: r.awaySince > 0 };
}

/** What WHO shows of a session on another node: its record; the counters and times only its node has are zero. */
export function infoOf(r: SessionRecord): SessionInfo {
  return {
    slot: r.slot,
    generation: r.generation,
    sessionId: r.sessionId,
    nick: r.nick,
    owner: r.owner,
    transport: r.transport,
    address: r.address,
    port: r.port,
    connectedAt: r.connectedAt,
    lastSeen: r.connectedAt,
    lastActive: r.connectedAt,
    rttMs: null,
    ...{ msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0 },
    away: r.awaySince > 0,
    awaySince: r.awaySince > 0 ? r.awaySince : null,
    node: r.node,
  };
}
