/** What the client keeps to resume: the token, and the newest id it has shown of each conversation. */
import { describe, expect, it } from 'vitest';
import { ResumeState } from '../../common/resume-state.js';
import type { ServerMessage } from '../../common/protocol.js';

const welcome = (extra: Partial<Extract<ServerMessage, { type: 'WELCOME' }>> = {}): ServerMessage => ({
  type: 'WELCOME',
  version: 2,
  nick: 'alice',
  session: '1',
  heartbeatIntervalMs: 5000,
  heartbeatTimeoutMs: 15000,
  maxFrame: 65536,
  maxText: 32000,
  server: 's',
  users: 1,
  ...extra,
});

describe('ResumeState', () => {
  it('says a plain HELLO until a WELCOME gives a token, then resumes with the newest id of each conversation', () => {
    const r = new ResumeState();
    expect(r.hello(2, 'alice', 'c')).toEqual({ type: 'HELLO', version: 2, nick: 'alice', client: 'c' });
    r.learn(welcome({ resume: 'T'.repeat(24) }), 'alice');
    r.learn({ type: 'CHAT', from: 'bob', text: 'x', action: false, ts: 1, id: 7, room: '#Lobby' }, 'alice');
    r.learn(
      {
        type: 'HISTORY',
        room: '#lobby',
        entries: [{ id: 3, ts: 1, from: 'bob', text: 'old', action: false }],
        done: true,
        more: false,
      },
      'alice',
    );
    r.learn({ type: 'DIRECT', from: 'alice', to: 'Bob', text: 'hi', ts: 2, id: 4 }, 'alice');
    r.learn({ type: 'DIRECT', from: 'bob', to: 'alice', text: 'yo', ts: 3, id: 5 }, 'alice');
    r.learn(
      {
        type: 'HISTORY',
        room: '#lab',
        entries: [{ id: 9, ts: 1, from: 'c', text: 'missed', action: false }],
        done: true,
        more: false,
        missed: true,
      },
      'alice',
    );
    expect(r.hello(2, 'alice', 'c')).toEqual({
      type: 'HELLO',
      version: 2,
      nick: 'alice',
      client: 'c',
      resume: 'T'.repeat(24),
      last: [
        { room: '#Lobby', id: 7 },
        { with: 'bob', id: 5 },
        { room: '#lab', id: 9 },
      ],
    });
    // A resumed WELCOME brings the next token and keeps the ids; a new session starts from nothing.
    r.learn(welcome({ resume: 'U'.repeat(24), resumed: true }), 'alice');
    expect(r.hello(2, 'alice', 'c')).toMatchObject({ resume: 'U'.repeat(24), last: [{ id: 7 }, { id: 5 }, { id: 9 }] });
    r.forget();
    expect(r.canResume).toBe(false);
    r.learn(welcome(), 'alice');
    expect(r.hello(2, 'alice', 'c')).toEqual({ type: 'HELLO', version: 2, nick: 'alice', client: 'c' });
  });
});

describe('ResumeState across a reload (the page keeps a snapshot)', () => {
  it('a snapshot restored resumes as the original would; a damaged one is refused and starts anew', () => {
    const r = new ResumeState();
    expect(r.snapshot()).toBeNull();
    r.learn(welcome({ resume: 'T'.repeat(24) }), 'alice');
    r.learn({ type: 'CHAT', from: 'bob', text: 'x', action: false, ts: 1, id: 7, room: '#Lobby' }, 'alice');
    r.learn({ type: 'DIRECT', from: 'bob', to: 'alice', text: 'yo', ts: 3, id: 5 }, 'alice');
    const copy = new ResumeState();
    expect(copy.restore(JSON.parse(JSON.stringify(r.snapshot())))).toBe(true);
    expect(copy.hello(2, 'alice', 'c')).toEqual(r.hello(2, 'alice', 'c'));
    // Later ids still replace earlier ones after the restore.
    copy.learn({ type: 'CHAT', from: 'bob', text: 'y', action: false, ts: 4, id: 8, room: '#lobby' }, 'alice');
    expect(copy.snapshot()!.last).toEqual([
      { with: 'bob', id: 5 },
      { room: '#lobby', id: 8 },
    ]);
    for (const damaged of [
      null,
      'T',
      { token: '', last: [] },
      { token: 'T'.repeat(24) },
      { token: 'T'.repeat(24), last: [{ id: 1 }] },
      { token: 'T'.repeat(24), last: [{ room: '#a', with: 'b', id: 1 }] },
      { token: 'T'.repeat(24), last: [{ room: '#a', id: 'x' }] },
    ]) {
      expect(copy.restore(damaged)).toBe(false);
      expect(copy.canResume).toBe(false);
      expect(copy.hello(2, 'alice', 'c')).toEqual({ type: 'HELLO', version: 2, nick: 'alice', client: 'c' });
    }
  });
});
