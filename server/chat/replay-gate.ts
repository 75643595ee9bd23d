/**
 * A resuming session's output while it is sent what it missed: the replay's
 * parts go out as they come, and the live frames that arrive meanwhile wait
 * here, in order, until the last part has gone (session-requests.ts says why
 * that is exactly once). Parts are a quarter of --max-sendq, and the next is
 * asked for once less than another quarter waits, so a long replay moves at
 * the client's pace and never comes near the bound a slow reader is dropped at.
 */

import type { WireErrorCode } from '../../common/errors.js';

/** The connection the gate is in front of. */
export interface ReplayOutput {
  send(frame: Buffer): void;
  /** Bytes still waiting to be taken by the client. */
  readonly queuedBytes: number;
  fail(code: WireErrorCode, message: string): void;
}

/** A part asked for and not come within this long: the store thread was restarted meanwhile (stalled()). */
export const REPLAY_STALL_MS = 30_000;

export class ReplayGate {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private waitingForDrain = false;
  /** When the part now awaited was asked for (the resume itself asks for the first). */
  private askedAt: number | null = null;
  private on = false;

  constructor(
    private readonly out: ReplayOutput,
    /** Asks the store thread for the next part. */
    private readonly next: () => void,
    /** Live bytes that may wait; parts are asked for while less than a quarter of it waits to be sent. */
    private readonly maxBytes: number,
    private readonly now: () => number,
  ) {}

  get active(): boolean {
    return this.on;
  }

  /** A resume was sent to the store thread: what comes from the bus is held until its replay has been sent. */
  begin(): void {
    this.on = true;
    this.askedAt = this.now();
  }

  /** No part for REPLAY_STALL_MS after asking: it will not come (the store thread restarted and forgot the replay). */
  stalled(): boolean {
    return this.on && this.askedAt !== null && this.now() - this.askedAt > REPLAY_STALL_MS;
  }

  /** A live frame: sent, or held while the replay runs. */
  deliver(frame: Buffer): void {
    if (!this.on) return this.out.send(frame);
    this.held.push(frame);
    this.heldBytes += frame.length;
    if (this.heldBytes > this.maxBytes)
      this.out.fail(
        'SEND_QUEUE_FULL',
        `${this.heldBytes} bytes of live messages waited while the missed ones were sent: more than --max-sendq`,
      );
  }

  part(frames: Buffer[], done: boolean): void {
    if (!this.on) return;
    this.askedAt = null;
    for (const f of frames) this.out.send(f);
    if (done) {
      this.on = false;
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      for (const f of held) this.out.send(f);
      return;
    }
    this.waitingForDrain = true;
    this.drained(this.out.queuedBytes);
  }

  /** After each flush of the connection's output: bytes still waiting. */
  drained(bytes: number): void {
    if (!this.waitingForDrain || bytes > this.maxBytes / 4) return;
    this.waitingForDrain = false;
    this.askedAt = this.now();
    this.next();
  }
}
