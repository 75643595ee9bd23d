/**
 * One LFTP transfer as the report draws it, from one side's qlog trace or
 * both (qlog-file.ts), built as the traces stream by (merged in time order),
 * in memory that does not grow with the transfer: the datagrams the ladder
 * draws (ladder-sample.ts), which of them arrived when both sides' traces
 * are given (delivery.ts; with one side's, a datagram's delivery is
 * unknown), counts for the summary, and the data sender's view in time bins
 * for the charts (transfer-series.ts). Times are ms from the transfer's
 * first event, on one clock (the traces' reference times are wall-clock, so
 * two machines' traces are as aligned as their clocks).
 *
 * A trace is input: every field is checked here, where events become the
 * model. A number must be a finite JSON number (not a string of digits, not
 * markup), a name a string; an event with a field that is not what it should
 * be is left out and counted (`malformed`), never drawn.
 */
import type { QlogEvent, QlogTrace } from './qlog-file.js';
import { Delivery, other, type Side } from './delivery.js';
import { LadderSample, stateLog, type LadderEntry } from './ladder-sample.js';
import { Quantiles } from './quantiles.js';
import { TransferSeries } from './transfer-series.js';
import { clockOffsets } from './clock-offset.js';
import { finite, metricsPoint, packetFields, record, type PacketFields } from './trace-fields.js';

export { finite } from './trace-fields.js';

export interface Datagram {
  /** The side that sent it. */
  from: Side;
  type: string;
  flags: string;
  seq: number;
  ack: number;
  seqRel: number;
  ackRel: number;
  window: number;
  length: number;
  /** SACK blocks (relative), on ACKs. */
  sack: Array<[number, number]>;
  sentAt: number | null;
  receivedAt: number | null;
  /** The same packet (type and seq) was sent before. */
  retransmission: boolean;
}

export interface StateChange {
  side: Side;
  at: number;
  state: string;
}

export interface TransferModel {
  title: string;
  sides: Side[];
  /** The datagrams the ladder draws, and counted rows for those it does not. */
  ladder: LadderEntry[];
  /** The states both sides went through (the first and last ones, when there are very many). */
  states: StateChange[];
  /** The side that sent the file's data, if a trace shows it. */
  dataSender: Side | null;
  /** Datagrams each side sent, and how many of them data. */
  sent: Record<Side, { all: number; data: number }>;
  retransmissions: number;
  /** Packets the data sender declared lost. */
  losses: number;
  /** Datagrams sent and never received; null without both sides' traces (then it cannot be known). */
  neverReceived: number | null;
  rtoFires: number;
  /** The RTT samples the data sender took (each new latest_rtt). */
  rtt: Quantiles;
  /** The controller's phases, in the order first seen. */
  phases: string[];
  series: TransferSeries;
  /** File size and how long it took, when a trace says it finished. */
  done: { size: number; elapsedMs: number; sha256: string } | null;
  failed: { code: string; message: string } | null;
  /** The last event, and the last datagram (the charts end there; a side may linger after it, in TIME_WAIT). */
  endAt: number;
  lastPacketAt: number;
  /** Events left out because a field was missing or of the wrong type (a number that was not one, ...). */
  malformed: number;
  /** ms added to the server's times to put them on the client's clock (clock-offset.ts); 0: taken as they are. */
  clockOffset: number;
}

/** The traces' events merged in time order (each trace's own order kept), into the model. */
export async function buildModel(traces: QlogTrace[]): Promise<TransferModel> {
  const b = new ModelBuilder(traces);
  const offsets = await clockOffsets(traces);
  b.clockOffset(offsets[traces.findIndex((t) => t.side === 'server')] ?? 0);
  const its = traces.map((t) => iterate(t.events));
  const heads = await Promise.all(its.map((it) => it.next()));
  let start: number | null = null;
  for (;;) {
    let k = -1;
    let best = Infinity;
    heads.forEach((h, i) => {
      if (h.done) return;
      const at = traces[i]!.referenceTime + offsets[i]! + h.value.time;
      if (k < 0 || at < best) [k, best] = [i, at];
    });
    if (k < 0) break;
    start ??= best;
    b.event(traces[k]!.side, best - start, (heads[k] as IteratorYieldResult<QlogEvent>).value);
    heads[k] = await its[k]!.next();
  }
  return b.finish();
}

function iterate(events: QlogTrace['events']): AsyncIterator<QlogEvent> {
  if (Symbol.asyncIterator in events) return events[Symbol.asyncIterator]();
  return (async function* () {
    yield* events;
  })();
}

/** The model, one event at a time. */
class ModelBuilder {
  private readonly m: TransferModel;
  private readonly delivery: Delivery;
  private readonly ladder = new LadderSample();
  private readonly states = stateLog();
  /** Received datagrams whose sending is in the other trace: matched once the merge is a millisecond past them. */
  private arriving: Array<{ d: Datagram; at: number }> = [];
  private arrived = 0;
  private readonly highestData: Record<Side, number> = { client: -Infinity, server: -Infinity };
  private readonly controlSeen: Record<Side, Set<string>> = { client: new Set(), server: new Set() };
  /** Each side's last SYN: a RETRY it receives says that it arrived. */
  private readonly lastSyn: Record<Side, Datagram | null> = { client: null, server: null };
  private lastRtt: number | null = null;

  constructor(traces: QlogTrace[]) {
    const sides = traces.map((t) => t.side);
    this.delivery = new Delivery(new Set(sides));
    this.m = {
      title: traces.map((t) => t.title).join(' · '),
      sides,
      ladder: [],
      states: [],
      dataSender: null,
      sent: { client: { all: 0, data: 0 }, server: { all: 0, data: 0 } },
      retransmissions: 0,
      losses: 0,
      neverReceived: null,
      rtoFires: 0,
      rtt: new Quantiles(),
      phases: [],
      series: new TransferSeries(),
      done: null,
      failed: null,
      endAt: 0,
      lastPacketAt: 0,
      malformed: 0,
      clockOffset: 0,
    };
  }

  clockOffset(ms: number): void {
    this.m.clockOffset = ms;
  }

  event(side: Side, now: number, e: QlogEvent): void {
    this.m.endAt = Math.max(this.m.endAt, now);
    this.arrive(now);
    if (!this.take(side, now, e)) this.m.malformed++;
  }

  finish(): TransferModel {
    this.arrive(Infinity);
    const m = this.m;
    m.ladder = this.ladder.entries();
    m.states = [...this.states.head, ...this.states.tail].sort((a, b) => a.at - b.at);
    if (m.sides.includes('client') && m.sides.includes('server')) m.neverReceived = this.delivery.neverReceived();
    m.phases = m.series.phases.names;
    return m;
  }

  /** One event into the model; false if a field it needs is malformed (then nothing of it is taken). */
  private take(side: Side, now: number, e: QlogEvent): boolean {
    const data = e.data;
    const m = this.m;
    switch (e.name) {
      case 'transport:packet_sent':
      case 'transport:packet_received':
        return this.packet(side, now, data, e.name === 'transport:packet_sent');
      case 'transport:connection_state_updated':
        if (typeof data['new'] !== 'string') return false;
        this.states.push({ side, at: now, state: data['new'] });
        return true;
      case 'recovery:packet_lost': {
        const seqRel = finite(record(data['header'])['seq_rel']);
        if (seqRel === null) return false;
        m.losses++;
        m.series.losses.add(now, seqRel);
        return true;
      }
      case 'recovery:loss_timer_updated':
        if (data['timer_type'] === 'rto') m.rtoFires++;
        return true;
      case 'recovery:metrics_updated':
        return this.metrics(now, data);
      case 'recovery:congestion_state_updated':
        if (typeof data['new'] !== 'string') return false;
        m.series.phases.add(now, data['new']);
        return true;
      case 'lftp:transfer_done': {
        const [size, elapsedMs, sha256] = [finite(data['size']), finite(data['elapsed_ms']), data['sha256']];
        if (size === null || elapsedMs === null || typeof sha256 !== 'string') return false;
        m.done = { size, elapsedMs, sha256 };
        return true;
      }
      case 'lftp:transfer_failed': {
        const [code, message] = [data['code'], data['message']];
        if (typeof code !== 'string' || typeof message !== 'string') return false;
        m.failed = { code, message };
        return true;
      }
      default:
        return true;
    }
  }

  private packet(side: Side, now: number, data: Record<string, unknown>, out: boolean): boolean {
    const p = packetFields(data);
    if (!p) return false;
    const m = this.m;
    m.lastPacketAt = Math.max(m.lastPacketAt, now);
    const d: Datagram = {
      from: out ? side : other(side),
      ...p,
      sentAt: out ? now : null,
      receivedAt: out ? null : now,
      retransmission: out && this.sentBefore(side, p),
    };
    if (!out) {
      if (p.type === 'ack') m.series.ackReceived(side, now, p.ackRel, p.sack);
      const syn = this.lastSyn[side];
      if (p.type === 'retry' && syn) this.delivery.answered(syn, now);
      if (this.delivery.traced.has(d.from)) this.arriving.push({ d, at: now });
      else this.ladder.add(d);
      return true;
    }
    m.sent[side].all++;
    if (d.retransmission) m.retransmissions++;
    if (p.type === 'data') {
      m.sent[side].data++;
      m.dataSender = side;
      m.series.dataSent(side, now, p.seqRel, d.retransmission);
    }
    if (p.type === 'syn') this.lastSyn[side] = d;
    this.delivery.sent(d);
    this.ladder.add(d);
    return true;
  }

  /** The same packet (type and seq) sent before by this side: data by its seq, control packets remembered (a few). */
  private sentBefore(side: Side, p: PacketFields): boolean {
    if (p.type === 'ack') return false;
    if (p.type === 'data') {
      const again = p.seqRel <= this.highestData[side];
      if (!again) this.highestData[side] = p.seqRel;
      return again;
    }
    const seen = this.controlSeen[side];
    const key = `${p.type}:${p.seq}`;
    if (seen.has(key)) return true;
    if (seen.size < 4096) seen.add(key);
    return false;
  }

  /** Received datagrams up to a millisecond before now, paired with their sending (or drawn as of unknown send). */
  private arrive(now: number): void {
    const list = this.arriving;
    while (this.arrived < list.length && list[this.arrived]!.at + 1 < now) {
      const { d, at } = list[this.arrived++]!;
      if (!this.delivery.received(d, at)) this.ladder.add(d);
    }
    if (this.arrived > 1024 && this.arrived * 2 > list.length) {
      this.arriving = list.slice(this.arrived);
      this.arrived = 0;
    }
  }

  /** A metrics_updated event; false if one of its figures is not a number. */
  private metrics(now: number, d: Record<string, unknown>): boolean {
    const p = metricsPoint(d);
    if (!p) return false;
    this.m.series.metrics(now, p);
    if (p.latestRtt !== null && p.latestRtt > 0 && p.latestRtt !== this.lastRtt) this.m.rtt.add(p.latestRtt);
    this.lastRtt = p.latestRtt;
    return true;
  }
}
