/** The trace report's model of a transfer (client/trace-report/transfer-model.ts, ladder.ts): pure, from synthetic traces. */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../client/trace-report/transfer-model.js';
import { ladderRows, ladderSvg } from '../../client/trace-report/ladder.js';
import { esc } from '../../client/trace-report/svg.js';
import { congestionSvg, timeSequenceSvg } from '../../client/trace-report/charts.js';
import { reportHtml } from '../../client/trace-report/report-html.js';
import { sessionView } from '../../client/trace-report/heartbeat-timeline.js';
import type { QlogEvent, QlogTrace } from '../../client/trace-report/qlog-file.js';

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

function trace(side: 'client' | 'server', events: QlogEvent[]): QlogTrace {
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

describe('the trace model', () => {
  it('a lost SYN-ACK and its retransmission: the copy that arrived is the later one; lost and retransmitted marked', () => {
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
    const m = buildModel([client, server]);
    const synAcks = m.datagrams.filter((d) => d.type === 'syn_ack');
    expect(synAcks.map((d) => [d.sentAt, d.receivedAt, d.retransmission])).toEqual([
      [2, null, false],
      [1002, 1010, true],
    ]);
    expect(m.datagrams.filter((d) => d.type === 'syn').map((d) => [d.sentAt, d.receivedAt, d.retransmission])).toEqual([
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
  });

  it("one side's trace alone: what it received has no send time; nothing can be called lost", () => {
    const m = buildModel([
      trace('client', [
        pkt('sent', 0, 'syn', 'SYN', CLIENT_ISN, 0, [0, 0]),
        pkt('received', 9, 'syn_ack', 'SYN|ACK', SERVER_ISN, CLIENT_ISN + 1, [0, 1]),
      ]),
    ]);
    expect(m.datagrams.map((d) => [d.from, d.sentAt, d.receivedAt])).toEqual([
      ['client', 0, null],
      ['server', null, 9],
    ]);
    expect(m.dataSender).toBeNull();
  });

  it('a trace is input: an event whose numbers are not numbers (or whose names are not strings) is left out and counted', () => {
    const X = '"><img src=x onerror=alert(1)>';
    const h = { packet_type: 'syn', flags: 'SYN', seq: CLIENT_ISN, ack: 0, seq_rel: 0, ack_rel: 0, window: 64 };
    const ev = (name: string, data: Record<string, unknown>, time = 1): QlogEvent => ({ time, name, data });
    const m = buildModel([
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
    expect(m.datagrams.map((d) => [d.type, d.seqRel, d.ackRel, d.length])).toEqual([['syn', 0, 0, 24]]);
    expect(m.losses).toEqual([]);
    expect(m.metrics.map((p) => [p.cwnd, p.ssthresh, p.srtt, p.latestRtt])).toEqual([[2, null, null, null]]);
    expect([m.phases, m.done, m.failed]).toEqual([[], null, null]);
    // A string where a string belongs is drawn, escaped.
    expect(m.states.map((s) => s.state)).toEqual([X]);
    const svg = ladderSvg(m);
    expect(svg).not.toContain('<img');
    expect(svg).toContain(esc(X));
    const html = reportHtml([{ traces: [trace('client', [])], model: m }]);
    expect(html).toMatch(/<th>malformed events left out<\/th><td>17<\/td>/);
  });

  it("a chat session's heartbeats: a seq or an RTT that is not a number is left out and counted", () => {
    const v = sessionView({
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
    expect(v.beats).toEqual([{ seq: 1, sentAt: 1, answeredAt: null, rtt: null }]);
    expect([v.timeoutMs, v.malformed, v.closed]).toEqual([0, 3, null]);
    expect(v.drop).toEqual({ at: 4, timeoutMs: null, lastAnswerMsAgo: 3, serverStallMs: null });
  });

  it('the one escape: all five of & < > " \' in text and in attributes', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(esc(12.5)).toBe('12.5');
  });

  it('a large transfer (250,000 data packets and metrics points) is drawn: no call spreads them as arguments', () => {
    const m = buildModel([trace('server', [])]);
    const N = 250_000;
    m.dataSender = 'server';
    m.endAt = N;
    for (let i = 0; i < N; i++) {
      m.datagrams.push({
        from: 'server',
        type: 'data',
        flags: 'ACK|DAT',
        seq: SERVER_ISN + 1 + i,
        ack: CLIENT_ISN + 1,
        seqRel: 1 + i,
        ackRel: 1,
        window: 64,
        length: 1472,
        sack: [],
        sentAt: i,
        receivedAt: null,
        retransmission: false,
      });
      m.metrics.push({ at: i, cwnd: 10 + (i % 7), ssthresh: null, inFlight: 5, srtt: 1, latestRtt: 1 });
    }
    expect(timeSequenceSvg(m)).toContain('<path class="sent"');
    expect(congestionSvg(m)).toContain('<path class="cwnd"');
  });
});
