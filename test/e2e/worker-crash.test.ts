import { afterEach, describe, expect, it } from 'vitest';
import {
  LineProcess,
  NO_FLOOD_LIMIT,
  startClient,
  startServer,
  stopAll,
  type ServerHandle,
} from '../helpers/processes.js';

let procs: Array<LineProcess | undefined> = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

/** Opens clients until both workers have at least two; the kernel's reusePort hash decides who goes where. */
async function spreadClients(server: ServerHandle): Promise<Map<string, { client: LineProcess; worker: number }>> {
  const placed = new Map<string, { client: LineProcess; worker: number }>();
  for (let i = 0; i < 24; i++) {
    const nick = `u${i}`;
    // --no-reconnect: the test follows what a dead worker's clients see, not their coming back.
    const client = await startClient(server.port, nick, ['--no-reconnect']);
    procs.push(client);
    const line = await server.waitFor(new RegExp(`^\\* ${nick} joined \\(.*worker (\\d)\\)`));
    placed.set(nick, { client, worker: Number(/worker (\d)\)/.exec(line)![1]) });
    const per = [0, 1].map((w) => [...placed.values()].filter((p) => p.worker === w).length);
    if (per[0]! >= 2 && per[1]! >= 2) return placed;
  }
  throw new Error('the kernel put 24 connections on one worker');
}

describe('a worker dies under load', () => {
  for (const holdLock of [false, true]) {
    it(`its users lose their connection (kept to resume), the rest keep chatting, newcomers can join${holdLock ? ' (died holding the table lock)' : ''}`, async () => {
      // A short resume window: the dead users, who do not come back here, time out within the test.
      const server = await startServer(['--workers', '2', '--resume-window', '3s', ...NO_FLOOD_LIMIT]);
      procs.push(server);
      const placed = await spreadClients(server);
      const onDead = [...placed].filter(([, p]) => p.worker === 0);
      const onLive = [...placed].filter(([, p]) => p.worker === 1);
      const [talkerNick, talker] = onLive[0]!;
      const [, listener] = onLive[1]!;

      // Load: the talker sends a burst while worker 0 is killed.
      const burst = Array.from({ length: 300 }, (_, i) => `load-${i}`);
      talker.client.proc.stdin.write(burst.slice(0, 150).join('\n') + '\n');
      server.send(`/kill-worker 0${holdLock ? ' --hold-lock' : ''}`);
      talker.client.proc.stdin.write(burst.slice(150).join('\n') + '\n');

      await server.waitFor(
        holdLock
          ? /worker 0 exited .*held the session table lock, released/
          : /worker 0 exited \(code \d+\); 0 sessions freed, \d+ kept for resuming/,
      );
      for (const [nick] of onDead) await listener.client.waitFor(`* ${nick} lost connection`);
      for (const [, p] of onDead) expect(await p.client.exit()).toBe(3);

      // Everything the talker sent reached a listener on the surviving worker, in order.
      await listener.client.waitFor(`<${talkerNick}> load-299`);
      expect(
        listener.client.lines.filter((l) => l.startsWith(`<${talkerNick}> load-`)).map((l) => l.split('> ')[1]),
      ).toEqual(burst);

      // The replacement worker comes up and a newcomer can join (claiming a nick takes the lock).
      await server.waitFor('restarting it');
      const newcomer = await startClient(server.port, 'newcomer');
      procs.push(newcomer);
      await listener.client.waitFor('* newcomer joined');
      newcomer.send('hi after the crash');
      await talker.client.waitFor('<newcomer> hi after the crash');
      // A dead user's nick is free again once its window has passed.
      const [deadNick] = onDead[0]!;
      await listener.client.waitFor(`* ${deadNick} timed out`, 15_000);
      const again = await startClient(server.port, deadNick);
      procs.push(again);
      server.send('/list');
      await server.waitFor(`${onLive.length + 2} sessions`);
    });
  }
});
