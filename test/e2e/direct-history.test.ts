/**
 * Issue 31, item 4: a direct conversation's history belongs to the sessions
 * and accounts that took part in it, not to whoever holds the nick now. An
 * unregistered nick's direct messages are read back (HISTORY_REQUEST with)
 * by the session that sent or received them and its resumes; a registered
 * nick's by its account, at any later login. Someone who takes a nick after
 * its holder quit reads none of them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rawSession, rawSessionServers, type RawSession } from '../helpers/raw-session.js';

const server = rawSessionServers(afterEach);
const PASSWORD = 'correct horse battery';

/** Five direct messages each way, each waited for at both ends; their texts in order. */
async function exchange(a: RawSession, aNick: string, b: RawSession, bNick: string): Promise<string[]> {
  const texts: string[] = [];
  for (let i = 0; i < 5; i++) {
    for (const [from, to, fromNick, toNick] of [
      [a, b, aNick, bNick],
      [b, a, bNick, aNick],
    ] as const) {
      const text = `${fromNick} to ${toNick} ${i}`;
      from.send({ type: 'DIRECT', to: toNick, text });
      await from.next('DIRECT', (m) => m.text === text);
      await to.next('DIRECT', (m) => m.text === text);
      texts.push(text);
    }
  }
  return texts;
}

/** The entries of the answer to HISTORY_REQUEST {id, with}, all of its frames. */
async function historyWith(p: RawSession, id: number, other: string): Promise<string[]> {
  p.send({ type: 'HISTORY_REQUEST', id, with: other, limit: 200 });
  await p.next('HISTORY', (m) => m.id === id && m.done);
  return p
    .of('HISTORY')
    .filter((m) => m.id === id)
    .flatMap((m) => m.entries.map((e) => e.text));
}

describe('direct message history follows the person, not the nick', () => {
  it('alice quits; mallory takes the nick alice and reads none of it; bob still reads all of his', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    const texts = await exchange(alice, 'alice', bob, 'bob');
    expect(await historyWith(alice, 1, 'bob')).toEqual(texts);
    alice.send({ type: 'BYE', reason: 'done' });
    await bob.next('NOTICE', (m) => m.event === 'left' && m.nick === 'alice');

    const mallory = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.4' });
    expect(mallory.of('WELCOME')[0]).toMatchObject({ nick: 'alice' });
    expect(await historyWith(mallory, 7, 'bob')).toEqual([]);
    expect(await historyWith(mallory, 8, 'BOB')).toEqual([]);
    // Paging from an id of the old conversation, or by time, gives nothing either.
    mallory.send({ type: 'HISTORY_REQUEST', id: 9, with: 'bob', before: 11, limit: 200 });
    mallory.send({ type: 'HISTORY_REQUEST', id: 10, with: 'bob', since: 0, limit: 200 });
    for (const id of [9, 10]) expect(await mallory.next('HISTORY', (m) => m.id === id)).toMatchObject({ entries: [] });

    // What mallory and bob say now is theirs: bob sees both conversations, mallory only her own.
    mallory.send({ type: 'DIRECT', to: 'bob', text: 'hi bob, it is the new alice' });
    await bob.next('DIRECT', (m) => m.text === 'hi bob, it is the new alice');
    expect(await historyWith(mallory, 11, 'bob')).toEqual(['hi bob, it is the new alice']);
    expect(await historyWith(bob, 2, 'alice')).toEqual([...texts, 'hi bob, it is the new alice']);
  });

  it('a lost connection: alice resumes with her token and reads her conversation; nobody could take her nick meanwhile', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    const texts = await exchange(alice, 'alice', bob, 'bob');
    const token = alice.of('WELCOME')[0]!.resume!;
    alice.s.destroy();
    await bob.next('NOTICE', (m) => m.event === 'away' && m.nick === 'alice');
    const back = await rawSession(s.port, 'alice', {
      version: 2,
      from: '127.0.0.2',
      resume: token,
      last: [{ with: 'bob', id: 10 }],
    });
    expect(back.of('WELCOME')[0]).toMatchObject({ resumed: true, nick: 'alice' });
    await back.next('RESUMED');
    expect(await historyWith(back, 1, 'bob')).toEqual(texts);
  });

  it('a resume cannot reach another session\u2019s messages by naming an old id in `last`', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    await exchange(alice, 'alice', bob, 'bob');
    alice.send({ type: 'BYE', reason: 'done' });
    await bob.next('NOTICE', (m) => m.event === 'left' && m.nick === 'alice');
    const mallory = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.4' });
    const token = mallory.of('WELCOME')[0]!.resume!;
    mallory.s.destroy();
    await bob.next('NOTICE', (m) => m.event === 'away' && m.nick === 'alice');
    const back = await rawSession(s.port, 'alice', {
      version: 2,
      from: '127.0.0.4',
      resume: token,
      last: [{ with: 'bob', id: 0 }],
    });
    expect(await back.next('RESUMED')).toEqual({ type: 'RESUMED', missed: 0 });
    expect(back.of('HISTORY').filter((m) => m.with !== undefined)).toEqual([]);
  });

  it('a registered alice reads her conversation at her next login, and only she', async () => {
    const s = await server(['--allow-plain-passwords']);
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    alice.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await alice.next('ACCOUNT_REPLY', (m) => m.op === 'registered');
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    const texts = await exchange(alice, 'alice', bob, 'bob');
    alice.send({ type: 'BYE', reason: 'done' });
    await bob.next('NOTICE', (m) => m.event === 'left' && m.nick === 'alice');

    const again = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.5', nickPassword: PASSWORD });
    expect(again.of('WELCOME')[0]).toMatchObject({ nick: 'alice', account: true });
    expect(await historyWith(again, 1, 'bob')).toEqual(texts);
    expect(await historyWith(bob, 2, 'alice')).toEqual(texts);
  });

  it('a direct action (/me to one person) keeps its flag: live at both ends, in history, and in an inbox', async () => {
    const s = await server(['--allow-plain-passwords']);
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    alice.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await alice.next('ACCOUNT_REPLY', (m) => m.op === 'registered');
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    bob.send({ type: 'DIRECT', to: 'alice', text: 'waves', action: true });
    expect(await alice.next('DIRECT', (m) => m.text === 'waves')).toMatchObject({ from: 'bob', action: true });
    expect(await bob.next('DIRECT', (m) => m.text === 'waves')).toMatchObject({ to: 'alice', action: true });
    bob.send({ type: 'DIRECT', to: 'alice', text: 'plain' });
    expect((await alice.next('DIRECT', (m) => m.text === 'plain')).action).toBeUndefined();
    alice.send({ type: 'HISTORY_REQUEST', id: 1, with: 'bob', limit: 10 });
    const history = await alice.next('HISTORY', (m) => m.id === 1 && m.done);
    expect(history.entries.map((e) => [e.text, e.action])).toEqual([
      ['waves', true],
      ['plain', false],
    ]);
    // alice gone: what bob says now waits in her registered nick's inbox, the flag with it.
    alice.send({ type: 'BYE', reason: 'done' });
    await bob.next('NOTICE', (m) => m.event === 'left' && m.nick === 'alice');
    bob.send({ type: 'DIRECT', to: 'alice', text: 'nods while you are away', action: true });
    await bob.next('DIRECT', (m) => m.text === 'nods while you are away');
    const again = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.5', nickPassword: PASSWORD });
    const inbox = await again.next('HISTORY', (m) => m.entries.some((e) => e.text === 'nods while you are away'));
    expect(inbox.entries.find((e) => e.text === 'nods while you are away')).toMatchObject({
      from: 'bob',
      action: true,
    });
  });
});
