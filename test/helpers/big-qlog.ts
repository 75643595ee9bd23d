/**
 * A synthetic qlog trace of a big transfer, written streaming (a chunk at a
 * time, never the whole file in memory): the data sender's side of a post
 * as common/lftp/node/qlog.ts writes it: the handshake (its SYN sent
 * twice), `packets` data packets each with its ACK and a metrics_updated, a
 * loss every `lossEvery` packets (SACK ranges on the ACKs until its
 * retransmission is acknowledged), and the teardown. Three events a packet,
 * about 250 bytes each: 140,000 packets make a 420,000-event, 100 MB trace.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const RS = '\x1e';
const ISN = 1000;
const PEER_ISN = 70_000;
const CONN = 0x1234abcd;

export interface BigQlog {
  events: number;
  bytes: number;
}

export function writeBigQlog(file: string, packets: number, lossEvery = 5000): BigQlog {
  const fd = openSync(file, 'w');
  let chunk = '';
  let bytes = 0;
  let events = 0;
  const flush = () => {
    bytes += writeSync(fd, chunk);
    chunk = '';
  };
  const rec = (r: string) => {
    chunk += `${RS}${r}\n`;
    if (chunk.length > 1 << 20) flush();
  };
  const ev = (time: number, name: string, data: string) => {
    events++;
    rec(`{"time":${time.toFixed(3)},"name":"${name}","data":${data}}`);
  };
  const pkt = (
    time: number,
    dir: 'sent' | 'received',
    type: string,
    flags: string,
    rel: [number, number],
    len = 24,
    frames = '',
  ) => {
    const [seqBase, ackBase] = dir === 'sent' ? [ISN, PEER_ISN] : [PEER_ISN, ISN];
    const header = `{"packet_type":"${type}","packet_number":${seqBase + rel[0]},"flags":"${flags}","seq":${seqBase + rel[0]},"ack":${rel[1] ? ackBase + rel[1] : 0},"seq_rel":${rel[0]},"ack_rel":${rel[1]},"window":256,"conn":${CONN}}`;
    ev(
      time,
      `transport:packet_${dir}`,
      `{"header":${header},"raw":{"length":${len},"payload_length":${len - 24}}${frames}}`,
    );
  };
  const state = (time: number, old: string | null, now: string) =>
    ev(time, 'transport:connection_state_updated', `{"old":${old ? `"${old}"` : 'null'},"new":"${now}"}`);
  rec(
    JSON.stringify({
      qlog_version: '0.4',
      qlog_format: 'JSON-SEQ',
      title: `lftp post big.bin (${packets} packets)`,
      trace: {
        vantage_point: { type: 'client', name: 'lftp client' },
        common_fields: {
          protocol_types: ['LFTP'],
          group_id: CONN.toString(16),
          time_format: 'relative',
          reference_time: 1_700_000_000_000,
        },
      },
    }),
  );
  state(0, null, 'SYN_SENT');
  pkt(0, 'sent', 'syn', 'SYN|POST', [0, 0], 40);
  pkt(200, 'sent', 'syn', 'SYN|POST', [0, 0], 40);
  pkt(201, 'received', 'syn_ack', 'SYN|ACK', [0, 1]);
  pkt(201.1, 'sent', 'ack', 'ACK', [1, 1]);
  state(201.1, 'SYN_SENT', 'ESTABLISHED');
  ev(201.2, 'recovery:congestion_state_updated', '{"old":null,"new":"slow_start","controller":"reno"}');
  let t = 202;
  let hole = -1;
  for (let i = 1; i <= packets; i++) {
    t += 0.05;
    pkt(t, 'sent', 'data', 'ACK|DAT', [i, 1], 1472);
    if (i % lossEvery === 0) hole = i;
    const sack = hole > 0 && i > hole ? `,"frames":[{"frame_type":"ack","acked_ranges":[[${hole + 1},${i + 1}]]}]` : '';
    pkt(t + 0.5, 'received', 'ack', 'ACK', [1, hole > 0 ? hole : i + 1], sack ? 32 : 24, sack);
    if (hole > 0 && i === hole + 3) {
      ev(
        t + 0.6,
        'recovery:packet_lost',
        `{"header":{"packet_type":"data","packet_number":${ISN + hole},"seq_rel":${hole}},"trigger":"reordering_threshold"}`,
      );
      pkt(t + 0.7, 'sent', 'data', 'ACK|DAT', [hole, 1], 1472);
      hole = -1;
    }
    const cwnd = 10 + (i % 40);
    ev(
      t + 0.5,
      'recovery:metrics_updated',
      `{"congestion_window":${cwnd * 1448},"ssthresh":-1,"bytes_in_flight":${(i % 30) * 1448},"smoothed_rtt":${(0.5 + (i % 17) / 100).toFixed(3)},"rtt_variance":0.1,"latest_rtt":${(0.5 + (i % 13) / 100).toFixed(3)},"packets_in_flight":${i % 30},"cwnd_packets":${cwnd}}`,
    );
  }
  t += 1;
  pkt(t, 'sent', 'end', 'ACK|END', [packets + 1, 1]);
  state(t, 'ESTABLISHED', 'END_SENT');
  pkt(t + 0.5, 'received', 'fin', 'ACK|FIN', [1, packets + 2]);
  pkt(t + 0.6, 'sent', 'ack', 'ACK', [packets + 2, 2]);
  state(t + 0.6, 'END_SENT', 'CLOSED');
  ev(
    t + 0.6,
    'lftp:transfer_done',
    `{"size":${packets * 1448},"sha256":"${'ab'.repeat(32)}","verified_by":"server","elapsed_ms":${t.toFixed(3)}}`,
  );
  flush();
  closeSync(fd);
  return { events, bytes };
}
