/**
 * HISTORY_REQUEST pages, served beside the order instead of in it (issue 31,
 * item 3: one address asking for megabytes of history stalled every echo).
 *
 * The sequencer takes a request's place in the order (the page ends at the
 * conversation's last id there) and hands it here; the reading happens on
 * the reader thread (history-reader.ts), and the store thread only passes
 * the frames on. Each requester (a session) has its own queue, at most
 * MAX_QUEUED deep (more: HISTORY_BUSY); the queues are served round-robin,
 * one step at a time, at most MAX_IN_FLIGHT steps at the reader: so one
 * session's pages never keep another's waiting for more than a step each,
 * and at most MAX_IN_FLIGHT answers (each within ANSWER_MAX_TEXT) are read
 * and not yet passed on.
 *
 * A page costs its requester flood credits by its bytes (common/flood-gate.ts
 * readCost), and is read only once they are paid: the plan (ids and sizes,
 * read without the text) says what it costs, the worker takes that from the
 * session's credits (waiting as long as it must, in order with the session's
 * own frames) and says so ('history-next'), and only then is the text read.
 * A requester that leaves (its connection lost, its session ended) is dropped
 * with everything it had asked for, read or not.
 */
import type { WireErrorCode } from '../../common/errors.js';
import type { SessionAddress } from '../bus/room-bus.js';
import { readCost } from '../../common/flood-gate.js';
import type { ConversationKey } from './history.js';
import type { AnswerWhere, PageAsk, PagePlan } from './history-pages.js';
import type { HistoryReader } from './history-reader.js';
import { memberKey } from './rooms.js';
import { StoreError } from './store-error.js';

/** HISTORY_REQUESTs one session may have waiting for their answers. */
export const MAX_QUEUED = 8;
/** Steps (a plan, or an answer's read) at the reader at once. */
export const MAX_IN_FLIGHT = 2;

export interface ReadJob {
  conv: ConversationKey;
  /** Only the direct messages these took part in (direct-parties.ts); null: a room, everything. */
  parties: readonly string[] | null;
  where: AnswerWhere;
  ask: PageAsk;
  /** The HISTORY_REQUEST's ref: on its refusal. */
  ref?: string;
}

export interface ReadsDeps {
  reader: HistoryReader;
  maxFrame: number;
  /** The answer's frames to the requester (room-read-requests.ts sendAnswer). */
  deliver(to: SessionAddress, frames: Buffer[]): void;
  refuse(to: SessionAddress, code: WireErrorCode, message: string, ref?: string): void;
  /** The requester's worker takes `credits` from its flood credits; with `next`, it says 'history-next' once taken. */
  charge(to: SessionAddress, credits: number, next: boolean): void;
  /** The store failed: the operator hears of it. */
  fault(err: StoreError): void;
  log(detail: Record<string, unknown>, msg: string): void;
}

interface Requester {
  address: SessionAddress;
  jobs: Array<ReadJob & { plan: PagePlan | null }>;
  /** queued: in the round; busy: a step at the reader; paying: its worker is taking the credits. */
  state: 'queued' | 'busy' | 'paying';
}

export class HistoryReads {
  private readonly requesters = new Map<string, Requester>();
  /** Keys of the requesters with a step to take, in turn. */
  private ring: string[] = [];
  private inFlight = 0;
  /** What was done so far, for the log and the tests. */
  readonly counts = { answers: 0, bytes: 0, dropped: 0, busy: 0, failed: 0 };

  constructor(private readonly deps: ReadsDeps) {}

  /** A HISTORY_REQUEST, in its place in the order. */
  ask(address: SessionAddress, job: ReadJob): void {
    const key = memberKey(address);
    let r = this.requesters.get(key);
    if (r && r.jobs.length >= MAX_QUEUED) {
      this.counts.busy++;
      return this.deps.refuse(
        address,
        'HISTORY_BUSY',
        `${MAX_QUEUED} of your history requests are still being answered; ask again once they are`,
        job.ref,
      );
    }
    if (!r) {
      r = { address, jobs: [], state: 'queued' };
      this.requesters.set(key, r);
      this.ring.push(key);
    }
    r.jobs.push({ ...job, plan: null });
    this.pump();
  }

  /** The requester's worker has taken the credits for its answer: it may be read now. */
  paid(address: SessionAddress): void {
    const key = memberKey(address);
    const r = this.requesters.get(key);
    if (r?.state !== 'paying') return;
    r.state = 'queued';
    this.ring.push(key);
    this.pump();
  }

  /** The session is gone (or away, or resumed elsewhere): what it asked for is not read or sent. */
  drop(address: SessionAddress): void {
    const key = memberKey(address);
    const r = this.requesters.get(key);
    if (!r) return;
    this.requesters.delete(key);
    this.counts.dropped += r.jobs.length;
    this.deps.log(
      { session: key, requests: r.jobs.length, unpaid: r.state === 'paying' },
      'history reads dropped: the session that asked is gone',
    );
  }

  /** Requesters with something asked and not yet answered. */
  get waiting(): number {
    return this.requesters.size;
  }

  close(): void {
    this.requesters.clear();
    this.ring = [];
    this.deps.reader.close();
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.ring.length > 0) {
      const key = this.ring.shift()!;
      const r = this.requesters.get(key);
      if (r?.state !== 'queued') continue;
      r.state = 'busy';
      this.inFlight++;
      void this.step(key, r).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** One step of the requester's first job: its plan (then payment), or, paid, its answer. */
  private async step(key: string, r: Requester): Promise<void> {
    const job = r.jobs[0]!;
    const { reader, maxFrame } = this.deps;
    try {
      if (!job.plan) {
        const plan = await reader.plan(job.conv, job.parties, job.ask);
        if (this.requesters.get(key) !== r) return;
        job.plan = plan;
        // Nothing to read: the empty answer at once; else the requester pays first.
        if (plan.count > 0) {
          r.state = 'paying';
          return this.deps.charge(r.address, readCost(plan.bytes), true);
        }
      }
      const frames = await reader.frames(job.conv, job.parties, job.plan, job.where, maxFrame);
      if (this.requesters.get(key) !== r) return;
      this.counts.answers++;
      this.counts.bytes += frames.reduce((n, f) => n + f.length, 0);
      this.deps.deliver(r.address, frames);
    } catch (err) {
      if (this.requesters.get(key) !== r) return;
      this.counts.failed++;
      const e = err instanceof StoreError ? err : new StoreError('STORE_IO', (err as Error).message);
      this.deps.fault(e);
      this.deps.refuse(
        r.address,
        'STORE_FAILED',
        `history request ${job.where.id} not answered: ${e.message}`,
        job.ref,
      );
    }
    this.next(key, r);
  }

  /** The first job is done: the next one takes its turn, or the requester is done. */
  private next(key: string, r: Requester): void {
    r.jobs.shift();
    if (r.jobs.length === 0) {
      this.requesters.delete(key);
      return;
    }
    r.state = 'queued';
    this.ring.push(key);
  }
}
