/**
 * What a session is sent from the history, paced into its connection as the
 * connection drains: the HISTORY answers (on joining a room, to a
 * HISTORY_REQUEST, the offline messages at login) and a resuming session's
 * replay. Such a reply may be megabytes (200 messages of 32 KB), far past
 * --max-sendq, which is there to find clients that do not read, not to
 * refuse the server's own answers: so the gate hands the connection's output
 * queue a window (a quarter of --max-sendq) at a time, the next as the
 * backlog falls under it.
 *
 * Order: what is delivered to the session (by the bus, or an answer from the
 * history reader) while a reply is still being paced waits here behind it,
 * so the client sees the history before what came after it.
 * A resume's replay comes in parts the gate asks the store thread for; its
 * parts go ahead of the live frames that arrived since the resume took its
 * place in the room order (session-requests.ts says why that is exactly once).
 *
 * Bounds: the live frames held count against --max-sendq (past it, the client
 * is dropped: SEND_QUEUE_FULL); every byte held, live or reply, is charged to
 * the worker's output budget (output-budget.ts), which drops the clients with
 * the most waiting when the worker's share of --max-output is spent, so a
 * client that asks for history and never reads it pins a bounded amount.
 */
import type { WireErrorCode } from '../../common/errors.js';
import { HEADER_SIZE } from '../../common/frame.js';
import { FrameType } from '../../common/protocol.js';

/** The connection the gate is in front of. */
export interface ReplayOutput {
  /** False once the connection is closed (or closing because of this frame). */
  send(frame: Buffer): boolean;
  /** queuedBytes: what waits in the output queue and the socket, not yet taken by the client. */
  readonly transport: { readonly queuedBytes: number };
  fail(code: WireErrorCode, message: string): void;
}

/** Where held bytes are charged (the worker's OutputBudget). */
export interface HeldBytes {
  charge(bytes: number): void;
}

/** A part asked for and not come within this long: the store thread was restarted meanwhile (stalled()). */
export const REPLAY_STALL_MS = 30_000;

/** A HISTORY frame is always a reply from the history: it is paced, never live. */
export function isHistoryFrame(frame: Buffer): boolean {
  return frame.length > HEADER_SIZE && frame[HEADER_SIZE - 1] === FrameType.HISTORY;
}

/** Frames in order, with whether each is live (counted against --max-sendq) or a reply. */
class Held {
  private frames: Buffer[] = [];
  private live: boolean[] = [];
  private head = 0;
  bytes = 0;
  liveBytes = 0;

  get size(): number {
    return this.frames.length - this.head;
  }

  push(frame: Buffer, live: boolean): void {
    this.frames.push(frame);
    this.live.push(live);
    this.bytes += frame.length;
    if (live) this.liveBytes += frame.length;
  }

  shift(): Buffer {
    const frame = this.frames[this.head]!;
    if (this.live[this.head]) this.liveBytes -= frame.length;
    this.bytes -= frame.length;
    this.head++;
    if (this.head === this.frames.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.live = this.live.slice(this.head);
      this.head = 0;
    }
    return frame;
  }

  clear(): void {
    this.frames = [];
    this.live = [];
    this.head = 0;
    this.bytes = 0;
    this.liveBytes = 0;
  }
}

export class ReplayGate {
  /** A resume's parts, ahead of everything else. */
  private readonly front = new Held();
  /** The rest, in the order it came, while anything is held. */
  private readonly queue = new Held();
  private resuming = false;
  /** When the part now awaited was asked for (the resume itself asks for the first); null: none awaited. */
  private askedAt: number | null = null;

  constructor(
    private readonly out: ReplayOutput,
    /** Asks the store thread for the next part of a resume's replay. */
    private readonly next: () => void,
    /** --max-sendq: the live bytes that may wait; a quarter of it is the window replies are handed over in. */
    private readonly maxBytes: number,
    private readonly now: () => number,
    private readonly budget: HeldBytes,
  ) {}

  /** Whether anything is held or awaited: what is delivered now waits its turn. */
  get pacing(): boolean {
    return this.resuming || this.front.size > 0 || this.queue.size > 0;
  }

  /** Bytes held here, not yet handed to the connection's output. */
  get bytes(): number {
    return this.front.bytes + this.queue.bytes;
  }

  /** A resume was sent to the store thread: what is delivered is held until its replay has been sent. */
  begin(): void {
    this.resuming = true;
    this.askedAt = this.now();
  }

  /** No part for REPLAY_STALL_MS after asking: it will not come (the store thread restarted and forgot the replay). */
  stalled(): boolean {
    return this.resuming && this.askedAt !== null && this.now() - this.askedAt > REPLAY_STALL_MS;
  }

  /** A frame for the session: a HISTORY frame is a reply, paced; anything else is live, sent at once unless held behind one. */
  deliver(frame: Buffer): void {
    const reply = isHistoryFrame(frame);
    if (!reply && !this.pacing) {
      this.out.send(frame);
      return;
    }
    this.hold(this.queue, frame, !reply);
    if (this.queue.liveBytes > this.maxBytes)
      return this.out.fail(
        'SEND_QUEUE_FULL',
        `${this.queue.liveBytes} bytes of live messages waited behind the history being sent: more than --max-sendq`,
      );
    this.pump();
  }

  /** A part of a resume's replay (done: the last, ending with RESUMED). */
  part(frames: Buffer[], done: boolean): void {
    if (!this.resuming) return;
    this.askedAt = null;
    for (const f of frames) this.hold(this.front, f, false);
    if (done) this.resuming = false;
    this.pump();
  }

  /** After each flush of the connection's output: the next window, if the backlog has fallen under one. */
  drained(): void {
    if (this.pacing) this.pump();
  }

  /** The connection ended: nothing held will be sent. */
  discard(): void {
    this.budget.charge(-this.bytes);
    this.front.clear();
    this.queue.clear();
    this.resuming = false;
    this.askedAt = null;
  }

  private hold(into: Held, frame: Buffer, live: boolean): void {
    into.push(frame, live);
    this.budget.charge(frame.length);
  }

  /** Hands frames over while less than a window waits; a resume waiting for its next part asks for it then. */
  private pump(): void {
    const window = this.maxBytes / 4;
    while (this.out.transport.queuedBytes < window) {
      const from = this.front.size > 0 ? this.front : !this.resuming && this.queue.size > 0 ? this.queue : null;
      if (!from) break;
      const frame = from.shift();
      this.budget.charge(-frame.length);
      if (!this.out.send(frame)) return this.discard();
    }
    if (this.resuming && this.front.size === 0 && this.askedAt === null && this.out.transport.queuedBytes <= window) {
      this.askedAt = this.now();
      this.next();
    }
  }
}
