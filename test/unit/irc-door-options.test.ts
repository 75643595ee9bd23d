/**
 * The IRC door's settings (issue 37): --irc-port, --no-irc and --irc-nicks
 * as parsed, the start-up line that says where the door is, the server name
 * IRC shows (the machine's, made a valid one), and whose door a nick is
 * (irc-people.ts: the session table's transport, the worker's own IRC users).
 */
import { describe, expect, it } from 'vitest';
import { parseServerArgs, type ServerOptions } from '../../server/process/options.js';
import { listeningLines } from '../../server/process/listening-lines.js';
import { ircServerName } from '../../server/irc-door/door-setup.js';
import { IrcPeople, OTHER_IRC } from '../../server/irc-door/irc-people.js';

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
    const people = new IrcPeople((nick) => table.get(nick as 'webby') ?? null);
    const me = { ident: 'me', realname: 'Me Myself' };
    people.add('Zoë', me);
    expect(people.doorOf('ZOË')).toBe(OTHER_IRC);
    expect(people.doorOf('webby')).toEqual({ kind: 'web' });
    expect(people.doorOf('ircy')).toBe(OTHER_IRC);
    expect(people.doorOf('termy')).toEqual({ kind: 'chat' });
    expect(people.doorOf('nobody')).toEqual({ kind: 'chat' });
    expect(people.infoOf('zoë')).toMatchObject({ realname: 'Me Myself' });
    people.renamed('Zoë', 'Zed', me);
    expect(people.get('Zoë')).toBeUndefined();
    expect(people.get('zed')).toBe(me);
    people.remove('Zed', me);
    expect(people.size).toBe(0);
  });
});
