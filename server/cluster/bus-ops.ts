/**
 * What crosses between nodes on the cluster's bus stream (cluster-bus.ts):
 * one entry per turn of a node's store thread, or per post made between
 * turns, holding the posts in the order made. Frames travel as base64 in
 * JSON, which a stream field holds as it is; the ids a turn stored say where
 * it stands in each conversation (ordered-delivery.ts).
 */
import type { OwnCopy, RoomRef, SessionAddress } from '../bus/room-bus.js';
import { decodeMemberState, encodeMemberState, type DirectoryChange } from '../bus/directory-change.js';
import { roomMessageFrame, type RoomPost } from '../bus/room-message.js';

/** A post, as RoomBus's methods make them. 'member' and 'replay' concern this node's sessions only and never cross. */
export type BusOp =
  | { k: 'all'; frame: Buffer }
  /** own: the sender's copy (always of this node's: it never crosses). */
  | { k: 'rooms'; rooms: string[]; frame: Buffer; minVersion: number; own?: OwnCopy }
  | { k: 'to'; target: SessionAddress; frame: Buffer }
  | { k: 'kick'; target: SessionAddress; reason: string }
  | { k: 'member'; target: SessionAddress; room: RoomRef; joined: boolean }
  | { k: 'replay'; target: SessionAddress; frames: Buffer[]; done: boolean }
  /** A session another node moved (a resume, a take-over) or ended (its owner's claim): its node lets go of it. */
  | { k: 'let-go'; target: SessionAddress; nick: string; how: 'moved' | 'ended' }
  /** The room directory: a change to this node's members, or a topic (replicated-rooms.ts). */
  | { k: 'dir'; change: DirectoryChange };

export interface BusBatch {
  /** The node whose store thread made it. */
  node: string;
  /** Its place among that node's batches: the run (new each start) and a count, so that one sent twice is taken once. */
  run?: string;
  seq?: number;
  /** The conversations and ids its turn stored (none: notices only), in order. */
  ids: Array<[conv: string, id: number]>;
  ops: BusOp[];
}

/** Whether another node has anything to do with this post. */
export function crosses(op: BusOp, self: string): boolean {
  switch (op.k) {
    case 'all':
    case 'rooms':
    case 'dir':
      return true;
    case 'to':
    case 'kick':
    case 'let-go':
      return op.target.node !== self;
    default:
      return false;
  }
}

export type Wire =
  | { k: 'all'; f: string }
  | { k: 'rooms'; r: string[]; f: string; v: number }
  | { k: 'to'; t: SessionAddress; f: string }
  | { k: 'kick'; t: SessionAddress; why: string }
  | { k: 'let-go'; t: SessionAddress; nick: string; how: 'moved' | 'ended' }
  | { k: 'dm'; key: string; s: string | null }
  | { k: 'dt'; key: string; name: string; topic: string }
  /** A room message the append script posted: its entry's place in the turn (its id and time are the script's). */
  | { k: 'say'; e: number; r: string; n: string; a: boolean; f: string; t: string };

/** A directory change as the stream and the directory's hashes keep it: the member's state as one string. */
export function wireChange(c: DirectoryChange): Wire {
  return c.t === 'member'
    ? { k: 'dm', key: c.key, s: c.state ? encodeMemberState(c.state) : null }
    : { k: 'dt', key: c.key, name: c.name, topic: c.topic };
}

/** The batch's posts for other nodes, as the stream entry's JSON; null when none crosses. */
export function encodeBatch(batch: BusBatch): string | null {
  const ops: Wire[] = [];
  for (const op of batch.ops) {
    if (!crosses(op, batch.node)) continue;
    if (op.k === 'all') ops.push({ k: 'all', f: op.frame.toString('base64') });
    else if (op.k === 'rooms') ops.push({ k: 'rooms', r: op.rooms, f: op.frame.toString('base64'), v: op.minVersion });
    else if (op.k === 'to') ops.push({ k: 'to', t: op.target, f: op.frame.toString('base64') });
    else if (op.k === 'kick') ops.push({ k: 'kick', t: op.target, why: op.reason });
    else if (op.k === 'let-go') ops.push({ k: 'let-go', t: op.target, nick: op.nick, how: op.how });
    else if (op.k === 'dir') ops.push(wireChange(op.change));
  }
  if (ops.length === 0 && batch.ids.length === 0) return null;
  return JSON.stringify({ n: batch.node, r: batch.run, s: batch.seq, i: batch.ids, o: ops });
}

/**
 * A turn whose posts are only its room messages, as the append script adds it to the bus stream before its ids
 * exist: the conversations in order (`c`) and each message's room and text; the script writes the ids and times
 * beside it (the entry's field `x`: id,ts,id,ts...), and a reader makes the frames (roomMessageFrame).
 */
export function encodeTurnTemplate(
  head: Required<BatchHead>,
  entries: ReadonlyArray<{ conv: string; from: string; text: string }>,
  posts: readonly RoomPost[],
): string {
  const o: Wire[] = posts.map((p, e) => ({
    k: 'say',
    e,
    r: p.room,
    n: p.name,
    a: p.action,
    f: entries[e]!.from,
    t: entries[e]!.text,
  }));
  return JSON.stringify({ n: head.node, r: head.run, s: head.seq, i: [], c: entries.map((e) => e.conv), o });
}

/** Who made a batch: what a reader decides by before the frames are decoded. */
export type BatchHead = Pick<BusBatch, 'node' | 'run' | 'seq'>;

/**
 * The stream entry's batch; null when `skip` says the reader has no use for it (its own, or one taken already),
 * so that no frame of it is decoded.
 */
export function decodeBatch(
  json: string,
  skip: (head: BatchHead) => boolean = () => false,
  /** The append script's ids and times (a turn template's `x`), when it wrote the entry. */
  stored?: string,
): BusBatch | null {
  const w = JSON.parse(json) as {
    n: string;
    r?: string;
    s?: number;
    i: Array<[string, number]>;
    c?: string[];
    o: Wire[];
  };
  const head: BatchHead = { node: w.n, ...(w.r !== undefined ? { run: w.r, seq: w.s } : {}) };
  if (skip(head)) return null;
  const x = (stored ?? '').split(',').map(Number);
  const ids = stored === undefined ? w.i : (w.c ?? []).map((conv, e): [string, number] => [conv, x[2 * e]!]);
  const ops = w.o.map((op): BusOp => {
    switch (op.k) {
      case 'say': {
        const m = { from: op.f, text: op.t, id: x[2 * op.e]!, ts: x[2 * op.e + 1]! };
        return { k: 'rooms', rooms: [op.r], frame: roomMessageFrame(m, { name: op.n, action: op.a }), minVersion: 1 };
      }
      case 'all':
        return { k: 'all', frame: Buffer.from(op.f, 'base64') };
      case 'rooms':
        return { k: 'rooms', rooms: op.r, frame: Buffer.from(op.f, 'base64'), minVersion: op.v };
      case 'to':
        return { k: 'to', target: op.t, frame: Buffer.from(op.f, 'base64') };
      case 'kick':
        return { k: 'kick', target: op.t, reason: op.why };
      case 'let-go':
        return { k: 'let-go', target: op.t, nick: op.nick, how: op.how };
      case 'dm':
        return {
          k: 'dir',
          change: { t: 'member', key: op.key, state: op.s === null ? null : decodeMemberState(op.s) },
        };
      case 'dt':
        return { k: 'dir', change: { t: 'topic', key: op.key, name: op.name, topic: op.topic } };
    }
  });
  return { ...head, ids, ops };
}
