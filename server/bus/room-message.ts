/**
 * A room message as a turn posts it: what its Segment says of it before it
 * is stored (RoomPost), and its frame once stored. The node that stores it
 * makes the frame from its stored entry; in a cluster, another node makes the
 * same frame from the bus entry the append script wrote with the ids
 * (cluster/bus-ops.ts), so both must come from here, byte for byte.
 */
import { encodeMessage } from '../../common/protocol.js';

/** Where a stored message goes: one room (its key and the name shown), said as an action or not. */
export interface RoomPost {
  room: string;
  name: string;
  action: boolean;
}

export function roomMessageFrame(
  m: { from: string; text: string; ts: number; id: number },
  post: Pick<RoomPost, 'name' | 'action'>,
): Buffer {
  return encodeMessage({
    type: 'CHAT',
    from: m.from,
    text: m.text,
    action: post.action,
    ts: m.ts,
    id: m.id,
    room: post.name,
  });
}
