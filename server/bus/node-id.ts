/**
 * Which node a session lives on. A SessionAddress is its node, its slot in
 * that node's session table and the slot's generation (and the worker that
 * owns it): slot:generation alone is process-local and collides across
 * nodes, so every key and equality check over addresses takes the node too.
 * The single node's id is a constant unless --node-id names it; a cluster
 * gives each node its own (docs/ARCHITECTURE.md, "Seams for what comes next").
 */
import { UsageError } from '../../common/errors.js';

/** The node id when --node-id is not given: one node, so any constant will do. */
export const DEFAULT_NODE_ID = 'n1';

/** 1-16 of letters, digits and '-', starting with a letter or digit: short, and never containing '/' or ':'. */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,15}$/;

/** --node-id's value, checked (undefined: the default). */
export function parseNodeId(value: string | undefined): string {
  if (value === undefined) return DEFAULT_NODE_ID;
  if (!NODE_ID.test(value))
    throw new UsageError('--node-id must be 1-16 letters, digits or "-", not starting with "-"');
  return value;
}

/** What names a session everywhere: its node, its slot and the slot's generation. */
export interface SessionKeyParts {
  node: string;
  slot: number;
  generation: number;
}

/** A session's key for maps and sets (node/slot:generation). */
export function sessionKey(a: SessionKeyParts): string {
  return `${a.node}/${a.slot}:${a.generation}`;
}

/** The parts of a session key (sessionKey's inverse); null when it is not one. */
export function parseSessionKey(key: string): SessionKeyParts | null {
  const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,15})\/(\d+):(\d+)$/.exec(key);
  return m ? { node: m[1]!, slot: Number(m[2]), generation: Number(m[3]) } : null;
}

/** The same session: same node, slot and generation (the owning worker may differ: it moves on resume). */
export function sameSession(a: SessionKeyParts, b: SessionKeyParts): boolean {
  return a.node === b.node && a.slot === b.slot && a.generation === b.generation;
}
