/** A worker's link to the store thread: a request the dying thread may not have handled is refused to its sender, never dropped in silence. */
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { StoreLink } from '../../server/store/store-link.js';
import type { SessionAddress } from '../../server/bus/room-bus.js';

const A: SessionAddress = { slot: 1, generation: 1, owner: 0 };
const say = (text: string) => ({ k: 'say' as const, room: '#lobby', from: 'alice', text, action: false, sender: A });
const settle = () => new Promise((r) => setTimeout(r, 50));

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
    await settle();
    expect(got).toEqual(['one', 'two', 'three']);
    port2.postMessage({ k: 'handled', count: 2 }); // one and two are done
    await settle();
    port2.close(); // the thread dies with three unhandled
    await settle();
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
    link.close();
    await settle();
    expect(refused).toEqual([]);
  });
});
