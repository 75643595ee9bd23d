/**
 * The terminal client's rooms (pipe mode, so every line is checked as
 * scripts read it): /join and the room it talks in, lines from other rooms
 * labelled, /room, /part, /rooms, /names, /topic, history on joining with its
 * separator, /history paging back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/loopback.js';
import { startClient, startServer, stopAll, tempDir, type LineProcess } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

async function setup(args: string[] = []) {
  const server = await startServer(['--workers', '2', '--no-web', ...args]);
  procs.push(server);
  const client = async (nick: string) => {
    const c = await startClient(server.port, nick);
    procs.push(c);
    return c;
  };
  return { server, client };
}

describe('the client in rooms', () => {
  it('/join, talking there, lines from other rooms labelled, /room back, /part', async () => {
    const { client } = await setup();
    const alice = await client('alice');
    const bob = await client('bob');
    await alice.waitFor(/^\* you are in #lobby \(1 member\)$/);
    alice.send('/join #Lab');
    await alice.waitFor(/^\* you are in #Lab \(1 member\)$/);
    alice.send('first in the lab');
    await alice.waitFor(/^<alice> first in the lab$/); // the current room: no label
    bob.send('hello lobby');
    await alice.waitFor(/^\[#lobby\] <bob> hello lobby$/);
    alice.send('/room #lobby');
    await alice.waitFor(/^\* now talking in #lobby$/);
    alice.send('back in the lobby');
    await bob.waitFor(/^<alice> back in the lobby$/);
    bob.send('/join #lab');
    await bob.waitFor(/^\* you are in #Lab \(2 members\)$/);
    // History on joining, then the separator, then live.
    await bob.waitFor(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] <alice> first in the lab$/);
    await bob.waitFor(/^--- #Lab: earlier messages above, live from here ---$/);
    await alice.waitFor(/^\* bob joined #Lab$/);
    bob.send('/part #lab see you');
    await bob.waitFor(/^\* you left #Lab$/);
    await alice.waitFor(/^\* bob left #Lab \(see you\)$/);
    expect(bob.lines.filter((l) => l.includes('first in the lab'))).toHaveLength(1);
  });

  it('/rooms, /names, /topic; errors are one line and the client runs on', async () => {
    const { client } = await setup();
    const alice = await client('alice');
    await alice.waitFor(/^\* you are in #lobby/);
    alice.send('/join net');
    await alice.waitFor(/^\* you are in #net/);
    alice.send('/topic sliding windows');
    await alice.waitFor(/^\* alice set the topic of #net: sliding windows$/);
    alice.send('/rooms');
    await alice.waitFor(/^\*   #net  1 member  sliding windows$/);
    alice.send('/names #lobby');
    await alice.waitFor(/^\* #lobby: alice$/);
    alice.send('/room #nowhere');
    await alice.waitFor(/^! you are not in #nowhere: \/join #nowhere$/);
    alice.send('/join #two words');
    await alice.waitFor(/^! usage: \/join #room$/);
    alice.send('/join #a\u202eb');
    await alice.waitFor(/^! ROOM_INVALID: invalid room name/);
    alice.send('still here');
    await alice.waitFor(/^<alice> still here$/);
  });

  it('/history pages back from the oldest line seen; by time too', async () => {
    const { client } = await setup(['--history-on-join', '3', '--flood-burst', '1000', '--flood-rate', '1000']);
    const alice = await client('alice');
    await alice.waitFor(/^\* you are in #lobby/);
    for (let i = 1; i <= 8; i++) alice.send(`line ${i}`);
    await alice.waitFor(/^<alice> line 8$/);
    const bob = await client('bob');
    await bob.waitFor(/^--- #lobby: earlier messages above, live from here ---$/);
    expect(bob.lines.filter((l) => /<alice> line \d$/.test(l)).map((l) => l.slice(-6))).toEqual([
      'line 6',
      'line 7',
      'line 8',
    ]);
    bob.send('/history 3');
    await bob.waitFor(/^--- #lobby: more before these: \/history again ---$/);
    bob.send('/history');
    await bob.waitFor(/^--- #lobby: that is the beginning ---$/);
    expect(bob.lines.filter((l) => /<alice> line \d$/.test(l)).map((l) => l.slice(-6))).toEqual([
      'line 6',
      'line 7',
      'line 8',
      'line 3',
      'line 4',
      'line 5',
      'line 1',
      'line 2',
    ]);
    bob.send('/history 1h');
    await bob.waitFor(/^--- #lobby: that is the beginning ---$/);
  });

  it('a server restart: the client resumes by itself, still in its rooms, the current one still current, what was typed meanwhile sent once', async () => {
    const port = await freePort();
    const data = tempDir('rooms-data');
    const first = await startServer(['--workers', '2', '--no-web', '--port', String(port), '--data', data]);
    procs.push(first);
    const alice = await startClient(port, 'alice');
    procs.push(alice);
    alice.send('/join #lab');
    await alice.waitFor(/^\* you are in #lab/);
    alice.send('/room #lobby');
    await alice.waitFor(/^\* now talking in #lobby$/);
    first.proc.kill('SIGKILL');
    await alice.waitFor(/^\* connection (closed by the server|to the server lost); reconnecting in \d/);
    alice.send('typed while away');
    const second = await startServer(['--workers', '2', '--no-web', '--port', String(port), '--data', data]);
    procs.push(second);
    await alice.waitFor(/^\* session resumed; sending the 1 line typed meanwhile$/, 40_000);
    await alice.waitFor(/^\* reconnected: 0 missed messages$/);
    // Still talking in the lobby: the line typed meanwhile went there, and so does the next.
    await alice.waitFor(/^<alice> typed while away$/);
    alice.send('after');
    await alice.waitFor(/^<alice> after$/);
    alice.send('/names #lab');
    await alice.waitFor(/^\* #lab: alice$/);
    expect(alice.count(/^\* you are in #lab/)).toBe(1);
    expect(alice.exitCode).toBeUndefined();
  }, 60_000);

  it('/history nick: your direct messages with them, both directions, dated', async () => {
    const { client } = await setup();
    const alice = await client('alice');
    const bob = await client('bob');
    alice.send('/msg bob are you there?');
    await bob.waitFor(/^\*alice\* are you there\?$/);
    bob.send('/msg alice yes');
    await alice.waitFor(/^\*bob\* yes$/);
    alice.send('/history bob');
    await alice.waitFor(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] -> \*bob\* are you there\?$/);
    await alice.waitFor(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] \*bob\* yes$/);
    await alice.waitFor(/^--- your messages with bob: that is the beginning ---$/);
  });
});
