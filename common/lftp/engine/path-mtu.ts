/**
 * Datagram Packetization Layer Path MTU Discovery (RFC 8899) for the data
 * sender, as a pure state machine. LFTP's datagrams grow by whole packets: a
 * packed data datagram carries `packets` consecutive data packets back to back
 * (docs/LFTP.md, "Datagram size"), so the sizes searched are 24 + k × mss
 * (as version 1; a protected one is 16 bytes longer on the wire).
 *
 * States (RFC 8899 §5.2): BASE (one packet a datagram, which the handshake
 * proved), SEARCHING (probing the candidates, largest first), SEARCH_COMPLETE
 * (the largest confirmed size in use), and back to BASE when a black hole is
 * suspected (a retransmission timeout while datagrams are packed). DISABLED
 * when the peer does not take packed datagrams, this side cannot send with
 * the don't-fragment bit, or the transfer is too short to gain anything.
 *
 * A probe is a packed datagram of the size probed holding packets already
 * sent and still in flight: duplicates, so that losing it loses no data. It
 * is not counted in flight and its loss is not a congestion signal; its answer
 * is the receiver's report of the largest datagram it has had (the ACK
 * trailer). A probe not confirmed within PROBE_TIMER is sent again, up to
 * MAX_PROBES times (RFC 8899 §5.1.2), before the next smaller candidate.
 */

export type PmtuState = 'disabled' | 'base' | 'searching' | 'search_complete';

/** RFC 8899 §5.1.2: probes of one size before it is taken as too big. */
export const MAX_PROBES = 3;
/** The probe timer: PROBE_TIMER_RTTS smoothed RTTs, at least PROBE_TIMER_MIN_MS. */
export const PROBE_TIMER_RTTS = 3;
export const PROBE_TIMER_MIN_MS = 50;
/** Link MTUs tried, largest first: the largest the peer and this side take (loopback), then jumbo frames. */
export const CANDIDATE_MTUS = [65_535, 9000];
/** IPv4 and UDP headers: an MTU less these is the largest UDP payload. */
export const IP_UDP_HEADERS = 28;
/** Probing costs a few datagrams: a transfer shorter than this many packets does not bother. */
export const MIN_PACKETS_TO_PROBE = 256;

/** What a probe is: how many packets it carries and its size as version 1 (what the receiver reports). */
export interface ProbeSize {
  packets: number;
  size: number;
}

/**
 * What changed, for the edge (--verbose, qlog): a probe sent, confirmed or given up, a size taken or dropped;
 * `size` as on the wire (a protected datagram's tag counted: what the path carries).
 */
export type PmtuChange =
  | { what: 'probe'; size: number; packets: number; try: number }
  | { what: 'confirmed'; size: number; packets: number }
  | { what: 'too_big'; size: number; packets: number; tries: number }
  | { what: 'done'; size: number; packets: number }
  | { what: 'black_hole'; size: number; packets: number };

export class PathMtu {
  state: PmtuState;
  /** Packets per datagram in use (PLPMTU, in packets): 1 until a larger size is confirmed. */
  packets = 1;
  private readonly candidates: number[];
  private probe: { packets: number; size: number; tries: number; sentAt: number; timer: number } | null = null;
  /** The probe that timed out and is to be sent again, with its tries so far. */
  private again: { packets: number; size: number; tries: number } | null = null;

  /**
   * @param mss the transfer's mss
   * @param maxSize the largest datagram (as version 1) both ends take, or 0: no probing
   * @param overhead bytes a datagram has on the wire beyond its version-1 form (16 when protected)
   */
  constructor(
    private readonly mss: number,
    maxSize: number,
    private readonly overhead: number,
  ) {
    const fit = (size: number) => Math.floor((size - 24) / mss);
    const most = fit(maxSize);
    this.candidates = [
      ...new Set(CANDIDATE_MTUS.map((mtu) => Math.min(most, fit(mtu - IP_UDP_HEADERS - overhead)))),
    ].filter((k) => k >= 2);
    this.state = this.candidates.length > 0 ? 'searching' : 'disabled';
  }

  /** A datagram of k packets, as version 1. */
  sizeOf(packets: number): number {
    return 24 + packets * this.mss;
  }

  /** A datagram of k packets on the wire. */
  wire(packets: number): number {
    return this.sizeOf(packets) + this.overhead;
  }

  /** The size probed next, if a probe is due now: the next candidate, or the last one again after its timer. */
  due(): ProbeSize | null {
    if (this.state !== 'searching' || this.probe !== null) return null;
    if (this.again) return { packets: this.again.packets, size: this.again.size };
    const packets = this.candidates[0]!;
    return { packets, size: this.sizeOf(packets) };
  }

  /** The probe went; `srtt` sets its timer. */
  sent(now: number, p: ProbeSize, srtt: number | null): PmtuChange {
    const tries = (this.again?.packets === p.packets ? this.again.tries : 0) + 1;
    const timer = Math.max(PROBE_TIMER_MIN_MS, PROBE_TIMER_RTTS * (srtt ?? PROBE_TIMER_MIN_MS));
    this.again = null;
    this.probe = { ...p, tries, sentAt: now, timer };
    return { what: 'probe', size: this.wire(p.packets), packets: p.packets, try: tries };
  }

  /** When the probe out times out, if one is. */
  deadline(): number | null {
    return this.probe ? this.probe.sentAt + this.probe.timer : null;
  }

  /**
   * The receiver's report of the largest datagram it has had (the ACK trailer): confirms the probe out
   * if that is at least its size. A confirmed size is taken at once, and the search is over (the candidates
   * go largest first).
   */
  onLargestReceived(largest: number): PmtuChange[] {
    const p = this.probe;
    if (!p || largest < p.size) return [];
    this.probe = null;
    this.packets = p.packets;
    this.state = 'search_complete';
    const size = this.wire(p.packets);
    return [
      { what: 'confirmed', size, packets: p.packets },
      { what: 'done', size, packets: p.packets },
    ];
  }

  /** The probe timer: the probe is due again, or after MAX_PROBES its size is given up for the next candidate. */
  onTimer(now: number): PmtuChange[] {
    const p = this.probe;
    if (!p || now < p.sentAt + p.timer) return [];
    this.probe = null;
    if (p.tries < MAX_PROBES) {
      this.again = p;
      return [];
    }
    this.candidates.shift();
    const changes: PmtuChange[] = [{ what: 'too_big', size: this.wire(p.packets), packets: p.packets, tries: p.tries }];
    if (this.candidates.length === 0) {
      this.state = 'search_complete';
      changes.push({ what: 'done', size: this.wire(this.packets), packets: this.packets });
    }
    return changes;
  }

  /** A retransmission timeout: if datagrams were packed, the path may have shrunk (RFC 8899 §4.3): back to one. */
  onTimeout(): PmtuChange | null {
    if (this.packets === 1) return null;
    const was = { size: this.wire(this.packets), packets: this.packets };
    this.packets = 1;
    this.state = 'base';
    this.probe = this.again = null;
    return { what: 'black_hole', ...was };
  }
}
