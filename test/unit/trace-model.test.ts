/** The trace report's model of a transfer (client/trace-report/transfer-model.ts, ladder.ts): pure, from synthetic traces. */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../client/trace-report/transfer-model.js';
import { ladderRows, ladderSvg } from '../../client/trace-report/ladder.js';
import { esc } from '../../client/trace-report/svg.js';
import { congestionSvg, timeSequenceSvg } from '../../client/trace-report/charts.js';
import { reportHtml } from '../../client/trace-report/report-html.js';
import { heartbeatSvg, sessionView } from '../../client/trace-report/heartbeat-timeline.js';
import type { QlogEvent, QlogTrace } from '../../client/trace-report/qlog-file.js';
import type { Datagram, TransferModel } from '../../client/trace-report/transfer-model.js';

const CLIENT_ISN = 1000;
const SERVER_ISN = 5000;

function pkt(
  dir: 'sent' | 'received',
  time: number,
  type: string,
  flags: string,
  seq: number,
  ack: number,
  rel: [number, number],
): QlogEvent {
  return {
    time,
    name: `transport:packet_${dir}`,
    data: {
      header: { packet_type: type, flags, seq, ack, seq_rel: rel[0], ack_rel: rel[1], window: 64 },
      raw: { length: 24 },
    },
  };
}

function trace(side: 'client' | 'server', events: Iterable<QlogEvent>): QlogTrace {
  return {
    file: `${side}.sqlog`,
    protocol: 'lftp',
    configuration: {},
    title: side,
    side,
    group: 'abcd',
    referenceTime: 1_000_000,
    events,
    truncated: false,
  };
}

/** The datagrams the ladder draws. */
function drawn(m: TransferModel): Datagram[] {
  return m.ladder.flatMap((e) => (e.kind === 'packet' ? [e.d] : []));
}

describe('the trace model', () => {
  it('a lost SYN-ACK and its retransmission: the copy that arrived is the later one; lost and retransmitted marked', async () => {
    const client = trace('client', [
      { time: 0, name: 'transport:connection_state_updated', data: { new: 'SYN_SENT' } },
      pkt('sent', 0, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
      pkt('sent', 1000, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
      pkt('received', 1010, 'syn_ack', 'SYN|ACK', SERVER_ISN, CLIENT_ISN + 1, [0, 1]),
      pkt('sent', 1011, 'ack', 'ACK', CLIENT_ISN + 1, SERVER_ISN + 1, [1, 1]),
      { time: 1011, name: 'transport:connection_state_updated', data: { new: 'ESTABLISHED' } },
    ]);
    const server = trace('server', [
      pkt('received', 1, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
      pkt('sent', 2, 'syn_ack', 'SYN|ACK', SERVER_ISN, CLIENT_ISN + 1, [0, 1]),
      pkt('received', 1001, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
      pkt('sent', 1002, 'syn_ack', 'SYN|ACK', SERVER_ISN, CLIENT_ISN + 1, [0, 1]),
      pkt('received', 1012, 'ack', 'ACK', CLIENT_ISN + 1, SERVER_ISN + 1, [1, 1]),
    ]);
    const m = await buildModel([client, server]);
    const synAcks = drawn(m).filter((d) => d.type === 'syn_ack');
    expect(synAcks.map((d) => [d.sentAt, d.receivedAt, d.retransmission])).toEqual([
      [2, null, false],
      [1002, 1010, true],
    ]);
    expect(
      drawn(m)
        .filter((d) => d.type === 'syn')
        .map((d) => [d.sentAt, d.receivedAt, d.retransmission]),
    ).toEqual([
      [0, 1, false],
      [1000, 1001, true],
    ]);
    // The ladder: every datagram a row; the client's ESTABLISHED beside the SYN-ACK that arrived (it entered it on that one).
    const rows = ladderRows(m);
    expect(rows.map((r) => (r.kind === 'packet' ? `${r.d.from} ${r.d.flags}` : 'gap'))).toEqual([
      'client SYN',
      'server SYN|ACK',
      'client SYN',
      'server SYN|ACK',
      'client ACK',
    ]);
    const arrived = rows[3]!;
    expect(arrived.kind === 'packet' && arrived.states).toEqual([{ side: 'client', state: 'ESTABLISHED' }]);
    expect(rows[0]!.kind === 'packet' && rows[0]!.states).toEqual([{ side: 'client', state: 'SYN_SENT' }]);
    // Both sides' traces: the SYN-ACK that never arrived is drawn lost, and nothing is of unknown delivery.
    const svg = ladderSvg(m);
    expect(svg.match(/<g class="arrow [^"]*"/g)).toEqual([
      '<g class="arrow syn"',
      '<g class="arrow lost syn_ack"',
      '<g class="arrow retx syn"',
      '<g class="arrow retx syn_ack"',
      '<g class="arrow ack"',
    ]);
    expect(m.neverReceived).toBe(1);
  });

  it("one side's trace alone: what it received has no send time; nothing it sent is drawn lost, its delivery unknown", async () => {
    const m = await buildModel([
      trace('client', [
        pkt('sent', 0, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
        pkt('sent', 1000, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
        pkt('received', 1009, 'syn_ack', 'SYN|ACK', SERVER_ISN, CLIENT_ISN + 1, [0, 1]),
        pkt('sent', 1010, 'ack', 'ACK', CLIENT_ISN + 1, SERVER_ISN + 1, [1, 1]),
      ]),
    ]);
    expect(drawn(m).map((d) => [d.from, d.sentAt, d.receivedAt])).toEqual([
      ['client', 0, null],
      ['client', 1000, null],
      ['server', null, 1009],
      ['client', 1010, null],
    ]);
    expect(m.dataSender).toBeNull();
    expect(m.neverReceived).toBeNull();
    const svg = ladderSvg(m);
    expect(svg.match(/<g class="arrow [^"]*"/g)).toEqual([
      '<g class="arrow unknown syn"',
      '<g class="arrow retx unknown syn"',
      '<g class="arrow syn_ack"',
      '<g class="arrow unknown ack"',
    ]);
    expect(svg).not.toMatch(/lost|✕/);
    expect(
      svg.match(/<title>delivery unknown: only the client's trace is given, not the server's<\/title>/g),
    ).toHaveLength(3);
    const html = reportHtml([{ traces: [trace('client', [])], model: m }]);
    expect(html).toContain('<th>datagrams sent and never received</th><td>needs both sides&#39; traces</td>');
    expect(html).toMatch(/whether what it sent arrived is unknown \(dotted arrows ending in \?\)/);
  });

  it("two sides' clocks 5 ms apart (datagrams seen to arrive before they were sent): aligned, nothing falsely lost; a SYN answered by a RETRY arrived", async () => {
    const client = trace('client', [
      pkt('sent', 0, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
      pkt('received', 2, 'retry', 'RETRY', 0, CLIENT_ISN + 1, [0, 1]),
      pkt('sent', 3, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
      pkt('received', 10, 'syn_ack', 'SYN|ACK', SERVER_ISN, CLIENT_ISN + 1, [0, 1]),
      pkt('sent', 11, 'ack', 'ACK', CLIENT_ISN + 1, SERVER_ISN + 1, [1, 1]),
      pkt('received', 20, 'end', 'ACK|END', SERVER_ISN + 1, CLIENT_ISN + 1, [1, 1]),
    ]);
    // The server's clock 5 ms behind: it receives the SYN "at 0", 4 ms before it was sent (1 ms path).
    const server = {
      ...trace('server', [
        pkt('received', 4 - 5, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
        pkt('sent', 9 - 5, 'syn_ack', 'SYN|ACK', SERVER_ISN, CLIENT_ISN + 1, [0, 1]),
        pkt('received', 12 - 5, 'ack', 'ACK', CLIENT_ISN + 1, SERVER_ISN + 1, [1, 1]),
        pkt('sent', 19 - 5, 'end', 'ACK|END', SERVER_ISN + 1, CLIENT_ISN + 1, [1, 1]),
      ]),
    };
    const m = await buildModel([client, server]);
    expect(m.clockOffset).toBe(5);
    expect(m.neverReceived).toBe(0);
    expect(drawn(m).map((d) => `${d.from} ${d.type} ${d.sentAt} ${d.receivedAt}`)).toEqual([
      'client syn 0 2',
      'server retry null 2',
      'client syn 3 4',
      'server syn_ack 9 10',
      'client ack 11 12',
      'server end 19 20',
    ]);
    expect(ladderSvg(m)).not.toMatch(/lost|✕/);
    // The clocks as they were are trusted when nothing arrives before it was sent.
    const fair = await buildModel([client, { ...server, referenceTime: server.referenceTime + 5 }]);
    expect([fair.clockOffset, fair.neverReceived]).toEqual([0, 0]);
  });

  it('a trace is input: an event whose numbers are not numbers (or whose names are not strings) is left out and counted', async () => {
    const X = '"><img src=x onerror=alert(1)>';
    const h = { packet_type: 'syn', flags: 'SYN', seq: CLIENT_ISN, ack: 0, seq_rel: 0, ack_rel: 0, window: 64 };
    const ev = (name: string, data: Record<string, unknown>, time = 1): QlogEvent => ({ time, name, data });
    const m = await buildModel([
      trace('client', [
        pkt('sent', 0, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
        ev('transport:packet_sent', { header: { ...h, seq_rel: '0' } }),
        ev('transport:packet_sent', { header: { ...h, ack_rel: X } }),
        ev('transport:packet_sent', { header: { ...h, window: null } }),
        ev('transport:packet_sent', { header: { ...h, packet_type: 7 } }),
        ev('transport:packet_sent', { header: { ...h, flags: ['SYN'] } }),
        ev('transport:packet_sent', { header: h, raw: { length: '24' } }),
        ev('transport:packet_received', { header: h, frames: [{ acked_ranges: [[1, '2']] }] }),
        ev('transport:packet_received', { header: h, frames: [{ acked_ranges: [[1, 2, 3]] }] }),
        ev('transport:packet_received', { header: h, frames: { acked_ranges: [] } }),
        ev('transport:packet_sent', { header: X }),
        ev('recovery:packet_lost', { header: { seq_rel: '5' } }),
        ev('recovery:metrics_updated', { cwnd_packets: 2, congestion_window: 2, ssthresh: 1, packets_in_flight: X }),
        ev('recovery:metrics_updated', {
          cwnd_packets: 2,
          congestion_window: 2,
          ssthresh: 1,
          packets_in_flight: 1,
          latest_rtt: '5',
        }),
        ev('recovery:congestion_state_updated', { new: 5 }),
        ev('transport:connection_state_updated', { new: { toString: 'x' } }),
        ev('lftp:transfer_done', { size: '10', elapsed_ms: 1, sha256: 'ab' }),
        ev('lftp:transfer_failed', { code: 'IO', message: null }),
        // Well-formed: the RTTs may be null (no sample yet), a datagram may have no raw length or frames.
        ev('recovery:metrics_updated', {
          cwnd_packets: 2,
          congestion_window: 2896,
          ssthresh: -1,
          packets_in_flight: 0,
          smoothed_rtt: null,
          latest_rtt: null,
        }),
        ev('transport:connection_state_updated', { new: X }),
      ]),
    ]);
    expect(m.malformed).toBe(17);
    expect(drawn(m).map((d) => [d.type, d.seqRel, d.ackRel, d.length])).toEqual([['syn', 0, 0, 24]]);
    expect(m.losses).toBe(0);
    // One metrics point taken: cwnd 2, no ssthresh, no RTT yet.
    expect([m.series.metricsPoints, m.series.maxPackets, m.rtt.count, m.series.srttSpread.max]).toEqual([1, 2, 0, 0]);
    expect([m.phases, m.done, m.failed]).toEqual([[], null, null]);
    // A string where a string belongs is drawn, escaped.
    expect(m.states.map((s) => s.state)).toEqual([X]);
    const svg = ladderSvg(m);
    expect(svg).not.toContain('<img');
    expect(svg).toContain(esc(X));
    const html = reportHtml([{ traces: [trace('client', [])], model: m }]);
    expect(html).toMatch(/<th>malformed events left out<\/th><td>17<\/td>/);
  });

  it("a chat session's heartbeats: a seq or an RTT that is not a number is left out and counted", async () => {
    const v = await sessionView({
      ...trace('server', [
        { time: 1, name: 'chat:heartbeat_sent', data: { seq: 1 } },
        { time: 2, name: 'chat:heartbeat_sent', data: { seq: '2' } },
        { time: 3, name: 'chat:heartbeat_answered', data: { seq: 1, rtt_ms: '<b>' } },
        { time: 4, name: 'chat:heartbeat_timeout', data: { timeout_ms: '1000', last_answer_ms_ago: 3 } },
        { time: 5, name: 'chat:connection_closed', data: { how: 1 } },
      ]),
      protocol: 'chat',
      configuration: { heartbeat_timeout_ms: '<b>' },
    });
    expect([v.sent, v.answered, v.rtt.count, v.unanswered]).toEqual([1, 0, 0, [{ seq: 1, sentAt: 1 }]]);
    expect([v.timeoutMs, v.malformed, v.closed]).toEqual([0, 3, null]);
    expect(v.drop).toEqual({ at: 4, timeoutMs: null, lastAnswerMsAgo: 3, serverStallMs: null });
  });

  it('a chat session of 300,000 heartbeats: read in linear time, drawn one marker per pixel column', async () => {
    const N = 300_000;
    function* beats(): Generator<QlogEvent> {
      for (let i = 1; i <= N; i++) {
        yield { time: i * 5000, name: 'chat:heartbeat_sent', data: { seq: i } };
        // Every tenth answer lost: the next one answers it too.
        if (i % 10 !== 0)
          yield { time: i * 5000 + 2, name: 'chat:heartbeat_answered', data: { seq: i, rtt_ms: 2 + (i % 7) } };
      }
    }
    const started = performance.now();
    const v = await sessionView({
      ...trace('server', beats()),
      protocol: 'chat',
      configuration: { heartbeat_timeout_ms: 15000 },
    });
    expect(performance.now() - started).toBeLessThan(10_000);
    // The last one's answer never came: it alone is unanswered.
    expect([v.sent, v.answered, v.rtt.count, v.unanswered]).toEqual([
      N,
      N - 1,
      N - N / 10,
      [{ seq: N, sentAt: N * 5000 }],
    ]);
    expect([v.rtt.min, v.rtt.max]).toEqual([2, 8]);
    const svg = heartbeatSvg(v);
    const markers = svg.match(/<path class="hb-(sent|unanswered)"/g) ?? [];
    expect(markers.length).toBeGreaterThan(400);
    expect(markers.length).toBeLessThanOrEqual(2 * 821);
    expect(svg.match(/<path class="hb-unanswered"/g)).toHaveLength(1);
    expect(svg.length).toBeLessThan(300_000);
  });

  it('the one escape: all five of & < > " \' in text and in attributes', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(esc(12.5)).toBe('12.5');
  });

  it('a large transfer (250,000 data packets, 750,000 events) is drawn in bounded markup: per pixel column, not per point', async () => {
    const N = 250_000;
    const m = await buildModel([trace('server', bigTransfer(N))]);
    expect([m.sent.server.data, m.retransmissions, m.losses]).toEqual([N + N / 1000, N / 1000, N / 1000]);
    expect(m.rtt.count).toBeGreaterThan(1000);
    const seq = timeSequenceSvg(m);
    const cwnd = congestionSvg(m);
    // 820 pixel columns: at most a few commands per column and series, whatever the number of points.
    const commands = (svg: string, cls: string) =>
      (new RegExp(`<path class="${cls}" d="([^"]*)"`).exec(svg)?.[1] ?? '').match(/[MLVhlm]/g)?.length ?? 0;
    for (const cls of ['sent', 'retx-dots', 'ackline', 'lossmark']) {
      expect(commands(seq, cls), cls).toBeGreaterThan(0);
      expect(commands(seq, cls), cls).toBeLessThanOrEqual(8 * 821);
    }
    for (const cls of ['cwnd', 'inflight', 'srtt']) {
      expect(commands(cwnd, cls), cls).toBeGreaterThan(100);
      expect(commands(cwnd, cls), cls).toBeLessThanOrEqual(4 * 821);
    }
    expect((seq + cwnd).length).toBeLessThan(400_000);
    // The line still reaches the highest value of every column: the sawtooth's peaks are all drawn.
    expect(cwnd).toMatch(/<path class="cwnd" d="M/);
    expect(m.series.maxPackets).toBe(49);
  });

  it("the charts end at the transfer's last datagram, not at the end of a side's TIME_WAIT", async () => {
    const m = await buildModel([
      trace('server', [
        ...bigTransfer(100),
        { time: 5000, name: 'transport:connection_state_updated', data: { old: 'TIME_WAIT', new: 'CLOSED' } },
      ]),
    ]);
    expect(m.endAt).toBeCloseTo(4999.8);
    expect(m.lastPacketAt).toBeLessThan(60);
    // The x axis' last tick is within the transfer (60 ms), not near 5000.
    const ticks = [
      ...timeSequenceSvg(m).matchAll(/<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="middle">([\d.]+)<\/text>/g),
    ].map((t) => Number(t[1]));
    expect(Math.max(...ticks)).toBeLessThanOrEqual(m.lastPacketAt);
    expect(Math.max(...ticks)).toBeGreaterThan(m.lastPacketAt / 2);
  });

  it('the heartbeat chart draws ▲ and its legend says ▲', async () => {
    const v = await sessionView({
      ...trace('server', [
        { time: 1, name: 'chat:heartbeat_sent', data: { seq: 1 } },
        { time: 2, name: 'chat:heartbeat_answered', data: { seq: 1, rtt_ms: 1 } },
      ]),
      protocol: 'chat',
    });
    // The marker's first point is its apex, above the other two: it points up.
    const [, , apexY, dy] = /<path class="hb-sent" d="M([\d.]+),([\d.]+)l4,(-?\d+)h-8z"/.exec(heartbeatSvg(v)) ?? [];
    expect(Number(dy)).toBeGreaterThan(0);
    expect(Number(apexY)).toBeGreaterThan(0);
    const html = reportHtml([{ traces: [{ ...trace('server', []), protocol: 'chat' }], model: null, session: v }]);
    expect(html).toContain('Heartbeats (▲ sent');
    expect(html).not.toContain('▼');
  });
});

/** A data sender's trace of n data packets (one in a thousand lost and sent again), each with its ACK and metrics. */
function* bigTransfer(n: number): Generator<QlogEvent> {
  let t = 0;
  for (let i = 1; i <= n; i++) {
    t += 0.2;
    yield pkt('sent', t, 'data', 'ACK|DAT', SERVER_ISN + i, CLIENT_ISN + 1, [i, 1]);
    yield pkt('received', t + 0.1, 'ack', 'ACK', CLIENT_ISN + 1, SERVER_ISN + i + 1, [1, i + 1]);
    if (i % 1000 === 0) {
      yield { time: t + 0.1, name: 'recovery:packet_lost', data: { header: { seq_rel: i } } };
      yield pkt('sent', t + 0.15, 'data', 'ACK|DAT', SERVER_ISN + i, CLIENT_ISN + 1, [i, 1]);
    }
    const cwnd = 10 + (i % 40);
    yield {
      time: t + 0.1,
      name: 'recovery:metrics_updated',
      data: {
        cwnd_packets: cwnd,
        congestion_window: cwnd * 1448,
        ssthresh: -1,
        packets_in_flight: i % 30,
        smoothed_rtt: 1 + (i % 17) / 100,
        latest_rtt: 1 + (i % 13) / 100,
      },
    };
  }
}
