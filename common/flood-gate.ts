/**
 * Flood control as IRC servers do it (RFC 1459 section 8.10, ngircd's
 * penalty, InspIRCd's commandrate): every command costs credits; a session
 * holds at most `burst` of them and earns `perSecond` back. A command that
 * finds too few credits waits until there are enough. Pure: the clock is
 * passed in. The server gates what it reads with it; the client uses the
 * same gate, with the figures WELCOME gives, to pace what it sends (a long
 * paste goes out at the server's rate instead of being refused).
 */
import { FrameType } from './messages.js';

export interface FloodPolicy {
  /** Credits a session may spend at once. */
  burst: number;
  /** Credits earned back per second. */
  perSecond: number;
}

export const DEFAULT_FLOOD: FloodPolicy = { burst: 20, perSecond: 5 };

type CostKind = 'free' | 'message' | 'request' | 'nick';

const COST_KIND: Partial<Record<number, CostKind>> = {
  [FrameType.HELLO]: 'free',
  [FrameType.BYE]: 'free',
  [FrameType.HEARTBEAT_ACK]: 'free',
  [FrameType.WHO]: 'request',
  [FrameType.FILES]: 'request',
  [FrameType.TICKET_REQUEST]: 'request',
  [FrameType.NICK]: 'nick',
};

/**
 * What a frame a client sends costs: a message 1, plus 1 per 4 KiB of body
 * (so a large one costs more, and the largest text still fits the default
 * burst); WHO, FILES and TICKET_REQUEST 2; NICK 5 (a rename is announced to
 * everyone); HELLO, BYE and HEARTBEAT_ACK nothing.
 */
export function frameCost(type: number, bodyBytes: number): number {
  switch (COST_KIND[type] ?? 'message') {
    case 'free':
      return 0;
    case 'message':
      return 1 + Math.floor(bodyBytes / 4096);
    case 'request':
      return 2;
    case 'nick':
      return 5;
  }
}

/**
 * What the server reads from its history for a session (a HISTORY_REQUEST's answer, a JOIN's history) costs
 * its credits too: 1 per 32 KiB of the answer, at least 1. Reading is cheaper than storing and sending a
 * message to a room (1 per 4 KiB), but not free: 200 messages of 32 KB cost 200 credits, 40 s at the default
 * rate, so one session cannot have the server read for it faster than about 160 KB/s.
 */
export const READ_BYTES_PER_CREDIT = 32 * 1024;

export function readCost(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / READ_BYTES_PER_CREDIT));
}

export class FloodGate {
  private credit: number;
  private last: number;

  constructor(
    readonly policy: FloodPolicy,
    now: number,
  ) {
    this.credit = policy.burst;
    this.last = now;
  }

  /** Spends `cost` credits if there are that many now. */
  take(cost: number, now: number): boolean {
    this.refill(now);
    // A cost above the burst could never be paid: it is capped to a full bucket.
    const due = Math.min(cost, this.policy.burst);
    if (this.credit < due) return false;
    this.credit -= due;
    return true;
  }

  /**
   * Spends `cost` credits whatever it is (a read's cost may be more than the burst), once the session has what
   * take() would ask for it: the credits may go below zero, and what comes next waits until they are back.
   */
  debit(cost: number, now: number): boolean {
    this.refill(now);
    if (this.credit < Math.min(cost, this.policy.burst)) return false;
    this.credit -= cost;
    return true;
  }

  /** Milliseconds until `cost` credits are there (0: now). */
  waitMs(cost: number, now: number): number {
    this.refill(now);
    const missing = Math.min(cost, this.policy.burst) - this.credit;
    return missing <= 0 ? 0 : Math.ceil((missing / this.policy.perSecond) * 1000);
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.credit = Math.min(this.policy.burst, this.credit + ((now - this.last) / 1000) * this.policy.perSecond);
      this.last = now;
    }
  }
}
