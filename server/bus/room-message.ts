/**
 * A room message as a turn posts it: what its Segment says of it before it
 * is stored (RoomPost), and its frame once stored. The node that stores it
 * makes the frame from its stored entry; in a cluster, another node makes the
 * same frame from the bus entry the append script wrote with the ids
 * (cluster/bus-ops.ts), so both must come from here, byte for byte.
 */
import { encodeMessage, type ServerMessage } from '../../common/protocol.js';

/** Where a stored message goes: one room (its key and the name shown), said as an action or not. */
export interface RoomPost {
  room: string;
  name: string;
  action: boolean;
}

type Stored = { from: string; text: string; ts: number; id: number };

/** The CHAT a stored room message is (its sender's own copy adds its request's ref to it). */
export function roomMessage(m: Stored, post: Pick<RoomPost, 'name' | 'action'>): ServerMessage {
  return { type: 'CHAT', from: m.from, text: m.text, action: post.action, ts: m.ts, id: m.id, room: post.name };
}

export function roomMessageFrame(m: Stored, post: Pick<RoomPost, 'name' | 'action'>): Buffer {
  return encodeMessage(roomMessage(m, post));
}
