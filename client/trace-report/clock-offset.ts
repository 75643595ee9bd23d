/**
 * Two sides' traces are on two clocks: each side's times count from its own
 * wall-clock reference time, so a client's and a server's trace are only as
 * aligned as their clocks (and the moments each read its clock). A few
 * milliseconds off, and a datagram appears received before it was sent:
 * pairing it with its sending then fails, and it is counted lost. So the
 * beginning of both traces (at most HEAD_EVENTS events of each) is read
 * first: a datagram sent once and received once gives its apparent one-way
 * delay, in each direction. When the smallest of either is negative (the
 * clocks cannot be right), the server's times are moved so that the
 * smallest delays both ways are equal (as NTP does); otherwise the clocks
 * are trusted as they are.
 */
import type { QlogTrace } from './qlog-file.js';
import { packetFields } from './trace-fields.js';

export const HEAD_EVENTS = 4000;

/** The packets a trace's head sent and received: for each key, its time, or NaN when it occurs more than once. */
async function headPackets(t: QlogTrace): Promise<{ sent: Map<string, number>; received: Map<string, number> }> {
  const sent = new Map<string, number>();
  const received = new Map<string, number>();
  let n = 0;
  for await (const e of t.events) {
    if (++n > HEAD_EVENTS) break;
    const out = e.name === 'transport:packet_sent';
    if (!out && e.name !== 'transport:packet_received') continue;
    const p = packetFields(e.data);
    if (!p) continue;
    const key = `${p.type}:${p.seq}:${p.ack}:${p.window}:${p.length}`;
    const into = out ? sent : received;
    into.set(key, into.has(key) ? NaN : t.referenceTime + e.time);
  }
  return { sent, received };
}

/** The smallest apparent one-way delay of the datagrams sent once by one side and received once by the other. */
function smallestDelay(sent: Map<string, number>, received: Map<string, number>): number {
  let min = Infinity;
  for (const [key, at] of sent) {
    const got = received.get(key);
    if (got !== undefined && !Number.isNaN(at) && !Number.isNaN(got)) min = Math.min(min, got - at);
  }
  return min;
}

/**
 * How many ms to add to each trace's times to put them on the client's clock: 0 for all unless there is one
 * client's and one server's trace whose clocks are seen to be off (a datagram received before it was sent).
 */
export async function clockOffsets(traces: QlogTrace[]): Promise<number[]> {
  const none = traces.map(() => 0);
  const c = traces.findIndex((t) => t.side === 'client');
  const s = traces.findIndex((t) => t.side === 'server');
  if (traces.length !== 2 || c < 0 || s < 0) return none;
  const [client, server] = await Promise.all([headPackets(traces[c]!), headPackets(traces[s]!)]);
  const up = smallestDelay(client.sent, server.received);
  const down = smallestDelay(server.sent, client.received);
  if (!Number.isFinite(up) || !Number.isFinite(down) || (up >= 0 && down >= 0)) return none;
  // The server's clock is ahead by (up − down) / 2: then the smallest delays are (up + down) / 2 both ways.
  none[s] = -(up - down) / 2;
  return none;
}
