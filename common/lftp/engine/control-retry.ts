/**
 * One control packet (SYN, SYN-ACK, END, FIN) waiting for its answer: sent
 * again on a timer that doubles (RFC 6298's backoff, capped), or at a steady
 * pace while the server has the client queued, until it is answered, it has
 * been tried maxTries times, or a deadline passes. Pure.
 */
import type { Packet } from './packet.js';
import type { LftpErrorCode } from './errors.js';
import type { ControlPacket } from './events.js';

/** Control packets are retried at most this far apart. */
const CONTROL_MAX_INTERVAL_MS = 2000;
/** A queued client polls the server this often. */
export const QUEUE_POLL_MS = 1000;

export class ControlRetry {
  private constructor(
    /** The packet as first sent; conn and window are filled in when it goes out again. */
    readonly packet: Omit<Packet, 'conn' | 'window'>,
    readonly what: ControlPacket,
    readonly giveUp: LftpErrorCode,
    readonly maxTries: number,
    private readonly sentAt: number,
    /** Give up at this time even if tries remain (handshake: --connect-timeout). */
    private readonly giveUpAt: number,
    public interval: number,
    public deadline: number,
    public tries: number,
  ) {}

  /** Sent once now; the first wait is the current RTO. */
  static sent(
    packet: Omit<Packet, 'conn' | 'window'>,
    what: ControlPacket,
    giveUp: LftpErrorCode,
    maxTries: number,
    now: number,
    rtoMs: number,
    limitMs: number,
  ): ControlRetry {
    return new ControlRetry(packet, what, giveUp, maxTries, now, now + limitMs, rtoMs, now + rtoMs, 1);
  }

  /** The same packet polled at a steady pace, without end, while queued. */
  polling(now: number): ControlRetry {
    return new ControlRetry(
      this.packet,
      'SYN (queued)',
      this.giveUp,
      Infinity,
      now,
      Infinity,
      QUEUE_POLL_MS,
      now + QUEUE_POLL_MS,
      0,
    );
  }

  /**
   * Another packet in its place, sent now (the SYN again with a RETRY's token): one more try of the same
   * handshake, under the same deadline; the next wait is the current RTO (at most the usual 2 s).
   */
  replaced(packet: Omit<Packet, 'conn' | 'window'>, now: number, rtoMs: number): ControlRetry {
    const wait = Math.min(rtoMs, CONTROL_MAX_INTERVAL_MS);
    return new ControlRetry(
      packet,
      this.what,
      this.giveUp,
      this.maxTries,
      now,
      this.giveUpAt,
      wait,
      now + wait,
      this.tries + 1,
    );
  }

  get isPolling(): boolean {
    return !Number.isFinite(this.maxTries);
  }

  /** The round trip its answer measures, or null when it was sent more than once (Karn: which send is answered is unknown). */
  rttSample(now: number): number | null {
    return this.tries === 1 ? now - this.sentAt : null;
  }

  /** What its timer says at now: nothing yet, send again (the wait already backed off), or give up. */
  poll(now: number): 'wait' | 'resend' | 'give-up' {
    if (now < this.deadline) return 'wait';
    if (this.tries >= this.maxTries || now >= this.giveUpAt) return 'give-up';
    if (!this.isPolling) this.interval = Math.min(this.interval * 2, CONTROL_MAX_INTERVAL_MS);
    this.tries++;
    this.deadline = now + this.interval;
    return 'resend';
  }
}
