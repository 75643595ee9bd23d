/**
 * A chat worker's end of its MessagePort to the store thread. One port per
 * worker keeps that worker's requests in the order its sessions made them;
 * everything the store thread answers comes back on the room bus, in the
 * room's order. While the thread is away (restarting) requests are refused
 * here at once, so nobody waits on an answer that will not come.
 *
 * A request posted just before the thread died may never have been handled,
 * and nothing else would tell its sender: the store thread says after each
 * batch how many of this port's requests it has handled, and when the port
 * dies every later one that has a sender is refused to it (NOT_STORED, "send
 * it again"). Never silence; in the instant between a commit and its count,
 * a stored message may be refused as well as echoed.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SessionAddress } from '../bus/room-bus.js';
import type { AccountAnswer, FromStore, StoreAsk, ToStore, StoreLetGo, StoreKickElsewhere } from './store-messages.js';
import { StoreError } from './store-error.js';
import { unpackFrames } from './history-pages.js';

/** What the chat sessions ask of the sequencer (ConnectionHost.sequencer). */
export interface SequencerPort {
  send(msg: ToStore): void;
}

/** What a session may ask the store thread outside the order (StoreAsk): the account a nick is. Rejects with a StoreError when the thread is away. */
export interface StoreQuestions {
  account(nick: string): Promise<AccountAnswer | null>;
}

/** What the store thread's HISTORY_REQUEST answers need of this worker (history-reads.ts). */
export interface ReadHooks {
  /** Takes `credits` from a session's flood credits (FromStore charge), then calls `paid`; a session gone never pays. */
  charge(to: SessionAddress, credits: number, paid: () => void): void;
  /** An answer's frames to the session, if it is still here. */
  deliver(to: SessionAddress, frames: Buffer[]): void;
}
/** Without hooks (tests): every charge paid at once, answers dropped. */
const NO_READ_HOOKS: ReadHooks = { charge: (_to, _credits, paid) => paid(), deliver: () => undefined };

const RESTARTING = "not done: the server's history store is restarting; try again in a moment";
const LOST =
  "maybe not done: the server's history store restarted while this was on its way; if you do not see it, send it again";
/** Requests with a sender kept until the store thread says it handled them (more: the oldest are let go). */
const MAX_UNANSWERED = 100_000;

/** The session a request is for, if it has one to answer. */
function requester(msg: ToStore): SessionAddress | null {
  if ('sender' in msg) return msg.sender;
  if ('session' in msg && msg.k !== 'leave' && msg.k !== 'rename' && msg.k !== 'enter' && msg.k !== 'history-next')
    return msg.session;
  return null;
}

export class StoreLink implements SequencerPort, StoreQuestions {
  private port: MessagePort | null = null;
  /** Requests posted on this port so far, and those with a sender the store thread has not yet counted as handled. */
  private posted = 0;
  /** Oldest first; entries before `head` are answered (dropped in bulk, not one shift per answer). */
  private unanswered: Array<{ n: number; to: SessionAddress }> = [];
  private head = 0;
  /** Asks waiting for their answer, by id. */
  private readonly asked = new Map<
    number,
    { resolve: (a: AccountAnswer | null) => void; reject: (e: Error) => void }
  >();
  private nextAsk = 1;

  constructor(
    port: MessagePort,
    /** Tells a session of this worker that its request was refused (it may have gone meanwhile). */
    private readonly refused: (to: SessionAddress, message: string) => void,
    private readonly reads: ReadHooks = NO_READ_HOOKS,
  ) {
    this.attach(port);
  }

  /** A (new) port to the store thread; the old one, if any, is closed. */
  attach(port: MessagePort): void {
    this.detach();
    this.port = port;
    this.posted = 0;
    port.on('message', (m: FromStore) => {
      if (this.port !== port) return;
      if (m.k === 'answer') return this.answered(m);
      if (m.k === 'charge') return this.charged(m);
      if (m.k === 'frames') return this.reads.deliver(m.session, unpackFrames(m));
      while (this.head < this.unanswered.length && this.unanswered[this.head]!.n <= m.count) this.head++;
      this.compact();
    });
    // The store thread's end closes when the thread dies: from then on, refuse rather than post into nothing.
    port.once('close', () => {
      if (this.port === port) this.detach();
    });
  }

  /** The store thread is gone: requests are refused at once, the rest dropped, until attach(); those it may not have handled are refused now. */
  detach(): void {
    const port = this.port;
    this.port = null;
    port?.close();
    const lost = this.unanswered.slice(this.head);
    this.unanswered = [];
    this.head = 0;
    for (const u of lost) this.refused(u.to, LOST);
    this.abandonAsks(RESTARTING);
  }

  account(nick: string): Promise<AccountAnswer | null> {
    const port = this.port;
    if (!port) return Promise.reject(new StoreError('STORE_RESTARTING', RESTARTING));
    const id = this.nextAsk++;
    return new Promise((resolve, reject) => {
      this.asked.set(id, { resolve, reject });
      port.postMessage({ k: 'ask', id, q: { k: 'account', nick } } satisfies StoreAsk);
    });
  }

  /** Another node's session was moved here or ended (a cluster's registry): that node is told, through the store thread. */
  letGo(target: SessionAddress, nick: string, how: 'moved' | 'ended'): void {
    this.port?.postMessage({ k: 'let-go', target, nick, how } satisfies StoreLetGo);
  }

  /** A kick of a session on another node (SequencedBus), carried there by the store thread's bus. */
  kickElsewhere(target: SessionAddress, reason: string): void {
    this.port?.postMessage({ k: 'kick-elsewhere', target, reason } satisfies StoreKickElsewhere);
  }

  private answered(m: Extract<FromStore, { k: 'answer' }>): void {
    const waiting = this.asked.get(m.id);
    if (!waiting) return;
    this.asked.delete(m.id);
    if ('error' in m) waiting.reject(new StoreError('STORE_IO', `the server's store could not answer: ${m.error}`));
    else waiting.resolve(m.account);
  }

  /** A charge for a read: once the session has paid, the store thread may read its answer (history-reads.ts). */
  private charged(m: Extract<FromStore, { k: 'charge' }>): void {
    this.reads.charge(m.session, m.credits, () => {
      if (m.next) this.send({ k: 'history-next', session: m.session });
    });
  }

  private abandonAsks(why: string): void {
    const waiting = [...this.asked.values()];
    this.asked.clear();
    for (const w of waiting) w.reject(new StoreError('STORE_RESTARTING', why));
  }

  /** Drops the answered entries once they are at least half the queue: amortised O(1) per request. */
  private compact(): void {
    if (this.head === 0 || this.head * 2 < this.unanswered.length) return;
    this.unanswered = this.unanswered.slice(this.head);
    this.head = 0;
  }

  /** Shutting down: the store thread drains what it was sent, so nothing is refused. */
  close(): void {
    const port = this.port;
    this.port = null;
    this.unanswered = [];
    this.head = 0;
    port?.close();
    this.abandonAsks('the server is shutting down');
  }

  /** A room-wide frame that is not kept, sequenced with the messages (SequencedBus). */
  post(frame: Buffer): void {
    this.send({ k: 'post', frame });
  }

  send(msg: ToStore): void {
    const to = requester(msg);
    if (this.port) {
      this.port.postMessage(msg);
      this.posted++;
      if (to) this.unanswered.push({ n: this.posted, to });
      if (this.unanswered.length - this.head > MAX_UNANSWERED) {
        this.head++;
        this.compact();
      }
      return;
    }
    if (to) this.refused(to, RESTARTING);
  }
}
