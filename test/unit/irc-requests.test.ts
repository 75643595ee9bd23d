/**
 * The door's chat requests by ref (irc-requests.ts): each frame of a command
 * gets a ref; a refusal names that frame's command and target; a labeled
 * command's lines are kept until its last request is answered (a join's
 * NOTICE, then JOINED and the NAMES asked after it; a HISTORY_REQUEST's
 * frames until done), whatever order the answers of different commands come
 * in; a command that asked nothing is finished at once; the bound.
 */
import { describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '../../common/messages.js';
import type { IrcMessage } from '../../server/irc/message.js';
import { IrcRequests, MAX_OPEN_REQUESTS } from '../../server/irc-door/irc-requests.js';

const cmd = (command: string, ...params: string[]): IrcMessage => ({ command, params });
const line = (text: string): IrcMessage => ({ command: 'NOTICE', params: ['me', text] });
const refOf = (f: ClientMessage): string => (f as { ref: string }).ref;

describe('IrcRequests', () => {
  it('gives each frame a ref, and a refusal names its own command and target', () => {
    const r = new IrcRequests();
    const a = r.command(cmd('PRIVMSG', 'nobody', 'x'), [{ type: 'DIRECT', to: 'nobody', text: 'x' }], [], undefined);
    const b = r.command(
      cmd('JOIN', '#a,#b'),
      [
        { type: 'JOIN', room: '#a' },
        { type: 'JOIN', room: '#b' },
      ],
      [],
      undefined,
    );
    const [da] = a.frames;
    const [ja, jb] = b.frames;
    expect(new Set([refOf(da!), refOf(ja!), refOf(jb!)]).size).toBe(3);
    expect(r.refusedOf(refOf(da!))).toEqual({ command: 'PRIVMSG', target: 'nobody' });
    expect(r.refusedOf(refOf(jb!))).toEqual({ command: 'JOIN', target: '#b' });
    expect(r.refusedOf(undefined)).toEqual({ command: '*' });
    // A heartbeat's answer and BYE are not requests: no ref.
    const p = r.command(cmd('PONG', 'x'), [{ type: 'HEARTBEAT_ACK', seq: 1, ts: 1 }], [], undefined);
    expect(p.frames[0]).toEqual({ type: 'HEARTBEAT_ACK', seq: 1, ts: 1 });
    // Unlabeled: the door's own replies go now, and answers as they come.
    const u = r.command(cmd('PRIVMSG', 'x', 'y'), [], [line('now')], undefined);
    expect(u.now).toEqual([line('now')]);
    const err: ServerMessage = { type: 'ERROR', code: 'NO_SUCH_NICK', message: 'no', fatal: false, ref: refOf(da!) };
    expect(r.answered(err, [line('401')])).toEqual({ now: [line('401')], finished: null });
  });

  it('keeps a labeled command lines until its last answer, whatever the order between commands', () => {
    const r = new IrcRequests();
    const m1 = r.command(cmd('PRIVMSG', '#lobby', 'hi'), [{ type: 'CHAT', text: 'hi', action: false }], [], 'm1');
    const m2 = r.command(cmd('PRIVMSG', '#lobby', ''), [{ type: 'CHAT', text: '', action: false }], [], 'm2');
    expect(m1.finished).toBeNull();
    const refused: ServerMessage = { type: 'ERROR', code: 'TEXT_INVALID', message: 'e', fatal: false };
    expect(r.answered({ ...refused, ref: refOf(m2.frames[0]!) }, [line('412')])).toEqual({
      now: [],
      finished: { label: 'm2', lines: [line('412')] },
    });
    const echo: ServerMessage = {
      type: 'CHAT',
      from: 'me',
      text: 'hi',
      action: false,
      ts: 1,
      ref: refOf(m1.frames[0]!),
    };
    expect(r.answered(echo, [])).toEqual({ now: [], finished: { label: 'm1', lines: [] } });

    // A join: its NOTICE, JOINED, then the NAMES the door asks after it, all one labeled answer.
    const j = r.command(cmd('JOIN', '#x'), [{ type: 'JOIN', room: '#x' }], [], 'j1');
    const ref = refOf(j.frames[0]!);
    const joined: ServerMessage = { type: 'NOTICE', event: 'joined', nick: 'me', room: '#x', ref };
    expect(r.answered(joined, [line('JOIN')]).finished).toBeNull();
    const JOINED: ServerMessage = { type: 'JOINED', room: '#x', topic: '', members: 1, ref };
    const [names] = r.follow(ref, [{ type: 'NAMES', room: '#x' }]);
    expect(r.answered(JOINED, [line('331')]).finished).toBeNull();
    const reply: ServerMessage = { type: 'NAMES_REPLY', room: '#x', nicks: ['me'], total: 1, ref: refOf(names!) };
    expect(r.answered(reply, [line('353'), line('366')]).finished).toEqual({
      label: 'j1',
      lines: [line('JOIN'), line('331'), line('353'), line('366')],
    });
    // Nothing asked of the chat: finished at once with the door's own lines.
    expect(r.command(cmd('MOTD'), [], [line('422')], 'x').finished).toEqual({ label: 'x', lines: [line('422')] });
  });

  it('a HISTORY_REQUEST is answered by its frames up to the one marked done', () => {
    const r = new IrcRequests();
    const h = r.command(cmd('CHATHISTORY', 'LATEST', '#x', '*', '5'), [{ type: 'HISTORY_REQUEST', id: 7 }], [], 'h');
    expect(r.refusedOf(refOf(h.frames[0]!))).toEqual({ command: 'CHATHISTORY', target: '#x' });
    const page = (done: boolean): ServerMessage => ({ type: 'HISTORY', id: 7, entries: [], done, more: false });
    expect(r.answered(page(false), [line('1')]).finished).toBeNull();
    expect(r.answered(page(true), [line('2')]).finished).toEqual({ label: 'h', lines: [line('1'), line('2')] });
  });

  it('gives up the oldest request past the bound: its lines so far go out unlabeled', () => {
    const r = new IrcRequests();
    const first = r.command(cmd('JOIN', '#x'), [{ type: 'JOIN', room: '#x' }], [line('own')], 'old');
    const ref = refOf(first.frames[0]!);
    r.answered({ type: 'NOTICE', event: 'joined', nick: 'me', room: '#x', ref }, [line('JOIN')]);
    let given: IrcMessage[] = [];
    for (let i = 0; i < MAX_OPEN_REQUESTS; i++)
      given = [...given, ...r.command(cmd('WHO', '*'), [{ type: 'WHO' }], [], undefined).given];
    expect(given).toEqual([line('own'), line('JOIN')]);
    const late: ServerMessage = { type: 'JOINED', room: '#x', topic: '', members: 1, ref };
    expect(r.answered(late, [line('331')])).toEqual({ now: [line('331')], finished: null });
  });
});
