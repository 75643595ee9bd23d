import { describe, expect, it } from 'vitest';
import type { Capability } from '../../server/irc/caps.js';
import { batchEnd, batchStart, historyLines } from '../../server/irc/history-batch.js';
import { MAX_BODY_BYTES, serialize } from '../../server/irc/message.js';
import { type OutContext, toIrc } from '../../server/irc/to-irc.js';

function ctx(caps: Capability[] = [], me = 'bob'): OutContext {
  const set = new Set(caps);
  return {
    server: 'irc.chat',
    host: 'irc.chat',
    nickMode: 'utf8',
    me,
    caps: { has: (c) => set.has(c) },
    doorOf: (n) => (n === 'bob' ? { kind: 'irc', ident: 'bob' } : { kind: 'chat' }),
    defaultRoom: '#lobby',
  };
}
const TS = Date.UTC(2026, 11, 7, 8, 0, 0, 123);
const lines = (c: OutContext, m: Parameters<typeof toIrc>[1]) => toIrc(c, m).lines.map(serialize);

describe('chat frames as IRC lines', () => {
  it('CHAT is PRIVMSG to the room, with server-time when asked; an action is CTCP ACTION', () => {
    const chat = { type: 'CHAT', from: '小明', text: '你好', action: false, ts: TS, id: 7, room: '#lobby' } as const;
    expect(lines(ctx(), chat)).toEqual([':小明!chat@irc.chat PRIVMSG #lobby :你好']);
    expect(lines(ctx(['server-time']), chat)).toEqual([
      '@time=2026-12-07T08:00:00.123Z :小明!chat@irc.chat PRIVMSG #lobby :你好',
    ]);
    expect(lines(ctx(), { ...chat, action: true, text: 'waves' })).toEqual([
      ':小明!chat@irc.chat PRIVMSG #lobby :\u0001ACTION waves\u0001',
    ]);
  });

  it("the session's own message comes back only with echo-message", () => {
    const own = { type: 'CHAT', from: 'Bob', text: 'hi', action: false, ts: TS, room: '#lobby' } as const;
    expect(lines(ctx(), own)).toEqual([]);
    expect(lines(ctx(['echo-message']), own)).toEqual([':Bob!chat@irc.chat PRIVMSG #lobby :hi']);
    const dm = { type: 'DIRECT', from: 'bob', to: '小明', text: 'hi', ts: TS } as const;
    expect(lines(ctx(), dm)).toEqual([]);
    expect(lines(ctx(['echo-message']), dm)).toEqual([':bob!~bob@irc.chat PRIVMSG 小明 :hi']);
    expect(lines(ctx(), { ...dm, from: '小明', to: 'bob' })).toEqual([':小明!chat@irc.chat PRIVMSG bob :hi']);
    // To oneself: one copy from the chat, shown with echo-message or without (it was received).
    for (const caps of [[], ['echo-message']] as Capability[][])
      expect(lines(ctx(caps), { ...dm, to: 'bob' })).toEqual([':bob!~bob@irc.chat PRIVMSG bob :hi']);
  });

  it("a DIRECT action is CTCP ACTION to the session's nick, and echoed to the other party's", () => {
    const dm = { type: 'DIRECT', from: '小明', to: 'bob', text: 'waves', ts: TS, action: true } as const;
    expect(lines(ctx(), dm)).toEqual([':小明!chat@irc.chat PRIVMSG bob :\u0001ACTION waves\u0001']);
    expect(lines(ctx(['echo-message']), { ...dm, from: 'bob', to: '小明' })).toEqual([
      ':bob!~bob@irc.chat PRIVMSG 小明 :\u0001ACTION waves\u0001',
    ]);
  });

  it('a long chat message goes as several lines, each within 512 bytes, actions framed on each', () => {
    const text = '长'.repeat(600);
    for (const action of [false, true]) {
      const out = lines(ctx(), { type: 'CHAT', from: 'alice', text, action, ts: TS, room: '#lobby' });
      expect(out.length).toBe(4);
      for (const l of out) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(MAX_BODY_BYTES);
      expect(out.map((l) => l.slice(l.indexOf(' :') + 2).replace(/\u0001(ACTION )?/g, '')).join('')).toBe(text);
    }
  });

  it('NOTICE events: JOIN, PART, QUIT (left, timed out, kicked by the operator), NICK, TOPIC', () => {
    const n = (event: string, extra = {}) =>
      lines(ctx(), { type: 'NOTICE', event, nick: 'alice', room: '#lab', ...extra } as Parameters<typeof toIrc>[1]);
    expect(n('joined')).toEqual([':alice!chat@irc.chat JOIN #lab']);
    expect(n('parted', { reason: 'lunch' })).toEqual([':alice!chat@irc.chat PART #lab :lunch']);
    expect(n('parted')).toEqual([':alice!chat@irc.chat PART #lab']);
    expect(n('left')).toEqual([':alice!chat@irc.chat QUIT Quit']);
    expect(n('left', { reason: 'bye all' })).toEqual([':alice!chat@irc.chat QUIT :Quit: bye all']);
    expect(n('timed_out')).toEqual([':alice!chat@irc.chat QUIT :Ping timeout']);
    expect(n('kicked', { reason: 'spam' })).toEqual([':alice!chat@irc.chat QUIT :Kicked by the operator: spam']);
    expect(n('nick', { newNick: '爱丽丝' })).toEqual([':alice!chat@irc.chat NICK 爱丽丝']);
    expect(n('topic', { text: 'Week 3' })).toEqual([':alice!chat@irc.chat TOPIC #lab :Week 3']);
    expect(n('topic', { text: '' })).toEqual([':alice!chat@irc.chat TOPIC #lab :']);
    expect(n('shared', { name: 'notes.pdf', size: 1234 })).toEqual([
      ':irc.chat NOTICE bob :alice shared notes.pdf (1234 bytes)',
    ]);
  });

  it('away and back only with away-notify', () => {
    const away = { type: 'NOTICE', event: 'away', nick: 'alice', room: '#lab' } as const;
    expect(lines(ctx(), away)).toEqual([]);
    expect(lines(ctx(['away-notify']), away)).toEqual([':alice!chat@irc.chat AWAY :connection lost: may come back']);
    expect(lines(ctx(['away-notify']), { ...away, event: 'back' })).toEqual([':alice!chat@irc.chat AWAY']);
  });

  it('JOINED shows the topic and asks for NAMES; NAMES_REPLY and ROOMS_REPLY are 353/366 and LIST', () => {
    const joined = toIrc(ctx(), { type: 'JOINED', room: '#lab', topic: 'TCP', members: 3 });
    expect(joined.lines.map(serialize)).toEqual([':irc.chat 332 bob #lab :TCP']);
    expect(joined.ask).toEqual([{ type: 'NAMES', room: '#lab' }]);
    expect(lines(ctx(), { type: 'NAMES_REPLY', room: '#lab', nicks: ['alice', 'xn--x', '小明'], total: 3 })).toEqual([
      ':irc.chat 353 bob = #lab :alice xn--xn--x- 小明',
      ':irc.chat 366 bob #lab :End of /NAMES list',
    ]);
    expect(
      lines(ctx(), { type: 'ROOMS_REPLY', rooms: [{ room: '#lab', members: 3, topic: 'TCP' }], total: 1 }),
    ).toEqual([
      ':irc.chat 321 bob Channel :Users  Name',
      ':irc.chat 322 bob #lab 3 :TCP',
      ':irc.chat 323 bob :End of /LIST',
    ]);
  });

  it('ACCOUNT_REPLY is NickServ speaking, about the nick it names', () => {
    expect(lines(ctx(), { type: 'ACCOUNT_REPLY', op: 'identified', nick: 'bob' })).toEqual([
      ':irc.chat 900 bob bob!~bob@irc.chat bob :You are now logged in as bob',
      ':NickServ!NickServ@irc.chat NOTICE bob :You are now identified for bob.',
    ]);
  });

  it('PARTED is our own PART; BROADCAST a server notice; BYE the closing ERROR', () => {
    expect(lines(ctx(), { type: 'PARTED', room: '#lab' })).toEqual([':bob!~bob@irc.chat PART #lab']);
    expect(lines(ctx(['server-time']), { type: 'BROADCAST', text: 'restart at 9', ts: TS })).toEqual([
      '@time=2026-12-07T08:00:00.123Z :irc.chat NOTICE bob :Message from the operator: restart at 9',
    ]);
    expect(lines(ctx(), { type: 'BYE', reason: 'server shutting down' })).toEqual([
      'ERROR :Closing link: server shutting down',
    ]);
  });
});

describe('history as IRC lines', () => {
  const entries = [
    { id: 1, ts: TS, from: 'alice', text: 'first', action: false },
    { id: 2, ts: TS + 1000, from: 'bob', text: 'waves', action: true },
  ];

  it('with batch and server-time: inside a chathistory batch, each line tagged', () => {
    const c = ctx(['batch', 'server-time']);
    expect(
      [batchStart(c, 'h1', '#lab'), ...historyLines(c, entries, '#lab', 'h1'), batchEnd(c, 'h1')].map((m) =>
        serialize(m!),
      ),
    ).toEqual([
      ':irc.chat BATCH +h1 chathistory :#lab',
      '@time=2026-12-07T08:00:00.123Z;batch=h1 :alice!chat@irc.chat PRIVMSG #lab :first',
      '@time=2026-12-07T08:00:01.123Z;batch=h1 :bob!~bob@irc.chat PRIVMSG #lab :\u0001ACTION waves\u0001',
      ':irc.chat BATCH -h1',
    ]);
  });

  it('without server-time the text starts with its time; without batch there is none', () => {
    const c = ctx();
    expect(batchStart(c, 'h1', '#lab')).toBeNull();
    expect(historyLines(c, entries, '#lab', 'h1').map(serialize)).toEqual([
      ':alice!chat@irc.chat PRIVMSG #lab :[2026-12-07 08:00:00 UTC] first',
      ':bob!~bob@irc.chat PRIVMSG #lab :\u0001ACTION [2026-12-07 08:00:01 UTC] waves\u0001',
    ]);
  });

  it('direct messages: to the other party when ours, to us when theirs', () => {
    const c = ctx(['server-time']);
    const dms = [
      { id: 1, ts: TS, from: 'bob', to: '小明', text: 'hi', action: false },
      { id: 2, ts: TS, from: '小明', to: 'bob', text: '你好', action: false },
    ];
    expect(historyLines(c, dms, null, 'x').map(serialize)).toEqual([
      '@time=2026-12-07T08:00:00.123Z :bob!~bob@irc.chat PRIVMSG 小明 :hi',
      '@time=2026-12-07T08:00:00.123Z :小明!chat@irc.chat PRIVMSG bob :你好',
    ]);
  });
});
