/** The store thread's sequencer without threads: one order, nothing posted before its commit, a refused batch posted to no one. */
import { describe, expect, it } from 'vitest';
import { Sequencer, directConversation } from '../../server/store/sequencer.js';
import { NoHistory } from '../../server/store/no-history.js';
import { StoreError } from '../../server/store/store-error.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType, type ServerMessage } from '../../common/protocol.js';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import type { RoomBus, SessionAddress } from '../../server/bus/room-bus.js';
import type { HistoryStore, NewEntry, StoredEntry } from '../../server/store/history.js';
import type { FromStore } from '../../server/store/store-messages.js';

const decode = (b: Buffer) => decodeServerMessage(new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType }).push(b)[0]!);

class Bus implements RoomBus {
  readonly out: Array<{ to: SessionAddress | 'room'; msg: ServerMessage }> = [];
  post(frame: Buffer): void {
    this.out.push({ to: 'room', msg: decode(frame) });
  }
  postTo(to: SessionAddress, frame: Buffer): void {
    this.out.push({ to, msg: decode(frame) });
  }
  kick(): void {}
  close(): void {}
}

/** A store whose appends wait until the test lets them commit, or fail. */
class GatedStore extends NoHistory implements HistoryStore {
  readonly batches: NewEntry[][] = [];
  fail: StoreError | null = null;
  private release: (() => void) | null = null;
  override async append(batch: NewEntry[]): Promise<StoredEntry[]> {
    this.batches.push(batch);
    await new Promise<void>((r) => (this.release = r));
    if (this.fail) throw this.fail;
    return super.append(batch);
  }
  commit(): void {
    this.release?.();
    this.release = null;
  }
}

const A: SessionAddress = { slot: 1, generation: 1, owner: 0 };
const B: SessionAddress = { slot: 2, generation: 1, owner: 1 };

function setup() {
  const store = new GatedStore(() => 5000);
  const bus = new Bus();
  const refused: Array<{ worker: number; msg: FromStore }> = [];
  const faults: StoreError[] = [];
  const turns: Array<() => void> = [];
  const seq = new Sequencer({ store, bus, refuse: (worker, msg) => refused.push({ worker, msg }), fault: (e) => faults.push(e), schedule: (fn) => turns.push(fn) });
  const turn = async () => {
    turns.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { store, bus, refused, faults, seq, turn };
}

describe('Sequencer', () => {
  it('stores a turn in one batch and posts it after the commit, in arrival order, notices in their place', async () => {
    const w = setup();
    const notice = encodeMessage({ type: 'NOTICE', event: 'joined', nick: 'carol' });
    w.seq.handle(0, { k: 'say', from: 'alice', text: 'one', action: false, sender: A });
    w.seq.handle(1, { k: 'post', frame: notice });
    w.seq.handle(1, { k: 'say', from: 'bob', text: 'two', action: true, sender: B });
    w.seq.handle(0, { k: 'direct', from: 'alice', to: 'Bob', text: 'psst', sender: A, target: B });
    await w.turn();
    expect(w.store.batches).toHaveLength(1);
    expect(w.store.batches[0]!.map((e) => e.conv)).toEqual(['room:#lobby', 'room:#lobby', directConversation('alice', 'bob')]);
    expect(w.bus.out).toEqual([]); // nothing before the commit, not even the notice (it keeps its place)
    w.store.commit();
    await w.turn();
    expect(w.bus.out).toEqual([
      { to: 'room', msg: { type: 'CHAT', from: 'alice', text: 'one', action: false, ts: 5000, id: 1 } },
      { to: 'room', msg: { type: 'NOTICE', event: 'joined', nick: 'carol' } },
      { to: 'room', msg: { type: 'CHAT', from: 'bob', text: 'two', action: true, ts: 5000, id: 2 } },
      { to: B, msg: { type: 'DIRECT', from: 'alice', to: 'Bob', text: 'psst', ts: 5000, id: 1 } },
      { to: A, msg: { type: 'DIRECT', from: 'alice', to: 'Bob', text: 'psst', ts: 5000, id: 1 } },
    ]);
  });

  it('what arrives during a commit goes in the next batch', async () => {
    const w = setup();
    w.seq.handle(0, { k: 'say', from: 'alice', text: 'one', action: false, sender: A });
    await w.turn();
    w.seq.handle(0, { k: 'say', from: 'alice', text: 'two', action: false, sender: A });
    w.store.commit();
    await w.turn();
    await w.turn();
    expect(w.store.batches.map((b) => b.map((e) => e.text))).toEqual([['one'], ['two']]);
    w.store.commit();
    await w.seq.drain();
    expect(w.bus.out.map((o) => (o.msg as { id: number }).id)).toEqual([1, 2]);
  });

  it('a batch the store refuses reaches no one: each sender is told, the operator hears once, notices still go', async () => {
    const w = setup();
    w.seq.handle(0, { k: 'say', from: 'alice', text: 'lost', action: false, sender: A });
    w.seq.handle(1, { k: 'post', frame: encodeMessage({ type: 'NOTICE', event: 'left', nick: 'dan' }) });
    w.seq.handle(1, { k: 'direct', from: 'bob', to: 'alice', text: 'also lost', sender: B, target: A });
    await w.turn();
    w.store.fail = new StoreError('STORE_FULL', 'the history database x cannot grow: the disk is full');
    w.store.commit();
    await w.turn();
    expect(w.bus.out).toEqual([{ to: 'room', msg: { type: 'NOTICE', event: 'left', nick: 'dan' } }]);
    expect(w.faults.map((f) => f.code)).toEqual(['STORE_FULL']);
    const message = 'not sent: the server cannot store messages (its disk is full); try again later';
    expect(w.refused).toEqual([
      { worker: 0, msg: { k: 'refused', sender: A, code: 'NOT_STORED', message } },
      { worker: 1, msg: { k: 'refused', sender: B, code: 'NOT_STORED', message } },
    ]);
  });

  it('a direct conversation is the pair, in either direction and any case', () => {
    expect(directConversation('Alice', 'bob')).toBe(directConversation('BOB', 'alice'));
  });
});
