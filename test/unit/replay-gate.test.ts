/**
 * The worker's side of history going out, without sockets: a HISTORY answer
 * is handed over a window at a time as the output drains, never counted
 * against --max-sendq; live frames wait behind it (and are); a resume's parts
 * go ahead of the live frames held since it began, the next asked for as the
 * backlog drains; every held byte is charged to the output budget.
 */
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../common/frame.js';
import { FrameType } from '../../common/protocol.js';
import { REPLAY_STALL_MS, ReplayGate, isHistoryFrame } from '../../server/chat/replay-gate.js';

/** A frame whose body is its name padded to `size` bytes: HISTORY (a reply) or CHAT (live). */
const frame = (type: number, name: string, size = name.length) => encodeFrame(type, Buffer.from(name.padEnd(size)));
const history = (name: string, size?: number) => frame(FrameType.HISTORY, name, size);
const live = (name: string, size?: number) => frame(FrameType.CHAT, name, size);
const nameOf = (f: Buffer) => f.subarray(5).toString().trimEnd();

/** A client whose output holds everything sent until it reads (drain()). */
function world(maxBytes = 4000) {
  const sent: string[] = [];
  const failed: string[] = [];
  let queued = 0;
  let asked = 0;
  let now = 0;
  let charged = 0;
  const gate = new ReplayGate(
    {
      send: (f) => {
        sent.push(nameOf(f));
        queued += f.length;
        return failed.length === 0;
      },
      transport: {
        get queuedBytes() {
          return queued;
        },
      },
      fail: (code) => void failed.push(code),
    },
    () => asked++,
    maxBytes,
    () => now,
    { charge: (b) => (charged += b) },
  );
  return {
    gate,
    sent,
    failed,
    /** The client reads everything waiting: the connection's flush tells the gate. */
    drain: () => {
      queued = 0;
      gate.drained();
    },
    queued: () => queued,
    asked: () => asked,
    charged: () => charged,
    advance: (ms: number) => (now += ms),
  };
}

describe('ReplayGate', () => {
  it('tells a HISTORY frame (a reply) from a live one by its type', () => {
    expect(isHistoryFrame(history('h'))).toBe(true);
    expect(isHistoryFrame(live('l'))).toBe(false);
    expect(isHistoryFrame(Buffer.alloc(3))).toBe(false);
  });

  it('hands an answer far past --max-sendq over a window at a time as the client reads, live frames waiting behind it', () => {
    const w = world(4000); // a window: 1,000 bytes
    w.gate.deliver(live('before'));
    w.drain();
    for (let i = 1; i <= 20; i++) w.gate.deliver(history(`h${i}`, 495)); // 10 KB: 2.5 times --max-sendq
    w.gate.deliver(live('after1'));
    w.gate.deliver(live('after2'));
    expect(w.sent).toEqual(['before', 'h1', 'h2']); // each handed over while less than the window waited
    expect(w.failed).toEqual([]);
    for (let reads = 0; w.gate.pacing && reads < 100; reads++) {
      expect(w.queued()).toBeLessThan(1000 + 500);
      w.drain();
    }
    expect(w.sent).toEqual(['before', ...Array.from({ length: 20 }, (_, i) => `h${i + 1}`), 'after1', 'after2']);
    expect(w.failed).toEqual([]);
    expect(w.charged()).toBe(0);
    w.gate.deliver(live('later')); // nothing held: at once
    expect(w.sent.at(-1)).toBe('later');
  });

  it('counts the live frames held behind an answer against --max-sendq, never the answer', () => {
    const w = world(4000);
    for (let i = 1; i <= 40; i++) w.gate.deliver(history(`h${i}`, 995)); // 40 KB of answers: held, not a fault
    expect(w.failed).toEqual([]);
    expect(w.charged()).toBe(40 * 1000 - 1000); // what waits in the gate, the first handed over
    expect(w.gate.bytes).toBe(w.charged());
    w.gate.deliver(live('l1', 1995));
    w.gate.deliver(live('l2', 1995));
    expect(w.failed).toEqual([]); // 4,000 live bytes: at the bound
    w.gate.deliver(live('l3', 1));
    expect(w.failed).toEqual(['SEND_QUEUE_FULL']);
  });

  it('a resume: parts ahead of the live frames held since it began, answers in order behind those, the next part asked for as the backlog drains', () => {
    const w = world(4000);
    w.gate.deliver(live('before'));
    w.gate.begin();
    w.gate.deliver(live('live1'));
    w.gate.deliver(history('joined-history')); // an answer that came after live1 in the order
    expect(w.sent).toEqual(['before']);
    w.gate.part([history('missed1', 600), history('missed2', 600)], false);
    expect(w.sent).toEqual(['before', 'missed1', 'missed2']); // missed2 handed over under the window
    expect(w.asked()).toBe(0); // more than a window waits
    w.drain();
    expect(w.asked()).toBe(1);
    w.drain(); // asked already: once per part
    expect(w.asked()).toBe(1);
    w.gate.deliver(live('live2'));
    w.gate.part([history('missed3'), live('RESUMED')], true);
    w.drain();
    expect(w.sent).toEqual(['before', 'missed1', 'missed2', 'missed3', 'RESUMED', 'live1', 'joined-history', 'live2']);
    expect(w.gate.pacing).toBe(false);
    expect(w.charged()).toBe(0);
  });

  it('says when a part stopped coming; an ended connection lets go of what was held', () => {
    const s = world();
    s.gate.begin();
    s.advance(REPLAY_STALL_MS);
    expect(s.gate.stalled()).toBe(false);
    s.advance(1);
    expect(s.gate.stalled()).toBe(true);
    s.gate.part([], true);
    expect(s.gate.stalled()).toBe(false);
    const w = world(4000);
    for (let i = 1; i <= 10; i++) w.gate.deliver(history(`h${i}`, 995));
    w.gate.deliver(live('l'));
    expect(w.charged()).toBeGreaterThan(0);
    w.gate.discard();
    expect(w.charged()).toBe(0);
    expect(w.gate.bytes).toBe(0);
    expect(w.gate.pacing).toBe(false);
  });
});
