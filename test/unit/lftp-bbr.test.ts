/**
 * LFTP's default congestion controller (common/lftp/engine/bbr.ts, after
 * draft-ietf-ccwg-bbr), its pacer and its measure of random loss, on a fake
 * clock: the controller alone, and whole transfers over the fake network
 * (test/helpers/fake-network.ts: flows sharing one bottleneck of a given rate
 * and drop-tail queue, with random loss).
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { BbrCongestion } from '../../common/lftp/engine/bbr.js';
import type { CongestionPhase, LostPacket } from '../../common/lftp/engine/congestion.js';
import { LossBackground, MIN_WINDOWS, WINDOW_LIFE_MS } from '../../common/lftp/engine/loss-background.js';
import { BURST_MS, MIN_BURST, Pacer } from '../../common/lftp/engine/pacer.js';
import { FakeNetwork, jain, soloTransfer, type FlowSpec, type PathSpec } from '../helpers/fake-network.js';
import { memoryTransfer } from '../helpers/fake-link.js';
import { seededRandom } from '../relay/relay.js';
import type { CongestionName } from '../../common/lftp/engine/congestion.js';

const BIG = 400_000;

/** Runs flows over a path until `until` ms; each flow's share of what was delivered from `from` on. */
function share(path: PathSpec, flows: FlowSpec[], until: number, from: number) {
  const net = new FakeNetwork(path, flows);
  net.run(until);
  const delivered = net.flows.map((f) => f.deliveredBetween(from, until));
  const total = delivered.reduce((a, b) => a + b, 0);
  return {
    net,
    shares: delivered.map((d) => d / total),
    utilization: total / (path.rate * (until - from)),
    jain: jain(delivered),
    rate: delivered.map((d) => d / (until - from)),
  };
}

describe('the pacer', () => {
  it('lets a burst of BURST_MS of the rate go at once, then one packet per 1/rate', () => {
    const p = new Pacer();
    const rate = 20; // packets per ms
    let sent = 0;
    while (p.allows(0, rate)) {
      p.sent(0, rate);
      sent++;
    }
    expect(sent).toBe(rate * BURST_MS);
    expect(p.nextSendTime(0, rate)).toBeCloseTo(1 / rate, 9);
    expect(p.allows(1 / rate, rate)).toBe(true);
    // Idle for a second: still only one burst's worth, never a second of credit.
    expect(p.budget(1000, rate)).toBe(rate * BURST_MS);
    // A slow rate still gets MIN_BURST packets at once.
    expect(new Pacer().budget(0, 0.1)).toBe(MIN_BURST);
  });
});

describe('the background of random loss', () => {
  it('is none until MIN_WINDOWS windows of rounds without a queue; then BBRv3 2 % rule counts only loss beyond it', () => {
    const b = new LossBackground();
    // No background: BBRv3's own test, loss over 2 % of what was in flight.
    expect(b.exceeds(2, 100, 0.02)).toBe(false);
    expect(b.exceeds(3, 100, 0.02)).toBe(true);
    expect(b.exceeds(1, 100, 0)).toBe(true); // any loss outside probing
    // 5 % random loss, measured over windows of 8 rounds of 50 packets.
    let now = 0;
    for (let w = 0; w < MIN_WINDOWS; w++) {
      for (let r = 0; r < 8; r++) b.addRound((now += 10), w === 0 && r === 0 ? 20 : 2, 40);
      if (w < MIN_WINDOWS - 1) expect(b.rate).toBe(0);
    }
    // The smallest window counts: the first held a burst of loss (a queue episode), the others 5 %.
    expect(b.rate).toBeCloseTo(0.05, 3);
    // At 200 in flight: 6 % is random loss plus noise; 15 % is congestion.
    expect(b.exceeds(12, 200, 0.02)).toBe(false);
    expect(b.exceeds(30, 200, 0.02)).toBe(true);
    // Outside probing: loss within the noise of 5 % is not a reason to slow down; 12 % is.
    expect(b.exceeds(8, 100, 0)).toBe(false);
    expect(b.exceeds(15, 100, 0)).toBe(true);
    // Windows older than WINDOW_LIFE_MS go: no background until new ones come.
    b.expire(now + WINDOW_LIFE_MS + 1);
    expect(b.rate).toBe(0);
  });
});

describe('BBR on a fake bottleneck', () => {
  it('goes through startup, drain, the four ProbeBW phases and ProbeRTT, pacing at each phase gain, and fills the link', () => {
    const net = new FakeNetwork({ rate: 10, queue: 50, delayMs: 5, loss: 0, seed: 1 }, [
      { congestion: 'bbr', packets: BIG },
    ]);
    const cc = net.flows[0]!.server.cc as BbrCongestion;
    const gains = new Map<CongestionPhase, Set<number>>();
    let cruiseRatio = 0;
    for (let t = 0; t <= 12_000; t += 2) {
      net.run(t);
      if (!gains.has(cc.phase)) gains.set(cc.phase, new Set());
      gains.get(cc.phase)!.add(cc.pacingGain);
      if (cc.phase === 'probe_bw_cruise' && cc.bw > 0) cruiseRatio = cc.pacingRate / cc.bw;
    }
    expect([...gains.keys()].sort()).toEqual(
      ['drain', 'probe_bw_cruise', 'probe_bw_down', 'probe_bw_refill', 'probe_bw_up', 'probe_rtt', 'startup'].sort(),
    );
    expect([...gains.get('startup')!]).toEqual([2.77]);
    expect([...gains.get('drain')!]).toEqual([0.5]);
    expect([...gains.get('probe_bw_down')!]).toEqual([0.9]);
    expect([...gains.get('probe_bw_cruise')!]).toEqual([1]);
    expect([...gains.get('probe_bw_up')!]).toEqual([1.25]);
    expect(cruiseRatio).toBeCloseTo(0.99, 2); // paces 1 % under its estimate
    expect(cc.bw).toBeGreaterThan(9);
    expect(cc.bw).toBeLessThan(11);
    expect(cc.minRtt).toBeGreaterThanOrEqual(10);
    expect(cc.minRtt).toBeLessThan(11);
    const f = net.flows[0]!;
    expect(f.deliveredBetween(2000, 12_000) / (10 * 10_000)).toBeGreaterThan(0.95);
  });

  /** Runs a flow until its controller is in probe_bw_up, its first probe's ACKs coming in. */
  function probingUp(): BbrCongestion & { at: number } {
    const net = new FakeNetwork({ rate: 10, queue: 200, delayMs: 5, loss: 0, seed: 4 }, [
      { congestion: 'bbr', packets: BIG },
    ]);
    const cc = net.flows[0]!.server.cc as BbrCongestion;
    for (let t = 0; t < 20_000 && !(cc.phase === 'probe_bw_up' && cc.probeBw.isBwProbeSample); t += 1) net.run(t);
    expect(cc.phase).toBe('probe_bw_up');
    return Object.assign(cc, { at: net.now });
  }
  const loss = (txInFlight: number, lostSinceSent: number): LostPacket => ({
    now: 0,
    tx: 1,
    currentTx: 2,
    index: 7,
    txInFlight,
    lostSinceSent,
    appLimited: false,
    neighborRttMs: null,
  });

  it('cuts its in-flight bound when a probing round loses more than 2 % (BBRv3), and not for less', () => {
    const a = probingUp();
    expect(a.onLoss(loss(200, 4))).toBe(false); // 2 %: the threshold, not past it
    expect(a.phase).toBe('probe_bw_up');
    expect(a.onLoss(loss(200, 6))).toBe(true); // 3 %
    expect(a.phase).toBe('probe_bw_down');
    // Cut to the flight at which the loss rate crossed 2 %: (0.02 × 199 − 5) / 0.98 + 199.
    expect(a.inflightLongterm).toBeCloseTo(199 + (0.02 * 199 - 5) / 0.98, 6);
    expect(a.model.inflightBound).toBe(a.inflightLongterm);
  });

  it('with 5 % random loss measured, only loss beyond it counts as congestion', () => {
    const a = probingUp();
    // Enough windows at 5 % (after the flow's own, at 0 %) that the lossless ones have been pushed out.
    for (let r = 0; r < 8 * 10; r++) a.background.addRound(a.at + r, 5, 100);
    expect(a.background.rate).toBeCloseTo(0.05, 6);
    expect(a.onLoss(loss(200, 12))).toBe(false); // 6 %: random loss and its noise
    expect(a.phase).toBe('probe_bw_up');
    expect(a.onLoss(loss(200, 30))).toBe(true); // 15 %
    expect(a.phase).toBe('probe_bw_down');
  });

  it('a retransmission timeout drops the window to one packet, and the window comes back once a later packet is acknowledged', () => {
    const a = probingUp();
    const before = a.cwnd;
    a.onTimeout(50, 1000);
    expect(a.cwnd).toBe(1);
    const s = {
      now: a.at + 1,
      rttMs: 10,
      rate: null,
      appLimited: true,
      roundStart: false,
      inflight: 1,
      newlyAcked: 1,
      totalDelivered: a.delivered + 1,
      priorDelivered: a.delivered,
      delivered: 1,
      txInFlight: 1,
      lost: 0,
      cwndLimited: false,
    };
    a.onAcked(1, 999, s); // sent before the timeout: still recovering
    expect(a.cwnd).toBeLessThan(before / 2);
    a.onAcked(1, 1001, { ...s, totalDelivered: s.totalDelivered + 1, priorDelivered: s.totalDelivered });
    expect(a.cwnd).toBeGreaterThanOrEqual(Math.min(before, a.inflightLongterm) - 1);
  });

  it('keeps its speed under random loss: at 1, 5 and 10 % over 0.85 of its loss-free speed, where Reno collapses', () => {
    const path = (loss: number): PathSpec => ({ rate: 30, queue: 1000, delayMs: 1, loss, seed: 1 });
    const speed = (cc: CongestionName, l: number) =>
      share(path(l), [{ congestion: cc, packets: BIG }], 4000, 1000).rate[0]!;
    const clean = speed('bbr', 0);
    expect(clean).toBeGreaterThan(29);
    for (const l of [0.01, 0.05, 0.1]) expect(speed('bbr', l) / clean).toBeGreaterThan(0.85);
    expect(speed('reno', 0.05) / speed('reno', 0)).toBeLessThan(0.5);
  }, 60_000);

  it('leaves Startup at the path rate where a round trip is shorter than a rate sample (loopback)', () => {
    // 0.1-0.25 ms each way: every packet's own send and ACK intervals are under a millisecond.
    for (const delayMs of [0.1, 0.25, 0.5, 1]) {
      const r = share(
        { rate: 100, queue: 1000, delayMs, loss: 0, seed: 4 },
        [{ congestion: 'bbr', packets: BIG }],
        200,
        100,
      );
      const cc = r.net.flows[0]!.server.cc as BbrCongestion;
      expect(cc.bw, `${delayMs} ms`).toBeGreaterThan(95);
      expect(r.utilization, `${delayMs} ms`).toBeGreaterThan(0.95);
    }
  });

  it('a 24 MiB-sized transfer at 5 % random loss, with a relay-like 1 ms of jitter, keeps over 0.6 of its clean speed', () => {
    // The benchmark's case (17,400 packets through the relay), from the handshake's end: a lost handshake packet
    // costs the initial RTO (1 s), which is the handshake's, not the controller's.
    const time = (loss: number, seed: number) => {
      const { flow, ms } = soloTransfer({ rate: 50, queue: 1000, delayMs: 1, jitterMs: 1, loss, seed }, 17_400, 20_000);
      expect(flow.verified).toBe(true);
      return ms;
    };
    for (const seed of [1, 2, 3, 4, 5]) expect(time(0, seed) / time(0.05, seed), `seed ${seed}`).toBeGreaterThan(0.6);
  }, 60_000);

  it('two flows share a bottleneck fairly (Jain ≥ 0.95) and fill it, with short and long queues', () => {
    for (const [queue, delayMs] of [
      [20, 5],
      [150, 5],
      [24, 0.2],
    ] as const) {
      const r = share(
        { rate: 10, queue, delayMs, loss: 0, seed: 3 },
        [
          { congestion: 'bbr', packets: BIG },
          { congestion: 'bbr', packets: BIG, startAt: 50 },
        ],
        20_000,
        5000,
      );
      expect(r.jain, `queue ${queue}, ${delayMs} ms`).toBeGreaterThanOrEqual(0.95);
      expect(r.utilization, `queue ${queue}, ${delayMs} ms`).toBeGreaterThan(0.95);
    }
  }, 60_000);

  it('shares with a loss-based flow (Reno) started with it: each gets 30-70 %', () => {
    for (const queue of [24, 48]) {
      const r = share(
        { rate: 10, queue, delayMs: 0.2, loss: 0, seed: 2 },
        [
          { congestion: 'bbr', packets: BIG },
          { congestion: 'reno', packets: BIG },
        ],
        20_000,
        5000,
      );
      for (const s of r.shares) {
        expect(s, `queue ${queue}: ${r.shares}`).toBeGreaterThanOrEqual(0.3);
        expect(s, `queue ${queue}: ${r.shares}`).toBeLessThanOrEqual(0.7);
      }
    }
  }, 60_000);

  it('moves a file byte-identical through a lossy, reordering link (fake link)', () => {
    for (const op of ['get', 'post'] as const) {
      const data = randomBytes(300 * 100 + 5);
      const { link, sink } = memoryTransfer({ op, data, mss: 100, receiveCapacity: 64 });
      const rnd = seededRandom(11);
      link.drop = () => rnd() < 0.1;
      link.delay = () => 5 + rnd() * 4;
      link.run();
      expect(sink.data.equals(data)).toBe(true);
      expect((op === 'get' ? link.server : link.client).cc.name).toBe('bbr'); // the default
    }
  });
});
