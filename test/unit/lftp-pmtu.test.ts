/**
 * Bigger datagrams where the path takes them (DPLPMTUD, RFC 8899; docs/LFTP.md, "Datagram size"): the search
 * as a state machine (common/lftp/engine/path-mtu.ts), the ACK's report of the largest datagram received, and
 * whole transfers over the fake link: a path that takes packed datagrams gets them, one that does not stays at
 * one packet a datagram and loses no data and no speed to the probes, and a peer from before packed datagrams
 * (no `dgram` in its handshake) is never sent one.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PathMtu, MAX_PROBES, PROBE_TIMER_MIN_MS } from '../../common/lftp/engine/path-mtu.js';
import { decodeAck, decodeSack, encodeSack, Flag } from '../../common/lftp/engine/packet.js';
import { decodeSynAck, decodeSynRequest, encodeSynAck, encodeSynRequest } from '../../common/lftp/engine/payloads.js';
import type { DatagramOptions } from '../../common/lftp/engine/connection-options.js';
import { memoryTransfer } from '../helpers/fake-link.js';

describe('the path MTU search (RFC 8899)', () => {
  it('probes the largest size both ends take first; a confirmed probe ends the search there', () => {
    const p = new PathMtu(1448, 65_491, 16);
    expect(p.state).toBe('searching');
    const want = p.due()!;
    expect(want).toEqual({ packets: 45, size: 24 + 45 * 1448 });
    // Its size on the wire: 16 bytes more (the tag) than the 65,184 the receiver counts.
    expect(p.sent(0, want, 2)).toEqual({ what: 'probe', size: 65_200, packets: 45, try: 1 });
    expect(p.due()).toBeNull(); // one probe out at a time
    expect(p.onLargestReceived(1472)).toEqual([]); // an ordinary datagram confirms nothing
    expect(p.onLargestReceived(65_184).map((c) => c.what)).toEqual(['confirmed', 'done']);
    expect([p.state, p.packets]).toEqual(['search_complete', 45]);
  });

  it('a size that never gets through is tried MAX_PROBES times, then the next (jumbo frames), then one packet stays', () => {
    const p = new PathMtu(1448, 65_491, 16);
    let now = 0;
    const sizes: number[] = [];
    for (let k = 0; k < 2 * MAX_PROBES; k++) {
      const want = p.due()!;
      sizes.push(want.size);
      p.sent(now, want, 1);
      now += PROBE_TIMER_MIN_MS;
      const changes = p.onTimer(now);
      if (k === MAX_PROBES - 1) expect(changes).toEqual([{ what: 'too_big', size: 65_200, packets: 45, tries: 3 }]);
      if (k === 2 * MAX_PROBES - 1) expect(changes.map((c) => c.what)).toEqual(['too_big', 'done']);
    }
    // 9000-byte frames less IPv4, UDP and the tag hold 6 packets of 1448.
    expect(sizes).toEqual([65_184, 65_184, 65_184, 8712, 8712, 8712]);
    expect([p.state, p.packets, p.due()]).toEqual(['search_complete', 1, null]);
  });

  it('a retransmission timeout with packed datagrams is a suspected black hole: one packet a datagram again', () => {
    const p = new PathMtu(1448, 65_491, 0);
    p.sent(0, p.due()!, 1);
    p.onLargestReceived(65_184);
    expect(p.onTimeout()).toEqual({ what: 'black_hole', size: 65_184, packets: 45 });
    expect([p.state, p.packets]).toEqual(['base', 1]);
    expect(p.onTimeout()).toBeNull();
  });

  it('nothing to search when two packets do not fit what both ends take', () => {
    expect(new PathMtu(1448, 2000, 0).state).toBe('disabled');
  });
});

describe('the wire: dgram in the handshake, the largest datagram in the ACK', () => {
  it('SYN and SYN-ACK carry dgram; a value that is not a whole number of at least 88 bytes is as none', () => {
    const syn = decodeSynRequest(encodeSynRequest('get', { name: 'f', mss: 1448, dgram: 65_491 }), 65_483);
    expect(syn.dgram).toBe(65_491);
    expect(decodeSynRequest(Buffer.from('{"name":"f","mss":1448,"dgram":"big"}'), 65_483).dgram).toBeUndefined();
    expect(decodeSynRequest(Buffer.from('{"name":"f","mss":1448}'), 65_483).dgram).toBeUndefined();
    expect(decodeSynAck(encodeSynAck(10, 1448, undefined, 9000), 1448)?.dgram).toBe(9000);
    expect(decodeSynAck(encodeSynAck(10, 1448), 1448)).toEqual({ size: 10, mss: 1448, from: 0 });
  });

  it('an ACK with packed datagrams on both ends: SACK blocks, then the largest datagram; a 4-byte tail reads as that', () => {
    const blocks: Array<[number, number]> = [
      [10, 12],
      [20, 25],
    ];
    expect(decodeAck(encodeSack(blocks, 65_184))).toEqual({ sack: blocks, largest: 65_184 });
    expect(decodeAck(encodeSack(blocks))).toEqual({ sack: blocks, largest: null });
    expect(decodeSack(encodeSack(blocks, 1472))).toEqual(blocks);
    expect(decodeAck(Buffer.alloc(6))).toBeNull();
  });
});

const MSS = 100;
/** Datagrams of up to 8 packets (as version 1): the fake link's "link". */
const EIGHT: DatagramOptions = { largest: 24 + 8 * MSS, probe: true, overhead: 0 };

function transfer(
  op: 'get' | 'post',
  client: DatagramOptions | undefined,
  server: DatagramOptions | undefined,
  packets = 1000,
) {
  const data = randomBytes(packets * MSS + 37);
  const { link, sink } = memoryTransfer({
    op,
    data,
    mss: MSS,
    ...(client ? { client: { datagram: client } } : {}),
    ...(server ? { server: { datagram: server } } : {}),
  });
  const sender = op === 'get' ? 'server' : 'client';
  const pmtu = () => link.events.filter((e) => e.side === sender && e.e.type === 'pmtu').map((e) => e.e);
  const dataSizes = () => link.log.filter((l) => l.from === sender && l.flags.includes('DAT')).map((l) => l.len);
  return { link, data, sink, sender, pmtu, dataSizes };
}

describe('packed datagrams over the fake link', () => {
  it('where the path takes them: one probe, confirmed, and the data goes 8 packets a datagram, byte-identical', () => {
    for (const op of ['get', 'post'] as const) {
      const t = transfer(op, EIGHT, EIGHT);
      t.link.run();
      expect(t.sink.data.equals(t.data)).toBe(true);
      expect(t.pmtu().map((e) => (e.type === 'pmtu' ? e.what : ''))).toEqual(['probe', 'confirmed', 'done']);
      expect(Math.max(...t.dataSizes())).toBe(8 * MSS);
      // Most of the data went packed.
      expect(t.dataSizes().filter((n) => n === 8 * MSS).length).toBeGreaterThan(80);
    }
  });

  it('where the path drops them (an MTU of one packet): the probes are lost, nothing else is, and no data is resent', () => {
    // Long enough (3000 packets, a 20 ms round trip) for every try's probe timer to run out.
    const t = transfer('get', EIGHT, EIGHT, 3000);
    t.link.delay = () => 10;
    t.link.drop = (_from, p) => p.payload.length > MSS; // a link that takes one packet a datagram
    t.link.run();
    expect(t.sink.data.equals(t.data)).toBe(true);
    expect(t.pmtu().map((e) => (e.type === 'pmtu' ? e.what : ''))).toEqual([
      'probe',
      'probe',
      'probe',
      'too_big',
      'done',
    ]);
    const sender = t.link.server;
    // The probes repeated packets in flight: their loss is not a loss of data, nor a congestion signal.
    expect(sender.lossCount).toBe(0);
    expect(sender.sender!.retransmissions).toBe(0);
    expect(t.link.events.some((e) => e.side === 'server' && e.e.type === 'loss')).toBe(false);
    expect(Math.max(...t.dataSizes())).toBe(8 * MSS); // the probes were sent...
    expect(t.link.log.filter((l) => l.from === 'server' && l.len > MSS && !l.dropped)).toEqual([]); // ...and all lost
  });

  it('a peer from before packed datagrams (no dgram in its SYN or SYN-ACK) gets one packet a datagram, no probe', () => {
    for (const [op, client, server] of [
      ['get', undefined, EIGHT],
      ['get', EIGHT, undefined],
      ['post', EIGHT, undefined],
      ['post', undefined, EIGHT],
    ] as const) {
      const t = transfer(op, client, server);
      t.link.run();
      expect(t.sink.data.equals(t.data)).toBe(true);
      expect(t.pmtu()).toEqual([]);
      expect(Math.max(...t.dataSizes())).toBe(MSS);
      // Its ACKs are as before too: SACK blocks only, no 4-byte report.
      const receiver = t.sender === 'server' ? 'client' : 'server';
      expect(t.link.log.filter((l) => l.from === receiver && l.flags === 'ACK' && l.len % 8 !== 0)).toEqual([]);
    }
  });

  it('a receiver that did not say it takes packed datagrams fails one with PROTOCOL', () => {
    const t = transfer('get', undefined, EIGHT);
    let sent = false;
    const drop = t.link.drop;
    t.link.drop = (from, p, count) => {
      // The first data packet, doubled into a packed datagram the client never agreed to.
      if (from === 'server' && p.flags & Flag.DAT && !sent) {
        sent = true;
        p.payload = Buffer.concat([p.payload, p.payload]);
      }
      return drop(from, p, count);
    };
    t.link.run();
    expect(t.link.client.failure?.code).toBe('PROTOCOL');
  });
});
