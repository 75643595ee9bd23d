/**
 * The store thread's core: what arrives from the workers is taken in
 * arrival order, the messages among it are stored in one transaction per
 * turn, and then everything goes out on the room bus in that same order,
 * each message with its id. Nothing is posted before its commit, so a sender
 * that sees its own message knows it is stored (docs/PROTOCOL.md, History).
 * A batch the store refuses is refused to its senders and posted to no one:
 * never shown to some users and missing from the history.
 *
 * The store, the bus and the scheduling of a flush are injected: the unit
 * tests run this without threads, timers or files.
 */
import { encodeMessage } from '../../common/protocol.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { RoomBus } from '../bus/room-bus.js';
import { roomConversation, type HistoryStore, type NewEntry, type StoredEntry } from './history.js';
import { StoreError } from './store-error.js';
import type { FromStore, ToStore } from './store-messages.js';

/** Requests stored in one transaction at most: a long backlog is worked off in several turns, others' frames between them. */
export const MAX_BATCH = 2000;

/** The room every session is in until rooms arrive (issue 21's next part). */
export const LOBBY = '#lobby';

/** A direct conversation is the pair's, whoever writes first: the folded nicks, in order. */
export function directConversation(a: string, b: string): string {
  return `dm:${[foldCase(a), foldCase(b)].sort().join('\n')}`;
}

type Pending = { worker: number; msg: ToStore };

export interface SequencerDeps {
  store: HistoryStore;
  bus: RoomBus;
  /** Tells worker `worker` that one of its requests was not done. */
  refuse(worker: number, msg: FromStore): void;
  /** The operator must hear of it (the store failed). */
  fault(err: StoreError): void;
  /** Runs fn once the current turn is over (setImmediate in the thread). */
  schedule(fn: () => void): void;
}

function toEntry(msg: Exclude<ToStore, { k: 'post' }>): NewEntry {
  if (msg.k === 'say') return { conv: roomConversation(LOBBY), kind: msg.action ? 'action' : 'say', from: msg.from, text: msg.text };
  return { conv: directConversation(msg.from, msg.to), kind: 'direct', from: msg.from, to: msg.to, text: msg.text };
}

export class Sequencer {
  private pending: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> | null = null;

  constructor(private readonly deps: SequencerDeps) {}

  handle(worker: number, msg: ToStore): void {
    this.pending.push({ worker, msg });
    this.wake();
  }

  /** Resolves once everything handed in so far has been stored and posted (shutdown waits for it). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.flushing || this.scheduled) {
      if (this.flushing) await this.flushing;
      else await this.flush();
    }
  }

  private wake(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    this.deps.schedule(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.flushing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, MAX_BATCH);
    this.flushing = this.store(batch).then((stored) => this.publish(batch, stored));
    await this.flushing;
    this.flushing = null;
    if (this.pending.length > 0) this.wake();
  }

  /** The batch's messages stored, in order; null when the store refused them all. */
  private async store(batch: Pending[]): Promise<StoredEntry[] | null> {
    const entries = batch.flatMap((p) => (p.msg.k === 'post' ? [] : [toEntry(p.msg)]));
    if (entries.length === 0) return [];
    try {
      return await this.deps.store.append(entries);
    } catch (err) {
      const e = err instanceof StoreError ? err : new StoreError('STORE_IO', `the history store failed: ${(err as Error).message}`);
      this.deps.fault(e);
      for (const p of batch) {
        if (p.msg.k !== 'post') this.deps.refuse(p.worker, { k: 'refused', sender: p.msg.sender, code: 'NOT_STORED', message: `not sent: the server cannot store messages (${e.code === 'STORE_FULL' ? 'its disk is full' : 'its history database failed'}); try again later` });
      }
      return null;
    }
  }

  private publish(batch: Pending[], stored: StoredEntry[] | null): void {
    let next = 0;
    const { bus } = this.deps;
    for (const { msg } of batch) {
      if (msg.k === 'post') {
        bus.post(Buffer.from(msg.frame.buffer, msg.frame.byteOffset, msg.frame.byteLength));
        continue;
      }
      if (!stored) continue;
      const e = stored[next++]!;
      if (msg.k === 'say') {
        bus.post(encodeMessage({ type: 'CHAT', from: e.from, text: e.text, action: msg.action, ts: e.ts, id: e.id }));
        continue;
      }
      const frame = encodeMessage({ type: 'DIRECT', from: e.from, to: e.to!, text: e.text, ts: e.ts, id: e.id });
      bus.postTo(msg.target, frame);
      // The sender's copy is its confirmation (stored, and to whom); writing to yourself gets one copy.
      if (msg.target.slot !== msg.sender.slot || msg.target.generation !== msg.sender.generation) bus.postTo(msg.sender, frame);
    }
  }
}
