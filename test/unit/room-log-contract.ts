/**
 * What every RoomLog must do (server/store/room-log.ts), as a suite any
 * implementation runs unchanged: today's LocalRoomLog (room-log.test.ts), a
 * Redis one later. The factory gives a fresh, empty log, a way to make its
 * next append fail (the store refuses it), and whether it keeps what it
 * stores (--no-history numbers messages and keeps nothing).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEntry } from '../../server/store/history.js';
import { directConversation } from '../../server/store/conversations.js';
import type { Appended, LogTurn, RoomLog } from '../../server/store/room-log.js';
import { StoreError } from '../../server/store/store-error.js';
import type { TurnBus } from '../../server/cluster/cluster-bus.js';

export interface LogUnderTest {
  log: RoomLog;
  /** The next turn stored from now on is refused with this error. */
  failNext(err: StoreError): void;
  /** What every session has heard of the frames posted with the log's bus's post(), in order, as text. */
  heard(): string[];
  /** It keeps what it stores (the reads give it back). */
  keeps: boolean;
  close(): Promise<void> | void;
}

const say = (conv: string, text: string): NewEntry => ({ conv, kind: 'say', from: 'ann', text });

/**
 * A log's bus that records what every session would hear of post(), as text (what LogUnderTest.heard gives); it
 * takes a cluster's turn brackets too (a TurnBus), and ignores them.
 */
export function recordingBus(heard: string[]): TurnBus {
  return {
    beginTurn: () => undefined,
    endTurn: () => undefined,
    post: (frame) => heard.push(frame.toString()),
    postTo: () => undefined,
    kick: () => undefined,
    postToRooms: () => undefined,
    membership: () => undefined,
    replay: () => undefined,
    close: () => undefined,
  };
}

/** A turn that records what it was published with, and when. */
function turn(entries: NewEntry[], seen: string[], name: string, log?: RoomLog) {
  const t = {
    entries,
    stored: undefined as Appended | null | undefined,
    failure: null as StoreError | null,
    calls: 0,
    /** The conversations' last ids as the log tells them once this turn is published. */
    probe: null as Promise<number[]> | null,
    publish(stored: Appended | null, failure: StoreError | null) {
      t.calls++;
      t.stored = stored;
      t.failure = failure;
      seen.push(name);
      if (log) t.probe = Promise.all(entries.map((e) => log.lastId(e.conv)));
    },
  };
  return t as typeof t & LogTurn;
}

export function roomLogContract(name: string, make: () => Promise<LogUnderTest>): void {
  describe(`RoomLog contract: ${name}`, () => {
    let open: LogUnderTest | null = null;
    const fresh = async () => (open = await make());
    afterEach(async () => {
      await open?.close();
      open = null;
    });

    it('ids are exactly one more per conversation, in the turn order, across turns; one epoch', async () => {
      const { log } = await fresh();
      const seen: string[] = [];
      const a = await log.append(turn([say('room:#a', '1'), say('room:#b', '1'), say('room:#a', '2')], seen, 't1'));
      const b = await log.append(turn([say('room:#b', '2'), say('room:#a', '3')], seen, 't2'));
      expect(a.entries.map((e) => [e.conv, e.id, e.text])).toEqual([
        ['room:#a', 1, '1'],
        ['room:#b', 1, '1'],
        ['room:#a', 2, '2'],
      ]);
      expect(b.entries.map((e) => [e.conv, e.id])).toEqual([
        ['room:#b', 2],
        ['room:#a', 3],
      ]);
      expect(a.epoch).toBe(log.epoch);
      expect(b.epoch).toBe(log.epoch);
      expect(typeof a.entries[0]!.ts).toBe('number');
      expect(await log.lastId('room:#a')).toBe(3);
      expect(await log.lastId('room:#none')).toBe(0);
    });

    it('a turn is published once, after its commit, with what was stored', async () => {
      const { log } = await fresh();
      const seen: string[] = [];
      const t = turn([say('room:#a', 'x'), say('room:#a', 'y')], seen, 't', log);
      const got = await log.append(t);
      expect(t.calls).toBe(1);
      expect(t.stored).toEqual(got);
      expect(t.failure).toBeNull();
      // What the log tells once the turn is published already holds the turn: nothing is published before its commit.
      expect(await t.probe).toEqual([2, 2]);
    });

    it('turns handed in at once are stored and published one after another, in the order handed in', async () => {
      const { log } = await fresh();
      const seen: string[] = [];
      const turns = ['t1', 't2', 't3'].map((n) => turn([say('room:#a', n)], seen, n, log));
      const done = await Promise.all(turns.map((t) => log.append(t)));
      expect(seen).toEqual(['t1', 't2', 't3']);
      expect(done.map((d) => d.entries[0]!.id)).toEqual([1, 2, 3]);
      expect(done.map((d) => d.entries[0]!.text)).toEqual(['t1', 't2', 't3']);
    });

    it("what a turn posts on the log's bus is heard after its commit, in turn order, a refused turn's too", async () => {
      const under = await fresh();
      const { log } = under;
      const posting = (name: string): LogTurn => ({
        entries: [say('room:#a', name)],
        publish: (stored) => log.bus.post(Buffer.from(`${name} ${stored ? stored.entries[0]!.id : 'refused'}`)),
      });
      await log.append(posting('t1'));
      under.failNext(new StoreError('STORE_IO', 'the store failed'));
      const second = log.append(posting('t2'));
      const third = log.append(posting('t3'));
      await expect(second).rejects.toBeInstanceOf(StoreError);
      await third;
      expect(under.heard()).toEqual(['t1 1', 't2 refused', 't3 2']);
    });

    it('a turn with no messages (notices only) is published in its place', async () => {
      const { log } = await fresh();
      const seen: string[] = [];
      const empty = turn([], seen, 'notices');
      const [, got] = await Promise.all([log.append(turn([say('room:#a', 'm')], seen, 'm')), log.append(empty)]);
      expect(seen).toEqual(['m', 'notices']);
      expect(got.entries).toEqual([]);
      expect(empty.stored).toEqual({ entries: [], epoch: log.epoch });
    });

    it('a refused turn: none of it stored, published once as refused, rejected; the ids go on as if it never was', async () => {
      const under = await fresh();
      const { log } = under;
      const seen: string[] = [];
      await log.append(turn([say('room:#a', 'kept')], seen, 'ok'));
      const full = new StoreError('STORE_FULL', 'the disk is full');
      under.failNext(full);
      const refused = turn([say('room:#a', 'lost'), say('room:#b', 'lost')], seen, 'refused');
      await expect(log.append(refused)).rejects.toBe(full);
      expect(refused.calls).toBe(1);
      expect(refused.stored).toBeNull();
      expect(refused.failure).toBe(full);
      const after = turn([say('room:#a', 'next')], seen, 'after');
      const got = await log.append(after);
      expect(seen).toEqual(['ok', 'refused', 'after']);
      expect(got.entries[0]!.id).toBe(2);
      expect(await log.lastId('room:#b')).toBe(0);
      if (under.keeps) expect((await log.after('room:#a', 0, 10)).map((e) => e.text)).toEqual(['kept', 'next']);
    });

    it('the reads give back what was stored: before (newest), after an id, since a time; oldest first', async () => {
      const under = await fresh();
      const { log } = under;
      const entries = Array.from({ length: 5 }, (_, i) => say('room:#r', `m${i + 1}`));
      const { entries: stored } = await log.append(turn(entries, [], 't'));
      if (!under.keeps) {
        expect(await log.before('room:#r', Infinity, 10)).toEqual([]);
        return;
      }
      const texts = (es: { text: string }[]) => es.map((e) => e.text);
      expect(texts(await log.before('room:#r', Infinity, 2))).toEqual(['m4', 'm5']);
      expect(texts(await log.before('room:#r', 3, 10))).toEqual(['m1', 'm2']);
      expect(texts(await log.after('room:#r', 3, 10))).toEqual(['m4', 'm5']);
      expect(texts(await log.after('room:#r', 0, 2))).toEqual(['m1', 'm2']);
      expect(texts(await log.since('room:#r', stored[0]!.ts, 10))).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      expect(await log.after('room:#other', 0, 10)).toEqual([]);
      expect((await log.before('room:#r', Infinity, 1)).map((e) => [e.id, e.ts])).toEqual([[5, stored[4]!.ts]]);
    });

    it('a direct conversation is listed under both its nicks (what a resume replays besides rooms)', async () => {
      const under = await fresh();
      const { log } = under;
      const dm = directConversation('Ann', 'bob');
      await log.append(
        turn([{ conv: dm, kind: 'direct', from: 'Ann', to: 'bob', text: 'psst' }, say('room:#r', 'x')], [], 't'),
      );
      if (!under.keeps) return;
      expect(await log.directConversations('ann')).toEqual([dm]);
      expect(await log.directConversations('bob')).toEqual([dm]);
      expect(await log.directConversations('cat')).toEqual([]);
    });
  });
}
