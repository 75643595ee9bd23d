/**
 * The IRC door's settings (issue 37): --irc-port, --no-irc and --irc-nicks
 * as parsed, the start-up line that says where the door is, the server name
 * IRC shows (the machine's, made a valid one), and whose door a nick is
 * (irc-people.ts: the session table's transport, the worker's own IRC users),
 * and what one worker's IRC people are to another's through the shared
 * IrcPeopleTable (real name, account, AWAY; an ended session's entry names
 * no later session of its slot; AWAY changes told to listeners on both).
 */
import { describe, expect, it } from 'vitest';
import { ircListenPort, parseServerArgs, type ServerOptions } from '../../server/process/options.js';
import { listeningLines } from '../../server/process/listening-lines.js';
import { ircServerName } from '../../server/irc-door/door-setup.js';
import { type AwayChange, type AwayChannel, IrcPeople, OTHER_IRC } from '../../server/irc-door/irc-people.js';
import { AWAY_BYTES, IrcPeopleTable, REALNAME_BYTES } from '../../server/shm/irc-people-table.js';
import type { Transport } from '../../server/shm/slot-layout.js';

function options(args: string[]): ServerOptions {
  const parsed = parseServerArgs(args, {});
  if (!('options' in parsed)) throw new Error('no options');
  return parsed.options;
}

describe('the IRC door settings', () => {
  it('--irc-port, --no-irc, --irc-nicks: IRC’s own port by default (the supervisor picks 6697 or 6667)', () => {
    expect(options([])).toMatchObject({ ircPort: undefined, ircNicks: 'utf8' });
    expect(options(['--irc-port', '0'])).toMatchObject({ ircPort: 0 });
    expect(options(['--irc-port', '7000', '--irc-nicks', 'ascii'])).toMatchObject({ ircPort: 7000, ircNicks: 'ascii' });
    expect(options(['--no-irc'])).toMatchObject({ ircPort: null });
    expect(() => options(['--no-irc', '--irc-port', '7000'])).toThrow(/--no-irc turns the IRC door off/);
    expect(() => options(['--irc-nicks', 'latin1'])).toThrow(/--irc-nicks/);
    expect(() => options(['--irc-port', '70000'])).toThrow(/--irc-port/);
  });

  it('the door listens on 6697 with TLS, 6667 without, a free port beside a free chat port, or as asked', () => {
    expect(ircListenPort(options([]))).toBe(6697);
    expect(ircListenPort(options(['--no-tls']))).toBe(6667);
    expect(ircListenPort(options(['--port', '0']))).toBe(0);
    expect(ircListenPort(options(['--port', '0', '--no-tls']))).toBe(0);
    expect(ircListenPort(options(['--port', '0', '--irc-port', '7000']))).toBe(7000);
    expect(ircListenPort(options(['--irc-port', '0']))).toBe(0);
    expect(ircListenPort(options(['--no-irc']))).toBeNull();
  });

  it('the start-up output says where the door is, and whether it is encrypted', () => {
    const base = {
      host: '127.0.0.1',
      workers: 1,
      port: 9000,
      lftpPort: 9000,
      httpPort: null,
      filesDir: 'f',
      admin: false,
    };
    expect(listeningLines({ ...base, ircPort: 6697, tlsLine: 'tls: x' })).toContain('irc on tcp 127.0.0.1:6697 (TLS)');
    expect(listeningLines({ ...base, ircPort: 6667, tlsLine: null })).toContain('irc on tcp 127.0.0.1:6667 (no TLS)');
    expect(listeningLines({ ...base, ircPort: null, tlsLine: null }).join('\n')).not.toContain('irc on');
  });

  it('the server’s IRC name is the machine’s, made a valid one, or the network’s', () => {
    expect(ircServerName('chatbox.example.org')).toBe('chatbox.example.org');
    expect(ircServerName('my box_1')).toBe('mybox1');
    expect(ircServerName('___')).toBe('heartbeat-chat');
  });

  it('a nick’s door: the worker’s own IRC users, else the session table’s transport', () => {
    const table = new Map([
      ['webby', 'ws'],
      ['ircy', 'irc'],
      ['termy', 'tcp'],
    ] as const);
    const where = (nick: string) => {
      const transport = table.get(nick as 'webby');
      return transport ? { slot: 0, generation: 1, transport } : null;
    };
    const people = new IrcPeople(where, IrcPeopleTable.create(4));
    const me = { ident: 'me', realname: 'Me Myself' };
    people.add('Zoë', me);
    expect(people.doorOf('ZOË')).toEqual({ kind: 'irc', ident: 'me' });
    expect(people.doorOf('webby')).toEqual({ kind: 'web' });
    expect(people.doorOf('ircy')).toBe(OTHER_IRC); // an IRC session of the node the shared table does not hold yet
    expect(people.doorOf('termy')).toEqual({ kind: 'chat' });
    expect(people.doorOf('nobody')).toEqual({ kind: 'chat' });
    expect(people.infoOf('zoë')).toMatchObject({ realname: 'Me Myself' });
    people.renamed('Zoë', 'Zed', me);
    expect(people.get('Zoë')).toBeUndefined();
    expect(people.get('zed')).toBe(me);
    people.remove('Zed', me);
    expect(people.size).toBe(0);
  });

  it('an IRC user of another worker: real name, account and AWAY from the shared table, AWAY changes told', () => {
    const shared = IrcPeopleTable.create(8);
    // The node's session table: who holds which nick, in which slot and generation, connected how.
    const slots = new Map<string, { slot: number; generation: number; transport: Transport }>([
      ['alice', { slot: 3, generation: 7, transport: 'irc' }],
      ['bob', { slot: 5, generation: 2, transport: 'irc' }],
      ['carol', { slot: 6, generation: 1, transport: 'tcp' }],
    ]);
    const where = (nick: string) => slots.get(nick.toLowerCase()) ?? null;
    const heard: AwayChange[][] = [[], []];
    const listeners: Array<(c: AwayChange) => void> = [];
    // The channel between the two workers: what one posts, the other hears.
    const channel = (i: number): AwayChannel => ({
      post: (c) => listeners[1 - i]?.(c),
      onChange: (l) => void (listeners[i] = l),
    });
    const w0 = new IrcPeople(where, new IrcPeopleTable(shared.buffer), channel(0));
    const w1 = new IrcPeople(where, new IrcPeopleTable(shared.buffer), channel(1));
    w0.listen((c) => heard[0]!.push(c));
    w1.listen((c) => heard[1]!.push(c));
    const alice = { ident: 'al', realname: 'Alice Liddell' };
    w0.add('alice', alice);
    expect(w1.infoOf('Alice')).toMatchObject({ realname: 'Alice Liddell', door: { kind: 'irc', ident: 'al' } });
    expect(w1.infoOf('carol').realname).toBeUndefined();
    Object.assign(alice, { account: 'alice', awayMessage: 'at lunch' });
    w0.awayChanged('alice', alice, ['#lobby']);
    expect(w1.accountOf('alice')).toBe('alice');
    expect(w1.awayOf('alice')).toBe('at lunch');
    expect(heard).toEqual([
      [{ nick: 'alice', message: 'at lunch', rooms: ['#lobby'] }],
      [{ nick: 'alice', message: 'at lunch', rooms: ['#lobby'] }],
    ]);
    delete (alice as { awayMessage?: string }).awayMessage;
    w0.awayChanged('alice', alice, ['#lobby']);
    expect(w1.awayOf('alice')).toBeUndefined();
    expect(heard[1]!.at(-1)).toEqual({ nick: 'alice', message: null, rooms: ['#lobby'] });
    // The slot's next session (another generation) is not alice, and alice's end empties her entry.
    slots.set('alice', { slot: 3, generation: 8, transport: 'irc' });
    expect(w1.infoOf('alice').realname).toBeUndefined();
    slots.set('alice', { slot: 3, generation: 7, transport: 'irc' });
    w0.remove('alice', alice);
    expect(w1.infoOf('alice').realname).toBeUndefined();
  });

  it('the shared table cuts long text at a character boundary and ignores slots it does not have', () => {
    const t = IrcPeopleTable.create(2);
    const at = { slot: 1, generation: 3 };
    t.write(at, { ident: 'x', realname: 'é'.repeat(REALNAME_BYTES), awayMessage: '界'.repeat(AWAY_BYTES) });
    const p = t.read(at)!;
    expect(p.realname).toBe('é'.repeat(REALNAME_BYTES / 2));
    expect(p.awayMessage).toBe('界'.repeat(Math.floor(AWAY_BYTES / 3)));
    expect(p.account).toBeUndefined();
    expect(t.read({ slot: 1, generation: 4 })).toBeNull();
    expect(t.read({ slot: 0, generation: 0 })).toBeNull();
    t.write({ slot: 9, generation: 1 }, p);
    expect(t.read({ slot: 9, generation: 1 })).toBeNull();
  });
});
