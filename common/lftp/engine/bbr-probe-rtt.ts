/**
 * BBR's ProbeRTT (draft-ietf-ccwg-bbr, "ProbeRTT"): when no RTT sample as low
 * as the one kept has come for 5 s, the flow holds its flight to half a BDP
 * (at least 4 packets) for 200 ms and a round, so that a queue it or its
 * neighbours built drains and the min RTT is measured again; flows sharing a
 * bottleneck do it together and agree on the min RTT. Part of BbrCongestion
 * (bbr.ts), whose state it reads and sets.
 */
import type { DeliverySample } from './congestion.js';
import type { BbrCongestion } from './bbr.js';

export const PROBE_RTT_CWND_GAIN = 0.5;
export const PROBE_RTT_DURATION_MS = 200;
const MIN_PIPE_CWND = 4;

export class ProbeRtt {
  private doneStamp = 0;
  private roundDone = false;
  /** Restarting from idle: the silence measured the min RTT already. */
  idleRestart = false;

  constructor(private readonly b: BbrCongestion) {}

  /** CheckProbeRTT, on every ACK. */
  check(s: DeliverySample): void {
    const b = this.b;
    if (b.state !== 'probe_rtt' && b.rtt.probeRttExpired && !this.idleRestart) {
      b.state = 'probe_rtt';
      b.pacingGain = 1;
      b.cwndGain = PROBE_RTT_CWND_GAIN;
      b.saveCwnd();
      this.doneStamp = 0;
      b.probeBw.stopping();
      b.startRound();
    }
    if (b.state === 'probe_rtt') this.handle(s);
    if (s.delivered > 0) this.idleRestart = false;
  }

  private handle(s: DeliverySample): void {
    if (this.doneStamp === 0 && s.inflight <= this.cwnd()) {
      this.doneStamp = s.now + PROBE_RTT_DURATION_MS;
      this.roundDone = false;
      this.b.startRound();
    } else if (this.doneStamp !== 0) {
      if (this.b.roundStart) this.roundDone = true;
      if (this.roundDone) this.checkDone(s.now);
    }
  }

  /** CheckProbeRTTDone: after 200 ms and a round, back to ProbeBW (or Startup, if the pipe was never full). */
  checkDone(now: number): void {
    const b = this.b;
    if (this.doneStamp === 0 || now <= this.doneStamp) return;
    b.rtt.probeRttDone(now);
    b.restoreCwnd();
    b.resetShortTermModel();
    if (b.fullPipe.reached) b.probeBw.enterAfterProbeRtt(now);
    else b.enterStartup();
  }

  /** The window ProbeRTT holds the flow to. */
  cwnd(): number {
    return Math.max(this.b.bdpMultiple(PROBE_RTT_CWND_GAIN), MIN_PIPE_CWND);
  }
}
