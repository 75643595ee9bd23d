import { describe, expect, it } from 'vitest';
import { DEFAULT_NODE_ID, parseNodeId, sameSession, sessionKey } from '../../server/bus/node-id.js';
import { memberKey } from '../../server/store/rooms.js';
import { ThreadBus } from '../../server/bus/thread-bus.js';
import type { BusDelivery, SessionAddress } from '../../server/bus/room-bus.js';
import type { SlotRef } from '../../server/shm/session-table.js';
import { parseServerArgs } from '../../server/process/options.js';
import { until } from '../helpers/wait.js';

const at = (node: string, slot = 3, generation = 1, owner = 0): SessionAddress => ({ node, slot, generation, owner });

describe('node ids in session addresses', () => {
  it('--node-id: a short id, or the documented constant', () => {
    expect(parseNodeId(undefined)).toBe(DEFAULT_NODE_ID);
    expect(parseNodeId('eu-1')).toBe('eu-1');
    for (const bad of ['', '-a', 'a/b', 'a:b', 'x'.repeat(17), 'nœud']) expect(() => parseNodeId(bad)).toThrow();
    const nodeOf = (args: string[]) => {
      const parsed = parseServerArgs([...args, '--no-tls'], {});
      return 'options' in parsed ? parsed.options.nodeId : null;
    };
    expect(nodeOf([])).toBe('n1');
    expect(nodeOf(['--node-id', 'b2'])).toBe('b2');
    expect(() => nodeOf(['--node-id', 'b/2'])).toThrow(/--node-id/);
  });

  it('the same slot:generation on two nodes is two sessions', () => {
    expect(sameSession(at('n1'), at('n2'))).toBe(false);
    expect(sessionKey(at('n1'))).not.toBe(sessionKey(at('n2')));
    expect(memberKey(at('n1'))).not.toBe(memberKey(at('n2')));
    // The owning worker is where it lives now, not who it is: a resume moves it.
    expect(sameSession(at('n1', 3, 1, 0), at('n1', 3, 1, 2))).toBe(true);
    expect(sameSession(at('n1', 3, 1), at('n1', 3, 2))).toBe(false);
  });

  it("a worker's thread bus takes only what is addressed to its own node", async () => {
    const name = `node-id-test-${process.pid}-${Date.now()}`;
    const got: string[] = [];
    const delivery = (who: string): BusDelivery => ({
      deliver: () => undefined,
      deliverTo: (t: SlotRef, f: Buffer) => void got.push(`${who} ${t.slot}:${t.generation} ${f.toString()}`),
      kick: (t: SlotRef, reason: string) => void got.push(`${who} kick ${t.slot}:${t.generation} ${reason}`),
      deliverToRooms: () => undefined,
      membership: () => undefined,
      replay: () => undefined,
    });
    // Post-only, as the supervisor's: a channel of its own for each post.
    const sender = new ThreadBus(name, null, null, 'n1', true);
    const here = new ThreadBus(name, 0, delivery('here'), 'n1');
    const there = new ThreadBus(name, 0, delivery('there'), 'n2');
    try {
      sender.postTo(at('n1'), Buffer.from('a'));
      sender.postTo(at('n2'), Buffer.from('b'));
      sender.kick(at('n2'), 'bye');
      // In the order posted, though each went on a channel of its own.
      for (let i = 0; i < 20; i++) sender.postTo(at('n1', 9), Buffer.from(`${i}`));
      // A local delivery is by node too: worker 0 of n1 does not take n2's worker 0's session.
      here.postTo(at('n2', 4), Buffer.from('c'));
      here.postTo(at('n1', 5), Buffer.from('d'));
      // Last, from both senders to both nodes: once these came, anything misdelivered before them has too.
      for (const from of [sender, here]) for (const node of ['n1', 'n2']) from.postTo(at(node, 8), Buffer.from('end'));
      await until(
        () => got.filter((g) => g.endsWith(' 8:1 end')).length === 4,
        5000,
        () => JSON.stringify(got),
      );
      got.splice(0, got.length, ...got.filter((g) => !g.endsWith(' 8:1 end')));
      const inOrder = got.filter((g) => g.startsWith('here 9:1 '));
      expect(inOrder).toEqual(Array.from({ length: 20 }, (_, i) => `here 9:1 ${i}`));
      expect(got.filter((g) => !g.startsWith('here 9:1 ')).sort()).toEqual(
        ['here 3:1 a', 'here 5:1 d', 'there 3:1 b', 'there 4:1 c', 'there kick 3:1 bye'].sort(),
      );
    } finally {
      sender.close();
      here.close();
      there.close();
    }
  });
});
