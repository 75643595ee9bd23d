import { describeEvent } from '../../common/lftp/event-text.js';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { FakeLink, MemorySink, MemorySource } from '../helpers/fake-link.js';
import { Flag, HEADER_BYTES, decodePacket, encodePacket, type Packet } from '../../common/lftp/engine/packet.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { DEFAULT_RTO, PROBE_MIN_MS, RttEstimator } from '../../common/lftp/engine/rtt.js';
import { RenoCongestion, type CongestionName } from '../../common/lftp/engine/congestion.js';
import { MAX_SACK_BLOCKS, ReceiveWindow } from '../../common/lftp/engine/receive-window.js';
import { SendWindow } from '../../common/lftp/engine/send-window.js';
import { seededRandom } from '../relay/relay.js';
import { AMPLIFICATION_LIMIT, type ConnectionOptions, type Op } from '../../common/lftp/engine/connection.js';

const MSS = 100;
const CLIENT_ISN = 1000;
const SERVER_ISN = 5000;

function setup(op: Op, data: Buffer, capacity = 64, congestion: CongestionName = 'reno') {
  const source = new MemorySource(data, MSS);
  const clientSink = new MemorySink();
  const serverSink = new MemorySink();
  const common = {
    receiveCapacity: capacity,
    maxWindow: 256,
    idleTimeoutMs: 30_000,
    handshakeTries: 16,
    closeTries: 16,
    congestion,
  };
  const clientOpts: ConnectionOptions = {
    ...common,
    side: 'client',
    conn: 42,
    isn: CLIENT_ISN,
    request: { op, name: 'f', mss: MSS, ...(op === 'post' ? { size: data.length } : {}) },
    ...(op === 'post' ? { source } : { sink: clientSink }),
  };
  const serverOpts = {
    ...common,
    side: 'server' as const,
    conn: 42,
    isn: SERVER_ISN,
    ...(op === 'get' ? { source } : { sink: serverSink }),
  };
  const link = new FakeLink(clientOpts, serverOpts, data.length);
  return { link, clientSink, serverSink };
}

const steps = (link: FakeLink) =>
  link.log
    .filter((l) => !l.flags.includes('DAT'))
    .map((l) => `${l.from} ${l.flags} seq=${l.seq} ack=${l.ack}${l.dropped ? ' (dropped)' : ''}`);

describe('packet codec', () => {
  it('round-trips and rejects any single flipped bit', () => {
    const p: Packet = {
      flags: Flag.DAT | Flag.ACK,
      conn: 0xdeadbeef,
      seq: 0xfffffffe,
      ack: 7,
      window: 99,
      payload: randomBytes(50),
    };
    const buf = encodePacket(p);
    expect(decodePacket(buf)).toEqual(p);
    for (let bit = 0; bit < buf.length * 8; bit += 7) {
      const bad = Buffer.from(buf);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(typeof decodePacket(bad)).toBe('string');
    }
    expect(decodePacket(buf.subarray(0, 10))).toBe('short');
  });
});

describe('handshake and teardown, step by step (fake clock, fake link)', () => {
  const N = 5; // packets of data
  const data = randomBytes(N * MSS - 30);

  it('get without loss: SYN, SYN-ACK, ACK, data, END, ACK, FIN, ACK, FIN, ACK', () => {
    const { link, clientSink } = setup('get', data);
    link.run();
    expect(clientSink.data.equals(data)).toBe(true);
    const x = CLIENT_ISN;
    const y = SERVER_ISN;
    expect(steps(link)).toEqual([
      `client SYN seq=${x} ack=0`,
      `server SYN|ACK seq=${y} ack=${x + 1}`,
      `client ACK seq=${x + 1} ack=${y + 1}`,
      ...link.log
        .filter((l) => l.from === 'client' && l.flags === 'ACK' && l.ack > y + 1 && l.ack <= y + 1 + N)
        .map((l) => `client ACK seq=${x + 1} ack=${l.ack}`),
      `server ACK|END seq=${y + 1 + N} ack=${x + 1}`,
      `client ACK seq=${x + 1} ack=${y + N + 2}`,
      `client ACK|FIN seq=${x + 1} ack=${y + N + 2}`,
      `server ACK seq=${y + N + 2} ack=${x + 2}`,
      `server ACK|FIN seq=${y + N + 2} ack=${x + 2}`,
      `client ACK seq=${x + 1} ack=${y + N + 3}`,
    ]);
    expect(link.client.state).toBe('CLOSED');
    expect(link.server.state).toBe('CLOSED');
    expect(link.client.succeeded && link.server.succeeded).toBe(true);
  });

  it('a SYN from a forged address (nothing after it arrives): at most 3× its bytes go back, and the half-open server gives up in seconds', () => {
    const { link } = setup('get', data);
    Object.assign(link.server.opts, { handshakeTimeoutMs: LFTP_DEFAULTS.serverHandshakeTimeoutMs });
    // The SYN reaches the server; what the server sends goes to the forged address, and nothing more comes back.
    link.drop = (from, _p, n) => from === 'server' || n > 0;
    link.run(60_000);
    const syn = link.log.find((l) => l.from === 'client' && l.flags === 'SYN')!;
    const synAcks = link.log.filter((l) => l.from === 'server' && l.flags === 'SYN|ACK');
    const sent = synAcks.reduce((n, l) => n + HEADER_BYTES + l.len, 0);
    expect(synAcks.length).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThanOrEqual(AMPLIFICATION_LIMIT * (HEADER_BYTES + syn.len));
    const gaveUp = link.events.find((x) => x.side === 'server' && x.e.type === 'error');
    expect(gaveUp?.e).toMatchObject({ code: 'HANDSHAKE_TIMEOUT' });
    expect(link.server.finished).toBe(true);
    // Each SYN the client sends again (its address is real after all) buys room for more SYN-ACKs.
    const { link: lossy } = setup('get', data);
    lossy.drop = (from, _p, n) => from === 'server' && n < 6;
    lossy.run();
    expect(lossy.client.succeeded && lossy.server.succeeded).toBe(true);
  });

  it('post without loss: data flows client → server, END and FIN carry the client numbers', () => {
    const { link, serverSink } = setup('post', data);
    link.run();
    expect(serverSink.data.equals(data)).toBe(true);
    const x = CLIENT_ISN;
    const s = steps(link);
    expect(s[0]).toBe(`client SYN|POST seq=${x} ack=0`);
    expect(s).toContain(`client ACK|END seq=${x + 1 + N} ack=${SERVER_ISN + 1}`);
    expect(s).toContain(`client ACK|FIN seq=${x + N + 2} ack=${SERVER_ISN + 1}`);
    expect(s).toContain(`server ACK seq=${SERVER_ISN + 1} ack=${x + N + 3}`);
    expect(link.client.state).toBe('CLOSED');
  });

  it('lost SYN: retransmitted after the initial RTO (1 s)', () => {
    const { link, clientSink } = setup('get', data);
    link.drop = (from, p, n) => from === 'client' && n === 0 && (p.flags & Flag.SYN) !== 0;
    link.run();
    expect(clientSink.data.equals(data)).toBe(true);
    expect(steps(link).slice(0, 3)).toEqual([
      `client SYN seq=${CLIENT_ISN} ack=0 (dropped)`,
      `client SYN seq=${CLIENT_ISN} ack=0`,
      `server SYN|ACK seq=${SERVER_ISN} ack=${CLIENT_ISN + 1}`,
    ]);
    const synTimes = link.events.filter(
      (e) => e.side === 'client' && e.e.type === 'retransmit_control' && e.e.packet === 'SYN',
    );
    expect(synTimes.length).toBe(1);
    // The second SYN is try 2 (it once read "try 3/16" after two SYNs).
    expect(describeEvent(synTimes[0]!.e)).toMatch(/^retransmit SYN \(timeout, next wait \d+ms, try 2\/\d+\)$/);
  });

  it('lost SYN-ACK: the client resends SYN, the server answers the duplicate', () => {
    const { link, clientSink } = setup('get', data);
    link.drop = (from, p, n) => from === 'server' && n === 0 && (p.flags & Flag.SYN) !== 0;
    link.run();
    expect(clientSink.data.equals(data)).toBe(true);
    expect(steps(link).slice(0, 4)).toEqual([
      `client SYN seq=${CLIENT_ISN} ack=0`,
      `server SYN|ACK seq=${SERVER_ISN} ack=${CLIENT_ISN + 1} (dropped)`,
      `client SYN seq=${CLIENT_ISN} ack=0`,
      `server SYN|ACK seq=${SERVER_ISN} ack=${CLIENT_ISN + 1}`,
    ]);
  });

  it('lost SYN-ACK: the ACK of the SYN-ACK sent again gives the server no RTT sample (Karn)', () => {
    const { link, clientSink } = setup('get', data);
    let srttAtFirstData: number | null | undefined;
    link.drop = (from, p, n) => {
      if (from === 'server' && p.flags & Flag.DAT && srttAtFirstData === undefined)
        srttAtFirstData = link.server.rtt.srtt;
      return from === 'server' && n === 0 && (p.flags & Flag.SYN) !== 0;
    };
    // The first SYN takes 5 ms, so the client's second SYN reaches the server before its own timer resends.
    let syns = 0;
    link.delay = (from, p) => (from === 'client' && p.flags & Flag.SYN && syns++ === 0 ? 5 : 1);
    link.run();
    expect(clientSink.data.equals(data)).toBe(true);
    expect(
      link.events.some((e) => e.side === 'server' && e.e.type === 'retransmit_control' && e.e.why === 'duplicate_syn'),
    ).toBe(true);
    // The answer to the second SYN was timed from the first SYN-ACK: a sample of the client's 1 s wait.
    expect(srttAtFirstData).toBeNull();
  });

  it('lost final handshake ACK (get): the client, still without data after one RTO, sends its ACK again', () => {
    const { link, clientSink } = setup('get', data);
    link.drop = (from, p, n) => from === 'client' && n === 1 && p.flags === Flag.ACK;
    link.run();
    expect(clientSink.data.equals(data)).toBe(true);
    expect(steps(link).slice(0, 4)).toEqual([
      `client SYN seq=${CLIENT_ISN} ack=0`,
      `server SYN|ACK seq=${SERVER_ISN} ack=${CLIENT_ISN + 1}`,
      `client ACK seq=${CLIENT_ISN + 1} ack=${SERVER_ISN + 1} (dropped)`,
      `client ACK seq=${CLIENT_ISN + 1} ack=${SERVER_ISN + 1}`,
    ]);
    // After the client's RTO (its floor, 200 ms), before the server's SYN-ACK timer (1 s, no RTT sample yet).
    const acks = link.log.filter((l) => l.from === 'client' && l.flags === 'ACK');
    expect(acks[1]!.at - acks[0]!.at).toBeGreaterThanOrEqual(DEFAULT_RTO.minMs);
    expect(acks[1]!.at - acks[0]!.at).toBeLessThan(DEFAULT_RTO.initialMs);
  });

  it('lost final handshake ACK (post): the first data packet completes the handshake', () => {
    const { link, serverSink } = setup('post', data);
    link.drop = (from, p, n) => from === 'client' && n === 1 && p.flags === Flag.ACK;
    link.run();
    expect(serverSink.data.equals(data)).toBe(true);
    expect(link.events.some((e) => e.side === 'server' && e.e.type === 'state' && e.e.state === 'ESTABLISHED')).toBe(
      true,
    );
  });

  it('lost FIN and lost last ACK: both retransmitted, both ends close', () => {
    const { link, clientSink } = setup('get', data);
    let finDropped = false;
    let lastAckDropped = false;
    link.drop = (from, p) => {
      if (from === 'client' && p.flags & Flag.FIN && !finDropped) return (finDropped = true);
      if (from === 'client' && p.flags === Flag.ACK && p.ack === SERVER_ISN + N + 3 && !lastAckDropped)
        return (lastAckDropped = true);
      return false;
    };
    link.run();
    expect(clientSink.data.equals(data)).toBe(true);
    const s = steps(link);
    expect(s.filter((l) => l.startsWith('client ACK|FIN')).length).toBe(2);
    expect(s.filter((l) => l.startsWith('server ACK|FIN')).length).toBe(2);
    expect(s.at(-1)).toBe(`client ACK seq=${CLIENT_ISN + 1} ack=${SERVER_ISN + N + 3}`);
    expect(link.client.state).toBe('CLOSED');
    expect(link.server.state).toBe('CLOSED');
  });

  it('lost END: retransmitted until acknowledged, first after the tail loss probe time (2 SRTT), not the RTO', () => {
    const { link, clientSink } = setup('get', data);
    let dropped = 0;
    link.drop = (from, p) => from === 'server' && (p.flags & Flag.END) !== 0 && dropped++ < 2;
    link.run();
    expect(clientSink.data.equals(data)).toBe(true);
    expect(steps(link).filter((l) => l.includes('END')).length).toBe(3);
    // END is the flight's tail: a lost one waits max(2 SRTT, 10 ms), then backs off from there.
    const ends = link.log.filter((l) => l.from === 'server' && l.flags.includes('END')).map((l) => l.at);
    expect(ends[1]! - ends[0]!).toBeGreaterThanOrEqual(PROBE_MIN_MS);
    expect(ends[1]! - ends[0]!).toBeLessThan(DEFAULT_RTO.minMs / 4);
    expect(ends[2]! - ends[1]!).toBeCloseTo(2 * (ends[1]! - ends[0]!), 6);
  });

  it('an unanswered SYN ends with HANDSHAKE_TIMEOUT after a bounded number of tries', () => {
    const { link } = setup('get', data);
    link.drop = (from) => from === 'client';
    link.run();
    expect(link.client.state).toBe('FAILED');
    expect(link.client.failure?.code).toBe('HANDSHAKE_TIMEOUT');
    expect(link.log.filter((l) => l.flags === 'SYN').length).toBe(16);
  });

  it('a peer that goes silent mid-transfer ends with PEER_TIMEOUT', () => {
    const { link } = setup('get', randomBytes(200 * MSS), 16);
    link.drop = (from, _p, n) => from === 'server' && n > 20;
    link.run();
    expect(link.client.failure?.code).toBe('PEER_TIMEOUT');
  });
});

describe('RTO (RFC 6298)', () => {
  it('starts at 1 s, follows SRTT/RTTVAR, clamps, and backs off', () => {
    const r = new RttEstimator({ initialMs: 1000, minMs: 200, maxMs: 60_000, granularityMs: 1 });
    expect(r.rto).toBe(1000);
    r.sample(100); // SRTT 100, RTTVAR 50 → 100 + 200
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBe(50);
    expect(r.rto).toBe(300);
    r.sample(200); // RTTVAR = 0.75*50 + 0.25*100 = 62.5; SRTT = 87.5 + 25 = 112.5
    expect(r.rttvar).toBeCloseTo(62.5);
    expect(r.srtt).toBeCloseTo(112.5);
    expect(r.rto).toBeCloseTo(362.5);
    r.expired();
    expect(r.rto).toBeCloseTo(725);
    r.expired();
    expect(r.rto).toBeCloseTo(1450);
    r.sample(112.5); // a fresh sample ends the backoff
    expect(r.backoffFactor).toBe(1);
    for (let i = 0; i < 50; i++) r.sample(1);
    expect(r.rto).toBe(200); // min bound
    for (let i = 0; i < 20; i++) r.expired();
    expect(r.rto).toBe(60_000); // max bound
  });
});

/** What Reno is told of a loss: only the transmission numbers matter to it. */
const lostAt = (tx: number, currentTx: number) => ({
  now: 0,
  tx,
  currentTx,
  index: tx,
  txInFlight: 1,
  lostSinceSent: 1,
  appLimited: false,
  neighborRttMs: null,
});

describe('congestion control (Reno)', () => {
  it('slow start doubles per round, avoidance adds one per round, loss halves once per round, timeout resets', () => {
    const cc = new RenoCongestion(10_000, 40);
    expect(cc.cwnd).toBe(10);
    let tx = 0;
    cc.onAcked(10, (tx += 10));
    expect(cc.cwnd).toBe(20);
    cc.onAcked(20, (tx += 20));
    expect(cc.cwnd).toBe(40);
    expect(cc.phase).toBe('avoidance');
    cc.onAcked(40, (tx += 40)); // one round trip's worth: +1
    expect(cc.cwnd).toBeCloseTo(41, 0);
    const cut = cc.onLoss(lostAt(tx - 5, tx));
    expect(cut).toBe(true);
    expect(cc.ssthresh).toBe(20);
    expect(cc.cwnd).toBe(20);
    expect(cc.phase).toBe('recovery');
    expect(cc.onLoss(lostAt(tx - 3, tx))).toBe(false); // same flight: no second cut
    cc.onAcked(5, tx - 1); // acks of packets sent before the cut: still recovering, no growth
    expect(cc.cwnd).toBe(20);
    cc.onAcked(1, tx + 1); // a packet sent after the cut: recovery over
    expect(cc.phase).toBe('avoidance');
    cc.onTimeout(30, tx + 1);
    expect(cc.cwnd).toBe(1);
    expect(cc.ssthresh).toBe(15);
    expect(cc.phase).toBe('slow_start');
  });

  it('the send window declares a packet lost when 3 later ones are acknowledged, and retransmits it first', () => {
    const data = randomBytes(30 * MSS);
    const src = new MemorySource(data, MSS);
    const sw = new SendWindow(src, new RttEstimator(), new RenoCongestion(100), 100);
    for (let n = sw.next(0); n; n = sw.next(0)) sw.markSent(n.index, 0);
    expect(sw.nxt).toBe(10); // initial window
    sw.onAck(2, [], 100, 10); // 0,1 acked
    let res = sw.onAck(2, [[3, 5]], 100, 11); // 3,4 sacked: 2 has only 2 later ones
    expect(res.lost).toEqual([]);
    res = sw.onAck(2, [[3, 6]], 100, 12); // 3 later ones
    expect(res.lost).toEqual([2]);
    expect(res.reduced).toBe(true);
    expect(sw.next(12)).toEqual({ index: 2, retransmit: true });
  });
});

describe('receive window', () => {
  it('buffers out of order, delivers in order, advertises what is left, and describes holes with SACK', () => {
    const delivered: number[] = [];
    const sink = { backlogPackets: 0, push: (i: number) => delivered.push(i) };
    const rw = new ReceiveWindow(100, 8, sink);
    expect(rw.window()).toBe(8);
    expect(rw.onData(2, Buffer.alloc(1))).toBe('new');
    expect(rw.onData(3, Buffer.alloc(1))).toBe('new');
    expect(rw.onData(6, Buffer.alloc(1))).toBe('new');
    expect(rw.window()).toBe(5);
    expect(rw.sackRanges()).toEqual([
      [6, 7],
      [2, 4],
    ]);
    expect(rw.onData(3, Buffer.alloc(1))).toBe('duplicate');
    expect(rw.onData(9, Buffer.alloc(1))).toBe('outside'); // beyond next + capacity
    expect(rw.onData(0, Buffer.alloc(1))).toBe('new');
    expect(rw.onData(1, Buffer.alloc(1))).toBe('new');
    expect(delivered).toEqual([0, 1, 2, 3]);
    expect(rw.next).toBe(4);
    sink.backlogPackets = 6; // the writer falls behind: the window shrinks
    expect(rw.window()).toBe(1);
  });

  it('with more holes than SACK blocks: the newest range, then the highest, so a lost ACK hides no recent range', () => {
    const rw = new ReceiveWindow(100, 200, { backlogPackets: 0, push: () => undefined });
    for (let i = 1; i <= 39; i += 2) rw.onData(i, Buffer.alloc(1)); // 20 ranges [1,2) [3,4) ... [39,40)
    rw.onData(8, Buffer.alloc(1)); // a retransmission fills in low: [7,10) is the newest
    const ranges = rw.sackRanges();
    expect(ranges).toHaveLength(MAX_SACK_BLOCKS);
    expect(ranges[0]).toEqual([7, 10]);
    expect(ranges.slice(1, 4)).toEqual([
      [39, 40],
      [37, 38],
      [35, 36],
    ]);
  });

  it('a slow writer closes the window and the transfer still completes, memory bounded by the window', () => {
    const data = randomBytes(300 * MSS);
    const { link, clientSink } = setup('get', data, 16);
    // The writer takes 2 packets per millisecond; the network could deliver far more.
    const queue: Buffer[] = [];
    let maxQueued = 0;
    let draining = false;
    const write = clientSink.push.bind(clientSink);
    const drain = () => {
      for (let k = 0; k < 2 && queue.length; k++) write(0, queue.shift()!);
      clientSink.backlogPackets = queue.length;
      link.client.windowOpened(link.now);
      if (queue.length) link.later(link.now + 1, drain);
      else draining = false;
    };
    clientSink.push = (_i: number, d: Buffer) => {
      queue.push(d);
      clientSink.backlogPackets = queue.length;
      maxQueued = Math.max(maxQueued, queue.length);
      if (!draining) {
        draining = true;
        link.later(link.now + 1, drain);
      }
    };
    link.delay = () => 0.1;
    link.run();
    expect(clientSink.data.equals(data)).toBe(true);
    // Held in memory: never more than the advertised window.
    expect(maxQueued).toBeLessThanOrEqual(16);
    expect(link.log.some((l) => l.from === 'client' && l.flags === 'ACK' && l.len === 0)).toBe(true);
  });
});

describe('whole transfers over a bad fake link', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    for (const op of ['get', 'post'] as const) {
      it(`${op}, seed ${seed}: 20% loss, 5% duplication, reordering — byte-identical`, () => {
        const data = randomBytes(150 * MSS + 17);
        const { link, clientSink, serverSink } = setup(op, data, 32);
        const rnd = seededRandom(seed);
        link.drop = () => rnd() < 0.2;
        link.duplicate = () => rnd() < 0.05;
        link.delay = () => 5 + rnd() * 10;
        link.run();
        const got = op === 'get' ? clientSink.data : serverSink.data;
        expect(got.equals(data)).toBe(true);
        expect(link.client.succeeded).toBe(true);
      });
    }
  }

  it('ACKs the sender cannot explain are ignored, window and all: forged ack=0 / ack of unsent data with window 0 do not wedge it', () => {
    const data = randomBytes(60 * MSS);
    const { link, clientSink } = setup('get', data, 32);
    const forged = (at: number, ack: number): void => {
      link.inFlight.push({
        at,
        from: 'client',
        p: { flags: Flag.DAT | Flag.ACK, conn: 42, seq: CLIENT_ISN + 1, ack, window: 0, payload: Buffer.alloc(0) },
      });
    };
    for (let i = 0; i < 50; i++) {
      forged(5 + i, 0); // far behind what is acknowledged
      forged(5 + i, (SERVER_ISN + 1 + 2 ** 31 - 1) >>> 0); // far ahead: data never sent
    }
    link.run(120_000);
    expect(clientSink.data.equals(data)).toBe(true);
    expect(link.server.unexplainedAcks).toBeGreaterThan(0);
  });

  it('a transfer whose data stops moving ends with PEER_TIMEOUT though keepalives flow both ways', () => {
    const data = randomBytes(60 * MSS);
    const { link } = setup('get', data, 32);
    // Every data packet from the server is lost after the first few; everything else gets through.
    link.drop = (from, p, n) => from === 'server' && (p.flags & Flag.DAT) !== 0 && n > 4;
    link.run(600_000);
    const failed = link.events
      .filter((x) => x.e.type === 'error')
      .map((x) => ({ side: x.side, ...(x.e as { code: string; message: string }) }));
    expect(failed.some((f) => f.code === 'PEER_TIMEOUT' && /no progress for 60s/.test(f.message))).toBe(true);
    expect(link.client.finished && link.server.finished).toBe(true);
    expect(link.now).toBeLessThan(70_000);
  });

  it('50% loss still completes', () => {
    const data = randomBytes(60 * MSS);
    const { link, clientSink } = setup('get', data, 32);
    const rnd = seededRandom(99);
    link.drop = () => rnd() < 0.5;
    link.run(3_600_000);
    expect(clientSink.data.equals(data)).toBe(true);
  });
});
