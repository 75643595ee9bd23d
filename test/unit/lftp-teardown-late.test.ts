/**
 * A late copy of a data packet (duplicated and held back on the path, or a spurious retransmission) that
 * reaches the data receiver after it verified END, when its ACK of END was lost: the receiver's answers to
 * the repeated END must still acknowledge it. They once carried END's own number again (the late packet had
 * set the cumulative ACK back to the data's end), so the sender tried END 16 times and ended with
 * PEER_TIMEOUT: a post through the fault relay at 5 % loss failed so, now and then.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { memoryTransfer } from '../helpers/fake-link.js';
import { Flag, seqAdd, seqDiff } from '../../common/lftp/engine/packet.js';

const MSS = 100;
const PACKETS = 10;
/** memoryTransfer's initial sequence numbers. */
const ISN = { client: 100, server: 90_000 };

describe('teardown with a late data packet after END is verified', () => {
  for (const op of ['post', 'get'] as const) {
    it(`${op}: the receiver's lost END-ACK is answered again with END + 1, and both ends succeed`, () => {
      const data = randomBytes(PACKETS * MSS);
      const { link, sink } = memoryTransfer({ op, data, mss: MSS });
      const sender = op === 'post' ? 'client' : 'server';
      const receiver = op === 'post' ? 'server' : 'client';
      const lastData = seqAdd(ISN[sender], PACKETS);
      const endAck = seqAdd(lastData, 2);
      const isLast = (from: string, flags: number, seq: number) =>
        from === sender && (flags & Flag.DAT) !== 0 && seq === lastData;
      // The last data packet's first send goes twice; its second copy comes 50 ms late, after END is verified.
      let duplicated = false;
      let copies = 0;
      link.duplicate = (from, p) => isLast(from, p.flags, p.seq) && !duplicated && (duplicated = true);
      link.delay = (from, p) => (isLast(from, p.flags, p.seq) && copies++ === 1 ? 50 : 1);
      let endAckDropped = false;
      link.drop = (from, p) =>
        from === receiver && p.flags === Flag.ACK && p.ack === endAck && !endAckDropped && (endAckDropped = true);
      link.run();

      // The scenario happened: the END-ACK was lost before the late copy arrived.
      const dropped = link.log.find((l) => l.dropped && l.from === receiver);
      const late = link.log.find((l) => l.from === sender && l.flags.includes('DAT') && l.seq === lastData);
      expect(dropped?.ack).toBe(endAck);
      expect(late!.at + 50).toBeGreaterThan(dropped!.at);
      // Once END + 1 was acknowledged, no later ACK of the receiver's takes it back.
      const after = link.log.filter((l) => l.from === receiver && l.at >= dropped!.at);
      expect(after.filter((l) => seqDiff(l.ack, endAck) < 0)).toEqual([]);
      expect(sink.data.equals(data)).toBe(true);
      expect([link.client.failure, link.server.failure]).toEqual([null, null]);
      expect([link.client.state, link.server.state]).toEqual(['CLOSED', 'CLOSED']);
      expect(link.client.succeeded && link.server.succeeded).toBe(true);
    });
  }

  it("get: every plain ACK of END lost, the client's FIN (which acknowledges END too) completes the server's END", () => {
    const data = randomBytes(PACKETS * MSS);
    const { link, sink } = memoryTransfer({ op: 'get', data, mss: MSS });
    const endAck = seqAdd(seqAdd(ISN.server, PACKETS), 2);
    // The END-ACK and each answer to a repeated END lost; the client's FIN (FIN | ACK, the same ack) gets through.
    link.drop = (from, p) => from === 'client' && p.flags === Flag.ACK && p.ack === endAck;
    link.run();
    const fin = link.log.find((l) => l.from === 'client' && l.flags.includes('FIN'));
    expect(fin?.ack).toBe(endAck);
    expect(link.log.some((l) => l.dropped && l.from === 'client' && l.ack === endAck)).toBe(true);
    expect(sink.data.equals(data)).toBe(true);
    expect([link.client.failure, link.server.failure]).toEqual([null, null]);
    expect([link.client.state, link.server.state]).toEqual(['CLOSED', 'CLOSED']);
    expect(link.client.succeeded && link.server.succeeded).toBe(true);
  });
});
