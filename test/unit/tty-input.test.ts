/**
 * The keyboard side of the terminal (common/terminal/tty-input.ts) without a
 * terminal: stand-in streams, the screen written to a file. Questions get an
 * editor of their own (their answers are not history), a line the program
 * cannot send stays typed, and keys wait while the program sleeps, Ctrl-C
 * waking it.
 */
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TtyInput, type TtyHandlers } from '../../common/terminal/tty-input.js';
import { TerminalScreen } from '../../common/terminal/screen.js';
import { History } from '../../common/terminal/history.js';
import { tempDir } from '../helpers/processes.js';

const opened: Array<{ tty: TtyInput; fd: number }> = [];
afterEach(() => {
  for (const o of opened.splice(0)) {
    o.tty.stop();
    closeSync(o.fd);
  }
});

function setup(handlers: Partial<TtyHandlers> = {}) {
  const input = Object.assign(new EventEmitter(), {
    setRawMode: () => input,
    resume: () => input,
    pause: () => input,
  });
  const output = Object.assign(new EventEmitter(), { columns: 80 });
  const file = join(tempDir('tty-input'), 'screen');
  const fd = openSync(file, 'w');
  const screen = new TerminalScreen(TerminalScreen.create(80).buffer, fd);
  const submitted: string[] = [];
  const history = new History(null);
  const tty = new TtyInput(
    screen,
    { input: input as never, output: output as never, outputFd: fd },
    { submit: (l) => void submitted.push(l), paste: () => undefined, quit: () => undefined, ...handlers },
    history,
    null,
  );
  tty.start();
  opened.push({ tty, fd });
  const keys = (s: string) => input.emit('data', Buffer.from(s, 'utf8'));
  const drawn = () => readFileSync(file, 'utf8');
  return { tty, keys, submitted, history, drawn };
}

describe('the terminal input', () => {
  it('the answer to a question ("send 5 pasted lines?") is not kept in the history; the typed line waits', async () => {
    const t = setup();
    t.keys('a real line\r');
    t.keys('half');
    const answer = t.tty.ask('send 5 pasted lines as 5 messages? [y/N] ');
    t.keys('y\r');
    expect(await answer).toBe('y');
    expect(t.history.previous('')).toBe('a real line');
    t.keys(' typed\r');
    expect(t.submitted).toEqual(['a real line', 'half typed']);
  });

  it("a line the program cannot send ('keep') stays on the input line, to be mended and sent again", () => {
    const submitted: string[] = [];
    const t = setup({ submit: (l) => (submitted.push(l), l.length > 5 ? 'keep' : undefined) });
    t.keys('too long\r');
    t.keys('\x7f\x7f\x7f\x7f\r');
    expect(submitted).toEqual(['too long', 'too ']);
    expect(t.drawn()).toContain('too long');
  });

  it('keys wait while held and come in order on release; Ctrl-C meanwhile wakes instead of being typed', () => {
    const t = setup();
    let woken = 0;
    t.tty.hold(() => woken++);
    t.keys('typed while asleep\r');
    t.keys('\x03');
    expect(t.submitted).toEqual([]);
    expect(woken).toBe(1);
    t.tty.release();
    expect(t.submitted).toEqual(['typed while asleep']);
  });
});
