import { describe, expect, it } from 'vitest';
import { type InContext, fromIrc } from '../../server/irc/from-irc.js';
import { parseLine, serialize } from '../../server/irc/message.js';
import { accountReplyLines, nickservCommand } from '../../server/irc/nickserv.js';

const ctx: InContext = {
  server: 'irc.chat',
  host: 'irc.chat',
  nickMode: 'utf8',
  me: 'bob',
  rooms: ['#lobby', '#lab'],
  ctcp: { version: 'heartbeat-chat 0.1.0', source: 'https://example.invalid', now: () => 0 },
};
const run = (line: string, c: InContext = ctx) => {
  const r = fromIrc(c, parseLine(line));
  return { frames: r.frames, replies: r.replies.map(serialize), local: r.local };
};

describe('IRC commands as chat frames', () => {
  it('PRIVMSG to a room is CHAT, to a nick DIRECT, /me an action (in a DM too, DIRECT with action)', () => {
    expect(run('PRIVMSG #lobby :hello all').frames).toEqual([
      { type: 'CHAT', text: 'hello all', action: false, room: '#lobby' },
    ]);
    expect(run('PRIVMSG #lobby :\u0001ACTION waves\u0001').frames).toEqual([
      { type: 'CHAT', text: 'waves', action: true, room: '#lobby' },
    ]);
    expect(run('PRIVMSG 小明 :你好').frames).toEqual([{ type: 'DIRECT', to: '小明', text: '你好' }]);
    expect(run('PRIVMSG xn--yeto6u :hi').frames).toEqual([{ type: 'DIRECT', to: '小明', text: 'hi' }]);
    expect(run('PRIVMSG alice :\u0001ACTION waves\u0001').frames).toEqual([
      { type: 'DIRECT', to: 'alice', text: 'waves', action: true },
    ]);
    expect(run('NOTICE #lobby :bot output').frames).toEqual([
      { type: 'CHAT', text: 'bot output', action: false, room: '#lobby' },
    ]);
  });

  it('PRIVMSG refusals: 411, 412, 407, 403 and 401 with the rule; NOTICE is never answered', () => {
    expect(run('PRIVMSG').replies).toEqual([':irc.chat 411 bob :No recipient given (PRIVMSG)']);
    expect(run('PRIVMSG #lobby').replies).toEqual([':irc.chat 412 bob :No text to send']);
    expect(run('PRIVMSG #lobby :\u0002\u0002').replies).toEqual([':irc.chat 412 bob :No text to send']);
    expect(run('PRIVMSG a,b :x').replies).toEqual([':irc.chat 407 bob a,b :Too many targets: one at a time']);
    expect(run('PRIVMSG #a\u200bb :x').replies[0]).toMatch(/^:irc\.chat 403 bob #a\u200bb :U\+200B/);
    expect(run('PRIVMSG a\\b :x').replies[0]).toMatch(/^:irc\.chat 401 bob a\\b :U\+005C/);
    for (const l of ['NOTICE', 'NOTICE #lobby', 'NOTICE a,b :x', 'NOTICE a\\b :x'])
      expect(run(l)).toEqual({ frames: [], replies: [], local: [] });
  });

  it('CTCP queries are answered by the server, never relayed', () => {
    expect(run('PRIVMSG alice :\u0001VERSION\u0001')).toEqual({
      frames: [],
      replies: [
        ':irc.chat NOTICE bob :\u0001VERSION heartbeat-chat 0.1.0 (answered by the server: users here may be on any client)\u0001',
      ],
      local: [],
    });
    expect(run('NOTICE alice :\u0001VERSION irssi\u0001')).toEqual({ frames: [], replies: [], local: [] });
  });

  it('a JOIN, PART, TOPIC or NAMES list that names no room is 461; an empty name in a list is skipped', () => {
    for (const l of ['JOIN ,', 'JOIN :', 'PART ,,', 'TOPIC ,', 'NAMES ,'])
      expect(run(l)).toEqual({
        frames: [],
        replies: [`:irc.chat 461 bob ${l.split(' ')[0]} :Not enough parameters`],
        local: [],
      });
    expect(run('JOIN #a,,#b').frames).toEqual([
      { type: 'JOIN', room: '#a' },
      { type: 'JOIN', room: '#b' },
    ]);
  });

  it('JOIN, JOIN 0, PART, TOPIC, NICK, NAMES, LIST', () => {
    expect(run('JOIN #lab,#实验室,&x').frames).toEqual([
      { type: 'JOIN', room: '#lab' },
      { type: 'JOIN', room: '#实验室' },
    ]);
    expect(run('JOIN #lab,&x').replies).toEqual([':irc.chat 403 bob &x :only # rooms exist here (&x)']);
    expect(run('JOIN 0').frames).toEqual([
      { type: 'PART', room: '#lobby', reason: 'left all rooms' },
      { type: 'PART', room: '#lab', reason: 'left all rooms' },
    ]);
    expect(run('PART #lab :bye').frames).toEqual([{ type: 'PART', room: '#lab', reason: 'bye' }]);
    expect(run('PART #lab').frames).toEqual([{ type: 'PART', room: '#lab' }]);
    expect(run('TOPIC #lab').frames).toEqual([{ type: 'TOPIC', room: '#lab' }]);
    expect(run('TOPIC #lab :').frames).toEqual([{ type: 'TOPIC', room: '#lab', text: '' }]);
    expect(run('TOPIC #lab :Week 3').frames).toEqual([{ type: 'TOPIC', room: '#lab', text: 'Week 3' }]);
    expect(run('NICK Zoe\u0308').frames).toEqual([{ type: 'NICK', nick: 'Zoë' }]);
    expect(run('NICK').replies).toEqual([':irc.chat 431 bob :No nickname given']);
    expect(run('NICK a\\b').replies[0]).toMatch(/^:irc\.chat 432 bob a\\b :/);
    expect(run('NAMES').frames).toEqual([
      { type: 'NAMES', room: '#lobby' },
      { type: 'NAMES', room: '#lab' },
    ]);
    expect(run('NAMES #lab').frames).toEqual([{ type: 'NAMES', room: '#lab' }]);
    expect(run('LIST').frames).toEqual([{ type: 'ROOMS' }]);
    for (const c of ['JOIN', 'PART', 'TOPIC'])
      expect(run(c).replies).toEqual([`:irc.chat 461 bob ${c} :Not enough parameters`]);
  });

  it('what only the worker can answer: WHO (and WHOX), WHOIS, MOTD, LUSERS, AWAY, QUIT, PONG', () => {
    expect(run('WHO #lab %tnuhar,42').local).toEqual([
      { kind: 'who', mask: '#lab', whox: { fields: new Set(['t', 'n', 'u', 'h', 'a', 'r']), token: '42' } },
    ]);
    expect(run('WHO').local).toEqual([{ kind: 'who', mask: '*', whox: null }]);
    expect(run('WHOIS xn--yeto6u').local).toEqual([{ kind: 'whois', nick: '小明' }]);
    expect(run('WHOIS irc.chat alice').local).toEqual([{ kind: 'whois', nick: 'alice' }]);
    expect(run('WHOIS').replies).toEqual([':irc.chat 431 bob :No nickname given']);
    expect(run('WHOIS a\\b').replies).toEqual([
      expect.stringMatching(/^:irc\.chat 401 bob a\\b :U\+005C/),
      ':irc.chat 318 bob a\\b :End of /WHOIS list',
    ]);
    expect(run('MOTD').local).toEqual([{ kind: 'motd' }]);
    expect(run('LUSERS').local).toEqual([{ kind: 'lusers' }]);
    expect(run('AWAY :lunch').local).toEqual([{ kind: 'away', text: 'lunch' }]);
    expect(run('AWAY').local).toEqual([{ kind: 'away', text: null }]);
    expect(run('QUIT :see you')).toEqual({
      frames: [{ type: 'BYE', reason: 'see you' }],
      replies: [],
      local: [{ kind: 'quit', reason: 'see you' }],
    });
    expect(run('PONG irc.chat :hb-7').local).toEqual([{ kind: 'pong', token: 'hb-7' }]);
    expect(run('PING :x').replies).toEqual([':irc.chat PONG irc.chat :x']);
  });

  it('MODE is answered (+n rooms, +i users, an empty ban list), never changed; KICK needs an operator nobody is', () => {
    expect(run('MODE #lab').replies).toEqual([':irc.chat 324 bob #lab :+n']);
    expect(run('MODE #lab b').replies).toEqual([':irc.chat 368 bob #lab :End of channel ban list']);
    expect(run('MODE #lab +m').replies).toEqual([":irc.chat 482 bob #lab :You're not channel operator"]);
    expect(run('MODE bob').replies).toEqual([':irc.chat 221 bob :+i']);
    expect(run('MODE bob +i').replies).toEqual([]);
    for (const change of ['+x', '-i', '+iw'])
      expect(run(`MODE bob ${change}`).replies).toEqual([':irc.chat 501 bob :Unknown MODE flag']);
    expect(run('MODE alice').replies).toEqual([":irc.chat 502 bob :Can't change mode for other users"]);
    expect(run('KICK #lab alice').replies).toEqual([":irc.chat 482 bob #lab :You're not channel operator"]);
  });

  it('TAGMSG is dropped, VERSION answered, anything else 421', () => {
    expect(run('@+typing=active TAGMSG #lab')).toEqual({ frames: [], replies: [], local: [] });
    expect(run('VERSION').replies).toEqual([
      ':irc.chat 351 bob heartbeat-chat-0.1.0 irc.chat :heartbeat-chat IRC door',
    ]);
    expect(run('OPER root pw').replies).toEqual([':irc.chat 421 bob OPER :Unknown command']);
  });
});

describe('NickServ', () => {
  it('IDENTIFY, REGISTER and PASSWORD are the chat ACCOUNT ops', () => {
    expect(run('PRIVMSG NickServ :IDENTIFY s3cret-pass').frames).toEqual([
      { type: 'ACCOUNT', op: 'identify', nick: 'bob', password: 's3cret-pass' },
    ]);
    expect(run('PRIVMSG nickserv :identify 小明 s3cret-pass').frames).toEqual([
      { type: 'ACCOUNT', op: 'identify', nick: '小明', password: 's3cret-pass' },
    ]);
    expect(nickservCommand('REGISTER pw12345678 bob@example.org', 'bob')).toEqual({
      frame: { type: 'ACCOUNT', op: 'register', password: 'pw12345678' },
    });
    expect(nickservCommand('PASSWORD old12345 new12345', 'bob')).toEqual({
      frame: { type: 'ACCOUNT', op: 'password', password: 'old12345', newPassword: 'new12345' },
    });
  });

  it('a NOTICE to NickServ is no command', () => {
    expect(run('NOTICE NickServ :IDENTIFY s3cret-pass')).toEqual({ frames: [], replies: [], local: [] });
  });

  it('anything else gets its help as NOTICEs from NickServ', () => {
    const r = run('PRIVMSG NickServ :GHOST alice');
    expect(r.frames).toEqual([]);
    expect(r.replies[0]).toBe(':NickServ!NickServ@irc.chat NOTICE bob :Unknown command GHOST.');
    expect(run('PRIVMSG NickServ :IDENTIFY').replies).toEqual([
      ':NickServ!NickServ@irc.chat NOTICE bob :Syntax: IDENTIFY [nick] <password>',
    ]);
  });

  it("the chat's ACCOUNT_REPLY as NickServ says it, with 900 and 901", () => {
    const lines = (op: 'registered' | 'identified' | 'password' | 'unregistered' | 'offline') =>
      accountReplyLines('irc.chat', 'irc.chat', 'bob', 'bob!~bob@irc.chat', {
        type: 'ACCOUNT_REPLY',
        op,
        nick: 'bob',
        count: 3,
      }).map(serialize);
    expect(lines('identified')).toEqual([
      ':irc.chat 900 bob bob!~bob@irc.chat bob :You are now logged in as bob',
      ':NickServ!NickServ@irc.chat NOTICE bob :You are now identified for bob.',
    ]);
    expect(lines('unregistered')[0]).toBe(':irc.chat 901 bob bob!~bob@irc.chat :You are now logged out');
    expect(lines('registered')).toEqual([
      ':NickServ!NickServ@irc.chat NOTICE bob :bob is now registered: log in with SASL or IDENTIFY next time.',
    ]);
    expect(lines('offline')).toEqual([
      ':NickServ!NickServ@irc.chat NOTICE bob :3 private messages came while you were away; they follow.',
    ]);
    expect(lines('password')).toEqual([':NickServ!NickServ@irc.chat NOTICE bob :Your password is changed.']);
  });
});
