/**
 * HISTORY_REQUEST pages beside the order (issue 31, item 3), without threads:
 * each session's requests in its own queue, served round-robin, planned and
 * paid for before the text is read, at most a few steps at the reader, all
 * of it dropped when the session goes; and the worker's side of the payment,
 * the flood gate taking a read's cost in order with the session's frames.
 */
import { describe, expect, it } from 'vitest';
import { HistoryReads, MAX_IN_FLIGHT, MAX_QUEUED, type ReadJob } from '../../server/store/history-reads.js';
import type { HistoryReader } from '../../server/store/history-reader.js';
import { planPage, type PagePlan } from '../../server/store/history-pages.js';
import { StoreError } from '../../server/store/store-error.js';
import type { SessionAddress } from '../../server/bus/room-bus.js';
import { FloodGate, readCost } from '../../common/flood-gate.js';
import { InboundGate } from '../../server/chat/inbound-gate.js';
import { FrameType } from '../../common/messages.js';

const at = (slot: number): SessionAddress => ({ node: 'n1', slot, generation: 1, owner: 0 });
const job = (id: number, conv = 'room:#lobby'): ReadJob => ({
  conv,
  parties: null,
  where: { id, room: '#lobby' },
  ask: { upto: 100, limit: 50 },
});

/** A reader whose answers the test lets through one by one; each page is 64 KiB of text. */
class HeldReader implements HistoryReader {
  readonly asked: string[] = [];
  private readonly held: Array<() => void> = [];
  fail: StoreError | null = null;
  private later<T>(what: string, value: () => T): Promise<T> {
    this.asked.push(what);
    return new Promise((resolve, reject) => this.held.push(() => (this.fail ? reject(this.fail) : resolve(value()))));
  }
  plan(conv: string): Promise<PagePlan> {
    return this.later(`plan ${conv}`, () => ({ first: 1, last: 10, count: 10, bytes: 64 * 1024, more: false }));
  }
  frames(conv: string, _p: unknown, _plan: PagePlan, where: { id: number }): Promise<Buffer[]> {
    return this.later(`read ${conv} ${where.id}`, () => [Buffer.from(`answer ${where.id}`)]);
  }
  get waiting(): number {
    return this.held.length;
  }
  /** Lets the oldest step finish, then the turn's promises settle. */
  async step(): Promise<void> {
    this.held.shift()?.();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
  close(): void {}
}

function setup() {
  const reader = new HeldReader();
  const out: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const reads = new HistoryReads({
    reader,
    maxFrame: 65536,
    deliver: (to, frames) => out.push(`${to.slot}: ${frames.map(String).join()}`),
    refuse: (to, code) => out.push(`${to.slot}: ${code}`),
    charge: (to, credits, next) => out.push(`${to.slot}: charge ${credits}${next ? ' then next' : ''}`),
    fault: () => undefined,
    log: (detail) => logs.push(detail),
  });
  return { reader, out, logs, reads };
}

describe('HistoryReads', () => {
  it('plans, charges the page by its bytes, and reads its text only once paid', async () => {
    const { reader, out, reads } = setup();
    reads.ask(at(1), job(7));
    expect(reader.asked).toEqual(['plan room:#lobby']);
    await reader.step();
    expect(out).toEqual([`1: charge ${readCost(64 * 1024)} then next`]);
    expect(reader.waiting).toBe(0); // nothing is read before the credits are taken
    reads.paid(at(1));
    expect(reader.asked.at(-1)).toBe('read room:#lobby 7');
    await reader.step();
    expect(out.at(-1)).toBe('1: answer 7');
    expect(reads.waiting).toBe(0);
  });

  it('serves sessions in turn: one step each, at most MAX_IN_FLIGHT at the reader', async () => {
    const { reader, reads } = setup();
    for (let i = 0; i < 3; i++) reads.ask(at(1), job(i, 'room:#a'));
    reads.ask(at(2), job(10, 'room:#b'));
    reads.ask(at(3), job(20, 'room:#c'));
    expect(reader.waiting).toBe(MAX_IN_FLIGHT);
    expect(reader.asked).toEqual(['plan room:#a', 'plan room:#b']);
    await reader.step();
    // Session 1 now waits for its credits; the third session's turn came before its next step.
    expect(reader.asked).toEqual(['plan room:#a', 'plan room:#b', 'plan room:#c']);
    reads.paid(at(1));
    await reader.step();
    await reader.step();
    expect(reader.asked.at(-1)).toBe('read room:#a 0');
  });

  it(`at most ${MAX_QUEUED} waiting per session: more is HISTORY_BUSY, others are not held up`, () => {
    const { out, reads } = setup();
    for (let i = 0; i < MAX_QUEUED + 2; i++) reads.ask(at(1), job(i));
    reads.ask(at(2), job(99));
    expect(out).toEqual(['1: HISTORY_BUSY', '1: HISTORY_BUSY']);
  });

  it('a session that goes is dropped with all it asked for: nothing more is read or sent for it', async () => {
    const { reader, out, logs, reads } = setup();
    for (let i = 0; i < 4; i++) reads.ask(at(1), job(i));
    await reader.step();
    reads.paid(at(1));
    reads.drop(at(1)); // while its answer is being read
    await reader.step();
    reads.paid(at(1));
    expect(out).toEqual([`1: charge ${readCost(64 * 1024)} then next`]);
    expect(reader.waiting).toBe(0);
    expect(logs).toEqual([{ session: 'n1/1:1', requests: 4, unpaid: false }]);
    expect(reads.counts.dropped).toBe(4);
  });

  it('a read that fails is answered (STORE_FAILED), and the next request goes on', async () => {
    const { reader, out, reads } = setup();
    reads.ask(at(1), job(1));
    reads.ask(at(1), job(2));
    reader.fail = new StoreError('STORE_CORRUPT', 'the history database x is damaged');
    await reader.step();
    expect(out).toEqual(['1: STORE_FAILED']);
    reader.fail = null;
    await reader.step();
    expect(out.at(-1)).toMatch(/^1: charge/);
  });

  it('a plan keeps the newest within the bound on text and says there is more', () => {
    const rows: Array<[number, number]> = [
      [9, 400],
      [8, 400],
      [7, 400],
      [6, 400],
    ];
    expect(planPage(rows, 3, 1000)).toEqual({ first: 8, last: 9, count: 2, bytes: 800 + 2 * 96, more: true });
    expect(planPage(rows.slice(0, 2), 3)).toMatchObject({ first: 8, last: 9, more: false });
    expect(planPage([[5, 10_000]], 1, 10)).toMatchObject({ first: 5, last: 5, count: 1 });
    expect(planPage([], 50)).toMatchObject({ count: 0, more: false });
  });
});

describe('a read charged to the flood credits', () => {
  const policy = { burst: 20, perSecond: 5, backlogFrames: 100, backlogBytes: 1 << 20 };

  it('FloodGate.debit: waits for a full burst, then takes the whole cost; what comes next waits for it', () => {
    const g = new FloodGate({ burst: 20, perSecond: 5 }, 0);
    expect(g.debit(200, 0)).toBe(true);
    expect(g.take(1, 0)).toBe(false);
    expect(g.waitMs(1, 0)).toBe(((180 + 1) / 5) * 1000);
    expect(g.debit(200, 1000)).toBe(false);
  });

  it('InboundGate.charge: paid at once with credits, else in order behind the frames that wait, and the frames after it wait', () => {
    let now = 0;
    const timers: Array<{ at: number; fn: () => void }> = [];
    const ran: string[] = [];
    const gate = new InboundGate(
      policy,
      { now: () => now, after: (ms, fn) => (timers.push({ at: now + ms, fn }), () => undefined) },
      (f) => ran.push(`frame ${f.body.toString()}`),
      () => ran.push('FLOOD'),
    );
    const frame = (text: string) => ({ type: FrameType.CHAT, body: Buffer.from(text) });
    gate.charge(5, () => ran.push('paid 5'));
    expect(ran).toEqual(['paid 5']);
    for (let i = 0; i < 16; i++) gate.push(frame(`${i}`));
    gate.charge(40, () => ran.push('paid 40'));
    gate.push(frame('after'));
    expect(ran.at(-1)).toBe('frame 14');
    // Time passes: frame 15, then the charge once a full burst is back, then the frame after it once the debt is paid.
    const advance = (ms: number) => {
      now += ms;
      for (const t of timers.splice(0))
        if (t.at <= now) t.fn();
        else timers.push(t);
    };
    advance(200);
    expect(ran.at(-1)).toBe('frame 15');
    advance(4000);
    expect(ran.at(-1)).toBe('paid 40');
    advance(4000);
    expect(ran.at(-1)).toBe('paid 40');
    advance(4400);
    expect(ran.at(-1)).toBe('frame after');
    expect(ran).not.toContain('FLOOD');
  });
});

describe('a request whose read fails is answered', () => {
  it('a JOIN whose history cannot be read: the session gets STORE_FAILED, the order goes on', async () => {
    const { Sequencer } = await import('../../server/store/sequencer.js');
    const { NoHistory } = await import('../../server/store/no-history.js');
    const { DEFAULT_ROOM_LIMITS } = await import('../../server/store/rooms.js');
    const { decodeServerMessage, isKnownFrameType } = await import('../../common/protocol.js');
    const { FrameDecoder, MAX_MAX_FRAME } = await import('../../common/frame.js');
    class Broken extends NoHistory {
      override async before(): Promise<never> {
        throw new StoreError('STORE_CORRUPT', 'the history database x is damaged (database disk image is malformed)');
      }
    }
    const got: string[] = [];
    const decode = (b: Buffer) =>
      decodeServerMessage(new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType }).push(b)[0]!);
    const bus = {
      post: () => undefined,
      postTo: (_to: SessionAddress, f: Buffer) => {
        const m = decode(f);
        got.push(m.type === 'ERROR' ? `ERROR ${m.code}` : m.type);
      },
      postToRooms: () => undefined,
      membership: () => undefined,
      replay: () => undefined,
      kick: () => undefined,
      close: () => undefined,
    };
    const faults: StoreError[] = [];
    const seq = new Sequencer({
      node: 'n1',
      store: new Broken(),
      bus,
      fault: (e) => faults.push(e),
      schedule: (fn) => setImmediate(fn),
      defaultRoom: '#lobby',
      roomLimits: DEFAULT_ROOM_LIMITS,
      historyOnJoin: 3,
      maxFrame: 65536,
    });
    seq.handle({ k: 'enter', session: at(1), nick: 'alice', version: 2, token: null });
    seq.handle({ k: 'join', session: at(1), room: '#lab' });
    seq.handle({ k: 'names', session: at(1), room: '#lab' });
    await seq.drain();
    expect(got).toEqual(['JOINED', 'ERROR STORE_FAILED', 'JOINED', 'ERROR STORE_FAILED', 'NAMES_REPLY']);
    expect(faults.map((f) => f.code)).toEqual(['STORE_CORRUPT', 'STORE_CORRUPT']);
  });
});
