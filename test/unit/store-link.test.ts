/** A worker's link to the store thread: a request the dying thread may not have handled is refused to its sender, never dropped in silence. */
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { once } from 'node:events';
import { until } from '../helpers/wait.js';
import { StoreLink } from '../../server/store/store-link.js';
import type { SessionAddress } from '../../server/bus/room-bus.js';

const A: SessionAddress = { node: 'n1', slot: 1, generation: 1, owner: 0 };
const say = (text: string) => ({ k: 'say' as const, room: '#lobby', from: 'alice', text, action: false, sender: A });

describe('StoreLink', () => {
  it('refuses, when the store thread dies, what it had not counted as handled; not what it had', async () => {
    const { port1, port2 } = new MessageChannel();
    const refused: string[] = [];
    const got: string[] = [];
    port2.on('message', (m: { text?: string }) => m.text && got.push(m.text));
    const link = new StoreLink(port1, (_to, message) => refused.push(message));
    link.send(say('one'));
    link.send(say('two'));
    link.send({ k: 'post', frame: new Uint8Array([1]) }); // no sender: nobody to tell
    link.send(say('three'));
    await until(
      () => got.length >= 3,
      5000,
      () => `the store's end got ${JSON.stringify(got)}`,
    );
    expect(got).toEqual(['one', 'two', 'three']);
    // An ask answered after the count is the marker: one port delivers in order, so once the answer is in,
    // so is the count.
    const asked = link.account('nobody');
    port2.postMessage({ k: 'handled', count: 2 }); // one and two are done
    port2.postMessage({ k: 'answer', id: 1, account: null });
    expect(await asked).toBeNull();
    port2.close(); // the thread dies with three unhandled
    // Everything the dead port leaves unhandled is refused at once, when its close is seen.
    await until(
      () => refused.length > 0,
      5000,
      () => 'nothing refused',
    );
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^maybe not done: the server's history store restarted/);
    link.send(say('four')); // meanwhile: refused at once
    expect(refused.at(-1)).toMatch(/restarting; try again in a moment$/);
  });

  it('at shutdown refuses nothing (the store thread drains what it was sent)', async () => {
    const { port1 } = new MessageChannel();
    const refused: string[] = [];
    const link = new StoreLink(port1, (_to, message) => refused.push(message));
    link.send(say('last'));
    // Listened for after the link's own listener: by the time this one runs, the link has seen the close.
    const closed = once(port1, 'close');
    link.close();
    await closed;
    expect(refused).toEqual([]);
  });
});
