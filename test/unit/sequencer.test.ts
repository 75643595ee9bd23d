/**
 * The store thread's sequencer without threads: one order, nothing posted
 * before its commit, a refused segment posted to no one, rooms and their
 * limits, and history on joining that overlaps nothing live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Sequencer } from '../../server/store/sequencer.js';
import { directConversation } from '../../server/store/conversations.js';
import { NoHistory } from '../../server/store/no-history.js';
import { SqliteHistory } from '../../server/store/sqlite-history.js';
import { StoreError } from '../../server/store/store-error.js';
import { DEFAULT_ROOM_LIMITS, type RoomLimits } from '../../server/store/rooms.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType, type ServerMessage } from '../../common/protocol.js';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import type { RoomBus, RoomRef, SessionAddress } from '../../server/bus/room-bus.js';
import type { HistoryStore, NewEntry, StoredEntry } from '../../server/store/history.js';

const decode = (b: Buffer) =>
  decodeServerMessage(new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType }).push(b)[0]!);

type Out =
  | { op: 'all'; msg: ServerMessage }
  | { op: 'to'; to: SessionAddress; msg: ServerMessage }
  | { op: 'rooms'; rooms: string[]; v: number; msg: ServerMessage }
  | { op: 'member'; to: SessionAddress; room: RoomRef; joined: boolean }
  | { op: 'replay'; to: SessionAddress; msgs: ServerMessage[]; done: boolean };

class Bus implements RoomBus {
  readonly out: Out[] = [];
  post(frame: Buffer): void {
    this.out.push({ op: 'all', msg: decode(frame) });
  }
  postTo(to: SessionAddress, frame: Buffer): void {
    this.out.push({ op: 'to', to, msg: decode(frame) });
  }
  postToRooms(rooms: string[], frame: Buffer, v: number): void {
    this.out.push({ op: 'rooms', rooms, v, msg: decode(frame) });
  }
  membership(to: SessionAddress, room: RoomRef, joined: boolean): void {
    this.out.push({ op: 'member', to, room, joined });
  }
  replay(to: SessionAddress, frames: Buffer[], done: boolean): void {
    this.out.push({ op: 'replay', to, msgs: frames.map(decode), done });
  }
  kick(): void {}
  close(): void {}
  /** What one session of this worker would receive, given the membership changes in order. */
  seenBy(who: SessionAddress): ServerMessage[] {
    const rooms = new Set<string>();
    const seen: ServerMessage[] = [];
    const me = (a: SessionAddress) => a.slot === who.slot && a.generation === who.generation;
    for (const o of this.out) {
      if (o.op === 'member' && me(o.to)) {
        if (o.joined) rooms.add(o.room.key);
        else rooms.delete(o.room.key);
      } else if (o.op === 'to' && me(o.to)) seen.push(o.msg);
      else if (o.op === 'replay' && me(o.to)) seen.push(...o.msgs);
      else if (o.op === 'rooms' && o.rooms.some((r) => rooms.has(r))) seen.push(o.msg);
      else if (o.op === 'all') seen.push(o.msg);
    }
    return seen;
  }
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

const A: SessionAddress = { node: 'n1', slot: 1, generation: 1, owner: 0 };
const B: SessionAddress = { node: 'n1', slot: 2, generation: 1, owner: 1 };
const C: SessionAddress = { node: 'n1', slot: 3, generation: 1, owner: 1 };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(store: HistoryStore = new GatedStore(() => 5000), limits: RoomLimits = DEFAULT_ROOM_LIMITS) {
  const bus = new Bus();
  const faults: StoreError[] = [];
  const turns: Array<() => void> = [];
  const seq = new Sequencer({
    node: 'n1',
    store,
    bus,
    fault: (e) => faults.push(e),
    schedule: (fn) => turns.push(fn),
    defaultRoom: '#lobby',
    roomLimits: limits,
    historyOnJoin: 3,
    maxFrame: 65536,
  });
  const turn = async () => {
    turns.shift()?.();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { store, bus, faults, seq, turn };
}

describe('Rooms', () => {
  it('refuse a new room that looks like one that exists, and forget a room when its last member leaves', async () => {
    const { Rooms } = await import('../../server/store/rooms.js');
    const rooms = new Rooms(DEFAULT_ROOM_LIMITS);
    const a = rooms.enter(A, 'alice', 2);
    const b = rooms.enter(B, 'bob', 2);
    expect(rooms.join(a, '#paypal')).toMatchObject({ ok: true, already: false });
    expect(rooms.join(b, '#PayPal')).toMatchObject({ ok: true, already: false, room: { name: '#paypal' } });
    expect(rooms.join(b, '#paypa1')).toEqual({
      ok: false,
      code: 'ROOM_INVALID',
      message:
        '#paypa1 looks like #paypal, which exists: join that one, or choose a name that cannot be mistaken for it',
    });
    expect(rooms.leave(a)).toEqual(['#paypal']);
    expect(rooms.part(b, '#paypal')?.name).toBe('#paypal');
    expect(rooms.list()).toEqual([]);
    expect(rooms.join(b, '#paypa1')).toMatchObject({ ok: true }); // nothing to be mistaken for any more
  });
});

describe('Sequencer', () => {
  it('enters sessions into the default room, stores a turn in one batch and posts it after the commit, in arrival order', async () => {
    const w = setup();
    const store = w.store as GatedStore;
    w.seq.handle({ k: 'enter', session: A, nick: 'alice', version: 2, token: null });
    w.seq.handle({ k: 'enter', session: B, nick: 'bob', version: 1, token: null });
    await w.turn();
    expect(w.bus.seenBy(A)).toEqual([
      { type: 'NOTICE', event: 'joined', nick: 'alice', room: '#lobby' },
      { type: 'JOINED', room: '#lobby', topic: '', members: 1 },
      { type: 'HISTORY', room: '#lobby', entries: [], done: true, more: false },
      { type: 'NOTICE', event: 'joined', nick: 'bob', room: '#lobby' },
    ]);
    // Version 1: the notice, no JOINED or HISTORY (it does not know them).
    expect(w.bus.seenBy(B)).toEqual([{ type: 'NOTICE', event: 'joined', nick: 'bob', room: '#lobby' }]);
    const before = w.bus.out.length;
    w.seq.handle({ k: 'say', room: '#lobby', from: 'alice', text: 'one', action: false, sender: A });
    w.seq.handle({
      k: 'post',
      frame: encodeMessage({ type: 'NOTICE', event: 'shared', nick: 'bob', name: 'f', size: 1 }),
    });
    w.seq.handle({ k: 'say', room: '#LOBBY', from: 'bob', text: 'two', action: true, sender: B });
    w.seq.handle({ k: 'direct', from: 'alice', to: 'Bob', text: 'psst', action: false, sender: A, target: B });
    w.seq.handle({ k: 'direct', from: 'alice', to: 'Bob', text: 'winks', action: true, sender: A, target: B });
    await w.turn();
    expect(store.batches.at(-1)!.map((e) => e.conv)).toEqual([
      'room:#lobby',
      'room:#lobby',
      directConversation('alice', 'bob'),
      directConversation('alice', 'bob'),
    ]);
    expect(store.batches.at(-1)!.map((e) => e.kind)).toEqual(['say', 'action', 'direct', 'direct-action']);
    expect(w.bus.out.length).toBe(before); // nothing before the commit, not even the notice (it keeps its place)
    store.commit();
    await w.turn();
    expect(
      w.bus.out.slice(before).map((o) => (o.op === 'member' || o.op === 'replay' ? o : { op: o.op, msg: o.msg })),
    ).toEqual([
      {
        op: 'rooms',
        msg: { type: 'CHAT', from: 'alice', text: 'one', action: false, ts: 5000, id: 1, room: '#lobby' },
      },
      { op: 'all', msg: { type: 'NOTICE', event: 'shared', nick: 'bob', name: 'f', size: 1 } },
      { op: 'rooms', msg: { type: 'CHAT', from: 'bob', text: 'two', action: true, ts: 5000, id: 2, room: '#lobby' } },
      { op: 'to', msg: { type: 'DIRECT', from: 'alice', to: 'Bob', text: 'psst', ts: 5000, id: 1 } },
      { op: 'to', msg: { type: 'DIRECT', from: 'alice', to: 'Bob', text: 'psst', ts: 5000, id: 1 } },
      { op: 'to', msg: { type: 'DIRECT', from: 'alice', to: 'Bob', text: 'winks', ts: 5000, id: 2, action: true } },
      { op: 'to', msg: { type: 'DIRECT', from: 'alice', to: 'Bob', text: 'winks', ts: 5000, id: 2, action: true } },
    ]);
  });

  it('a segment the store refuses reaches no one: each sender gets NOT_STORED, the operator hears of it, notices still go', async () => {
    const w = setup();
    const store = w.store as GatedStore;
    w.seq.handle({ k: 'enter', session: A, nick: 'alice', version: 2, token: null });
    await w.turn();
    const before = w.bus.out.length;
    w.seq.handle({ k: 'say', room: '#lobby', from: 'alice', text: 'lost', action: false, sender: A });
    w.seq.handle({ k: 'post', frame: encodeMessage({ type: 'BROADCAST', text: 'hi', ts: 1 }) });
    await w.turn();
    store.fail = new StoreError('STORE_FULL', 'the history database x cannot grow: the disk is full');
    store.commit();
    await w.turn();
    expect(w.bus.out.slice(before).map((o) => ('msg' in o ? o.msg.type : o.op))).toEqual(['ERROR', 'BROADCAST']);
    expect(w.bus.out[before]).toMatchObject({ op: 'to', to: A, msg: { code: 'NOT_STORED', fatal: false } });
    expect(w.faults.map((f) => f.code)).toEqual(['STORE_FULL']);
  });

  it('rooms: join makes one, messages go to members only, NOT_IN_ROOM otherwise, part and the notices, the limits', async () => {
    const w = setup(new NoHistory(() => 7), { maxRooms: 2, maxRoomsPerUser: 2, maxMembersPerRoom: 2 });
    for (const [s, nick] of [
      [A, 'alice'],
      [B, 'bob'],
      [C, 'carol'],
    ] as const)
      w.seq.handle({ k: 'enter', session: s, nick, version: 2, token: null });
    await w.seq.drain();
    // #lobby holds 2: carol is in no room, and says so.
    expect(w.bus.seenBy(C).at(-1)).toMatchObject({
      type: 'ERROR',
      code: 'ROOM_LIMIT',
      message: 'you are in no room: #lobby has 2 members, the most a room may have',
    });
    w.seq.handle({ k: 'join', session: A, room: '#Lab' });
    w.seq.handle({ k: 'join', session: C, room: '#lab' });
    w.seq.handle({ k: 'join', session: A, room: '#third' }); // alice is in 2 already
    w.seq.handle({ k: 'join', session: C, room: '#other' }); // carol may be in one more, but the server holds 2 rooms
    w.seq.handle({ k: 'say', room: '#lab', from: 'alice', text: 'lab talk', action: false, sender: A });
    w.seq.handle({ k: 'say', room: '#lab', from: 'bob', text: 'not a member', action: false, sender: B });
    w.seq.handle({ k: 'names', session: B, room: '#LAB' });
    w.seq.handle({ k: 'part', session: C, room: '#lab', reason: 'bye' });
    w.seq.handle({ k: 'rooms', session: B });
    await w.seq.drain();
    const texts = (who: SessionAddress) =>
      w.bus
        .seenBy(who)
        .filter((m) => m.type === 'CHAT')
        .map((m) => (m as { text: string }).text);
    expect(texts(A)).toEqual(['lab talk']);
    expect(texts(B)).toEqual([]);
    expect(texts(C)).toEqual(['lab talk']);
    const bob = w.bus.seenBy(B);
    expect(bob).toContainEqual({
      type: 'ERROR',
      code: 'NOT_IN_ROOM',
      message: 'you are not in #lab: /join #lab first',
      fatal: false,
    });
    expect(bob).toContainEqual({ type: 'NAMES_REPLY', room: '#Lab', nicks: ['alice', 'carol'], total: 2 });
    expect(bob.at(-1)).toEqual({
      type: 'ROOMS_REPLY',
      rooms: [
        { room: '#lobby', members: 2, topic: '' },
        { room: '#Lab', members: 1, topic: '' },
      ],
      total: 2,
    });
    const alice = w.bus.seenBy(A);
    expect(alice).toContainEqual({
      type: 'ERROR',
      code: 'ROOM_LIMIT',
      message: 'you are in 2 rooms, the most one user may be in; /part one first',
      fatal: false,
    });
    expect(alice).toContainEqual({ type: 'NOTICE', event: 'parted', nick: 'carol', room: '#Lab', reason: 'bye' });
    const carol = w.bus.seenBy(C);
    expect(carol).toContainEqual({ type: 'PARTED', room: '#Lab', reason: 'bye' });
    expect(carol.filter((m) => m.type === 'ERROR').map((m) => (m as { code: string }).code)).toEqual([
      'ROOM_LIMIT',
      'ROOM_LIMIT',
    ]);
  });

  it('history on joining overlaps nothing live: what was stored before comes as history, what follows comes live, each once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq-'));
    dirs.push(dir);
    const { store } = await SqliteHistory.open(dir);
    const w = setup(store);
    w.seq.handle({ k: 'enter', session: A, nick: 'alice', version: 2, token: null });
    for (let i = 1; i <= 5; i++)
      w.seq.handle({ k: 'say', room: '#lobby', from: 'alice', text: `m${i}`, action: false, sender: A });
    // In the same turn: bob enters between m5 and m6.
    w.seq.handle({ k: 'enter', session: B, nick: 'bob', version: 2, token: null });
    w.seq.handle({ k: 'say', room: '#lobby', from: 'alice', text: 'm6', action: false, sender: A });
    await w.seq.drain();
    const bob = w.bus.seenBy(B);
    const history = bob.filter((m) => m.type === 'HISTORY');
    expect(history).toEqual([
      {
        type: 'HISTORY',
        room: '#lobby',
        entries: [3, 4, 5].map((n) => expect.objectContaining({ id: n, text: `m${n}`, from: 'alice', action: false })),
        done: true,
        more: true,
      },
    ]);
    expect(bob.filter((m) => m.type === 'CHAT')).toEqual([expect.objectContaining({ id: 6, text: 'm6' })]);
    // The join's own notice and JOINED come before the history, the live message after it.
    expect(bob.map((m) => m.type)).toEqual(['NOTICE', 'JOINED', 'HISTORY', 'CHAT']);
    store.close();
  });

  it('a resume replays what the session missed while away (rooms and direct messages, in parts), then live: each once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq-'));
    dirs.push(dir);
    const { store } = await SqliteHistory.open(dir);
    const w = setup(store);
    w.seq.handle({ k: 'enter', session: A, nick: 'alice', version: 2, token: 'aa'.repeat(16) });
    w.seq.handle({ k: 'enter', session: B, nick: 'bob', version: 2, token: null });
    w.seq.handle({ k: 'say', room: '#lobby', from: 'bob', text: 'seen', action: false, sender: B });
    await w.seq.drain();
    w.seq.handle({ k: 'away', session: A });
    const missed = Array.from({ length: 30 }, (_, i) => `m${i + 1}`);
    for (const text of missed) w.seq.handle({ k: 'say', room: '#lobby', from: 'bob', text, action: false, sender: B });
    // An action, so that the replay shows it keeps its flag (history-frames.ts).
    w.seq.handle({ k: 'direct', from: 'bob', to: 'alice', text: 'psst', action: true, sender: B, target: A });
    await w.seq.drain();
    const A2: SessionAddress = { node: 'n1', slot: A.slot, generation: 2, owner: 1 };
    const at = w.bus.out.length;
    w.seq.handle({
      k: 'resume',
      previous: A,
      session: A2,
      nick: 'alice',
      version: 2,
      token: 'bb'.repeat(16),
      last: [{ room: '#lobby', id: 1 }],
      partBytes: 4096,
    });
    w.seq.handle({ k: 'say', room: '#lobby', from: 'bob', text: 'live', action: false, sender: B });
    await w.seq.drain();
    // The worker asks for each next part once it has sent the last (replay-gate.ts).
    const replays = () => w.bus.out.filter((o): o is Extract<Out, { op: 'replay' }> => o.op === 'replay');
    for (let i = 0; i < 20 && !replays().at(-1)?.done; i++) {
      w.seq.handle({ k: 'replay-next', session: A2 });
      await w.seq.drain();
    }
    expect(replays().length).toBeGreaterThan(1); // 30 entries in parts of about 4 KiB
    expect(replays().at(-1)!.msgs.at(-1)).toEqual({ type: 'RESUMED', missed: 31 });
    // What the worker shows: the replay's parts, then the live frames it held meanwhile.
    const replayed = replays().flatMap((r) => r.msgs);
    const live = w.bus.seenBy(A2).filter((m) => !replayed.includes(m));
    const texts = [...replayed, ...live].flatMap((m) =>
      m.type === 'HISTORY' ? m.entries.map((e) => e.text) : m.type === 'CHAT' || m.type === 'DIRECT' ? [m.text] : [],
    );
    expect(texts).toEqual([...missed, 'psst', 'live']);
    const psst = replayed.flatMap((m) => (m.type === 'HISTORY' ? m.entries : [])).find((e) => e.text === 'psst');
    expect(psst).toMatchObject({ from: 'bob', to: 'alice', action: true });
    expect(replayed.filter((m) => m.type === 'HISTORY').every((m) => m.type === 'HISTORY' && m.missed === true)).toBe(
      true,
    );
    // Nothing of it went to the old address after it went away, and bob heard she was away, then back.
    expect(w.bus.out.slice(at).some((o) => o.op === 'to' && o.to.generation === 1 && o.to.slot === A.slot)).toBe(false);
    const bob = w.bus
      .seenBy(B)
      .filter((m) => m.type === 'NOTICE' && m.nick === 'alice')
      .map((m) => (m as { event: string }).event);
    expect(bob).toEqual(['away', 'back']);
    store.close();
  });
});
