import { describe, expect, it } from 'vitest';
import type { Capability } from '../../server/irc/caps.js';
import { keep, keptEntries, parseChathistory } from '../../server/irc/chathistory.js';
import { historyLines } from '../../server/irc/history-batch.js';
import { parseLine, serialize } from '../../server/irc/message.js';
import { conversationTag, msgid, parseMsgid } from '../../server/irc/msgid.js';
import { type OutContext, toIrc } from '../../server/irc/to-irc.js';

const TS = Date.UTC(2026, 11, 7, 8, 0, 0, 123);

describe('msgid', () => {
  it('names the conversation, the id and the time, and reads back', () => {
    const id = msgid({ room: '#Lobby' }, 42, TS + 0.75);
    expect(id).toMatch(/^[0-9a-z]{1,7}\.42\.[0-9a-z]+$/);
    expect(parseMsgid(id)).toEqual({ tag: conversationTag({ room: '#lobby' }), id: 42, ts: TS });
  });

  it('is the same for both parties of a direct conversation, whatever the case; differs between conversations', () => {
    expect(conversationTag({ between: ['Bob', '小明'] })).toBe(conversationTag({ between: ['小明', 'bob'] }));
    expect(conversationTag({ room: '#lab' })).not.toBe(conversationTag({ room: '#lobby' }));
    expect(conversationTag({ room: '#lab' })).toBe(conversationTag({ room: '#LAB' }));
  });

  it('refuses what is not one of ours', () => {
    for (const bad of ['', 'abc', 'x.0.1', 'x.1', 'X.1.1', 'x.1.1.1', 'x.99999999999999999.1', 'toolongtag.1.1'])
      expect(parseMsgid(bad)).toBeNull();
  });
});

describe('CHATHISTORY as HISTORY_REQUEST', () => {
  const ask = (line: string) => {
    const r = parseChathistory('irc.chat', 'bob', parseLine(line).params, 200);
    return r.ok ? r.ask : serialize(r.reply);
  };
  const ref = msgid({ room: '#lab' }, 40, TS);

  it('LATEST * is the newest n; with a reference, the newest n after it', () => {
    expect(ask('CHATHISTORY LATEST #lab * 50')).toEqual({ request: { room: '#lab', limit: 50 }, target: '#lab' });
    expect(ask(`CHATHISTORY LATEST #lab msgid=${ref} 50`)).toEqual({
      request: { room: '#lab', limit: 50 },
      target: '#lab',
      after: { id: 40, ts: TS },
    });
    expect(ask('CHATHISTORY LATEST 小明 timestamp=2026-12-07T08:00:00.123Z 10')).toEqual({
      request: { with: '小明', limit: 10 },
      target: '小明',
      after: { ts: TS },
    });
  });

  it("BEFORE a msgid pages back from its id; AFTER pages forward from the reference's time", () => {
    expect(ask(`CHATHISTORY BEFORE #lab msgid=${ref} 100`)).toEqual({
      request: { room: '#lab', limit: 100, before: 40 },
      target: '#lab',
    });
    // A few more than asked: the reference's own millisecond comes first and is dropped; the answer is cut to 100.
    expect(ask(`CHATHISTORY AFTER #lab msgid=${ref} 100`)).toEqual({
      request: { room: '#lab', limit: 104, since: TS },
      target: '#lab',
      after: { id: 40, ts: TS },
      left: 100,
    });
    expect(ask(`CHATHISTORY AFTER #lab msgid=${ref} 199`)).toMatchObject({ request: { limit: 200 }, left: 199 });
    const dm = msgid({ between: ['bob', '小明'] }, 3, TS);
    expect(ask(`CHATHISTORY BEFORE xn--yeto6u msgid=${dm} 5`)).toEqual({
      request: { with: '小明', limit: 5, before: 3 },
      target: 'xn--yeto6u',
    });
  });

  it('refuses what the chat cannot page by, with the standard replies', () => {
    expect(ask('CHATHISTORY BEFORE #lab timestamp=2026-12-07T08:00:00.000Z 10')).toBe(
      ':irc.chat FAIL CHATHISTORY INVALID_MSGREFTYPE BEFORE :BEFORE needs a msgid= here',
    );
    expect(ask('CHATHISTORY AROUND #lab * 10')).toBe(
      ':irc.chat FAIL CHATHISTORY INVALID_PARAMS AROUND :AROUND is not supported here: LATEST, BEFORE and AFTER are',
    );
    expect(ask('CHATHISTORY TARGETS a b 10')).toMatch(/^:irc\.chat FAIL CHATHISTORY INVALID_PARAMS TARGETS :/);
    expect(ask('CHATHISTORY')).toBe(':irc.chat FAIL CHATHISTORY NEED_MORE_PARAMS * :Missing parameters');
    expect(ask('CHATHISTORY LATEST #lab *')).toBe(
      ':irc.chat FAIL CHATHISTORY NEED_MORE_PARAMS LATEST :Missing parameters',
    );
    expect(ask('CHATHISTORY LATEST #lab * 201')).toBe(
      ':irc.chat FAIL CHATHISTORY INVALID_PARAMS LATEST :the limit is 1 to 200',
    );
    expect(ask('CHATHISTORY LATEST #lab * 0')).toMatch(/INVALID_PARAMS LATEST/);
    expect(ask('CHATHISTORY LATEST &x * 5')).toBe(
      ':irc.chat FAIL CHATHISTORY INVALID_TARGET LATEST &x :Messages could not be retrieved',
    );
    expect(ask('CHATHISTORY AFTER #lab * 5')).toMatch(/INVALID_PARAMS AFTER/);
    expect(ask('CHATHISTORY LATEST #lab timestamp=yesterday 5')).toMatch(/INVALID_PARAMS LATEST :not a reference/);
    expect(ask(`CHATHISTORY BEFORE #lobby msgid=${ref} 5`)).toBe(
      ':irc.chat FAIL CHATHISTORY INVALID_PARAMS BEFORE :that msgid is of another conversation',
    );
  });

  it('keeps only the entries after the reference', () => {
    const e = (id: number, ts: number) => ({ id, ts, from: 'a', text: 'x', action: false });
    const byId = { request: { limit: 5 }, target: '#lab', after: { id: 40, ts: TS } };
    expect([e(39, TS + 5), e(40, TS), e(41, TS)].map((x) => keep(byId, x))).toEqual([false, false, true]);
    const byTs = { request: { limit: 5 }, target: '#lab', after: { ts: TS } };
    expect([e(1, TS - 1), e(2, TS), e(3, TS + 1)].map((x) => keep(byTs, x))).toEqual([false, false, true]);
    expect(keep({ request: { limit: 5 }, target: '#lab' }, e(1, 0))).toBe(true);
  });

  it('an AFTER answer holds at most the client’s limit, over all the frames of the chat’s answer', () => {
    const e = (id: number, ts: number) => ({ id, ts, from: 'a', text: 'x', action: false });
    const after = { request: { limit: 6, since: TS }, target: '#lab', after: { id: 40, ts: TS }, left: 2 };
    expect(keptEntries(after, [e(40, TS), e(41, TS)]).map((x) => x.id)).toEqual([41]);
    expect(keptEntries(after, [e(42, TS + 1), e(43, TS + 2)]).map((x) => x.id)).toEqual([42]);
    expect(keptEntries(after, [e(44, TS + 3)])).toEqual([]);
  });
});

describe('msgid and account on relayed messages', () => {
  const ctx = (caps: Capability[]): OutContext => ({
    server: 'irc.chat',
    host: 'irc.chat',
    nickMode: 'utf8',
    me: 'bob',
    caps: { has: (c) => caps.includes(c) },
    defaultRoom: '#lobby',
    accountOf: (n) => (n === '小明' ? '小明' : undefined),
  });

  it('msgid with message-tags, account with account-tag, each only when asked', () => {
    const chat = { type: 'CHAT', from: '小明', text: 'hi', action: false, ts: TS, id: 7, room: '#lab' } as const;
    const id = msgid({ room: '#lab' }, 7, TS);
    expect(toIrc(ctx(['message-tags', 'account-tag']), chat).lines.map(serialize)).toEqual([
      `@msgid=${id};account=小明 :小明!chat@irc.chat PRIVMSG #lab :hi`,
    ]);
    expect(toIrc(ctx([]), chat).lines.map(serialize)).toEqual([':小明!chat@irc.chat PRIVMSG #lab :hi']);
    expect(toIrc(ctx(['account-tag']), { ...chat, from: 'alice' }).lines.map(serialize)).toEqual([
      ':alice!chat@irc.chat PRIVMSG #lab :hi',
    ]);
  });

  it('a direct message and its history entry get the same msgid, the one CHATHISTORY takes back', () => {
    const c = ctx(['message-tags']);
    const live = toIrc(c, { type: 'DIRECT', from: '小明', to: 'bob', text: 'hi', ts: TS, id: 3 }).lines[0]!;
    const old = historyLines(c, [{ id: 3, ts: TS, from: '小明', to: 'bob', text: 'hi', action: false }], null, 'r')[0]!;
    expect(old.tags?.msgid).toBe(live.tags?.msgid);
    const r = parseChathistory('irc.chat', 'bob', ['BEFORE', '小明', `msgid=${live.tags!.msgid}`, '10'], 200);
    expect(r.ok && r.ask.request).toEqual({ with: '小明', limit: 10, before: 3 });
  });
});
