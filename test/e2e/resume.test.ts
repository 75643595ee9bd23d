/**
 * Sessions that survive a dropped link, over raw sockets (protocol version
 * 2), two workers: a lost connection leaves the session away (nick held,
 * rooms kept, direct messages stored); its token brings it back on any
 * worker with what it missed, once and in order, then live; a token used
 * twice, expired or forged is refused, and the connection may log in anew.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rawSession, rawSessionServers, type RawSession } from '../helpers/raw-session.js';
import type { ServerMessage } from '../../common/protocol.js';

const server = rawSessionServers(afterEach);

/** What a session has been shown of the conversations, in the order it arrived: live, missed and history alike. */
function said(p: RawSession): string[] {
  const out: string[] = [];
  for (const m of p.got as ServerMessage[]) {
    if (m.type === 'CHAT') out.push(`${m.room}:${m.text}`);
    else if (m.type === 'DIRECT') out.push(`dm:${m.text}`);
    else if (m.type === 'HISTORY')
      for (const e of m.entries) out.push(e.to !== undefined ? `dm:${e.text}` : `${m.room}:${e.text}`);
  }
  return out;
}

async function chat(p: RawSession, room: string, text: string): Promise<number> {
  p.send({ type: 'CHAT', text, action: false, room });
  return (await p.next('CHAT', (m) => m.text === text && m.from === p.of('WELCOME')[0]!.nick)).id!;
}

describe('resume', () => {
  it('a lost connection is away; its token brings back nick, rooms and everything missed, once and in order, then live', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    const welcome = alice.of('WELCOME')[0]!;
    expect(welcome).toMatchObject({ resumeWindowMs: 120_000 });
    expect(welcome.resume).toMatch(/^[A-Za-z0-9_-]{24}$/);
    for (const p of [alice, bob]) {
      p.send({ type: 'JOIN', room: '#lab' });
      await p.next('JOINED', (m) => m.room === '#lab');
    }
    const seen = await chat(bob, '#lobby', 'before');
    await alice.next('CHAT', (m) => m.text === 'before');
    alice.s.destroy();
    expect(await bob.next('NOTICE', (m) => m.event === 'away')).toEqual({
      type: 'NOTICE',
      event: 'away',
      nick: 'alice',
    });
    // The nick stays hers, and a direct message to her is taken (stored for her).
    const impostor = await rawSession(s.port, 'ALICE', { version: 2, from: '127.0.0.4' });
    expect(impostor.of('ERROR')[0]).toMatchObject({ code: 'NICK_TAKEN' });
    for (let i = 1; i <= 5; i++) await chat(bob, '#lobby', `lobby ${i}`);
    for (let i = 1; i <= 2; i++) await chat(bob, '#lab', `lab ${i}`);
    bob.send({ type: 'DIRECT', to: 'alice', text: 'psst' });
    await bob.next('DIRECT', (m) => m.text === 'psst');

    const back = await rawSession(s.port, 'whatever', {
      version: 2,
      from: '127.0.0.2',
      resume: welcome.resume!,
      last: [{ room: '#lobby', id: seen }],
    });
    const again = back.of('WELCOME')[0]!;
    expect(again).toMatchObject({ nick: 'alice', resumed: true, session: welcome.session });
    expect(again.resume).not.toBe(welcome.resume);
    expect(await back.next('RESUMED')).toEqual({ type: 'RESUMED', missed: 8 });
    expect(back.of('HISTORY').every((h) => h.missed === true)).toBe(true);
    expect(back.of('JOINED')).toEqual([]); // its rooms are as they were
    expect(await bob.next('NOTICE', (m) => m.event === 'back')).toEqual({
      type: 'NOTICE',
      event: 'back',
      nick: 'alice',
    });
    await chat(bob, '#lab', 'live');
    await back.next('CHAT', (m) => m.text === 'live');
    expect(said(back)).toEqual([
      '#lobby:lobby 1',
      '#lobby:lobby 2',
      '#lobby:lobby 3',
      '#lobby:lobby 4',
      '#lobby:lobby 5',
      '#lab:lab 1',
      '#lab:lab 2',
      'dm:psst',
      '#lab:live',
    ]);
    // It talks as alice, in her rooms.
    expect(await chat(back, '#lab', 'I am back')).toBeGreaterThan(0);
    await bob.next('CHAT', (m) => m.text === 'I am back' && m.from === 'alice');

    // The first token was spent: refused (not fatal), and the connection may log in without one.
    const reuse = await rawSession(s.port, 'x', { version: 2, from: '127.0.0.5', resume: welcome.resume! });
    expect(reuse.of('ERROR')[0]).toMatchObject({ code: 'RESUME_FAILED', fatal: false });
    expect(reuse.of('ERROR')[0]!.message).toContain('used already');
    reuse.send({ type: 'HELLO', version: 2, nick: 'carol' });
    expect(await reuse.next('WELCOME')).toMatchObject({ nick: 'carol' });
    const forged = await rawSession(s.port, 'x', { version: 2, from: '127.0.0.6', resume: 'A'.repeat(24) });
    expect(forged.of('ERROR')[0]).toMatchObject({ code: 'RESUME_FAILED', fatal: false });
    expect(forged.of('ERROR')[0]!.message).toContain('no session has this token');
    const junk = await rawSession(s.port, 'x', { version: 2, from: '127.0.0.6', resume: 'not a token' });
    expect(junk.of('ERROR')[0]).toMatchObject({
      code: 'RESUME_FAILED',
      message: 'cannot resume: that is not a resume token (24 characters of base64url)',
    });
    // Version 1 has no tokens.
    const old = await rawSession(s.port, 'oldie', { version: 1, from: '127.0.0.7' });
    expect(old.of('WELCOME')[0]!.resume).toBeUndefined();
  });

  it('a connection that has not noticed it is dead is replaced by the resume; the old one is closed', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    const token = alice.of('WELCOME')[0]!.resume!;
    const back = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2', resume: token, last: [] });
    expect(back.of('WELCOME')[0]).toMatchObject({ resumed: true });
    await back.next('RESUMED');
    // The old connection gets BYE and is closed within a heartbeat tick.
    const bye = await alice.next('BYE', undefined, 5000);
    expect(bye.reason).toMatch(/^replaced: /);
    await chat(bob, '#lobby', 'to the new one');
    await back.next('CHAT', (m) => m.text === 'to the new one');
    expect(bob.of('NOTICE').filter((n) => n.nick === 'alice' && n.event !== 'joined')).toEqual([]); // never away: nothing to tell
  });

  it('after the resume window the session times out: the rooms hear it, the token is refused, the nick is free', async () => {
    const s = await server(['--resume-window', '2s']);
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    const token = alice.of('WELCOME')[0]!.resume!;
    const lostAt = Date.now();
    alice.s.destroy();
    await bob.next('NOTICE', (m) => m.event === 'away');
    await bob.next('NOTICE', (m) => m.event === 'timed_out' && m.nick === 'alice', 10_000);
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual(1900);
    await s.waitFor(/\* alice timed out \(not back within 2\.0s\)/);
    const late = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2', resume: token });
    expect(late.of('ERROR')[0]).toMatchObject({ code: 'RESUME_FAILED', fatal: false });
    late.send({ type: 'HELLO', version: 2, nick: 'alice' });
    expect(await late.next('WELCOME')).toMatchObject({ nick: 'alice' });
    expect(late.of('WELCOME')[0]!.resumed).toBeUndefined();
  });

  it('--no-history keeps no sessions: no token, and a resume is refused with the reason', async () => {
    const s = await server(['--no-history']);
    const alice = await rawSession(s.port, 'alice', { version: 2 });
    expect(alice.of('WELCOME')[0]!.resume).toBeUndefined();
    const r = await rawSession(s.port, 'alice2', { version: 2, resume: 'A'.repeat(24) });
    expect(r.of('ERROR')[0]!.message).toContain('--no-history');
  });
});
