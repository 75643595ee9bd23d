/** The trace report's model of a transfer (client/trace-report/transfer-model.ts, ladder.ts): pure, from synthetic traces. */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../client/trace-report/transfer-model.js';
import { ladderRows } from '../../client/trace-report/ladder.js';
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
});
