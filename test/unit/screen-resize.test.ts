/**
 * A narrower window (issue 33): terminals that rewrap lines (tmux, VTE, kitty,
 * iTerm2) turn the input line drawn at the old width into several rows, the
 * cursor on the row of its column. The next drawing clears from the first of
 * them, so no stale copy stays above; and nothing is drawn wider than the
 * window, even before the main thread fits the line again.
 */
import { describe, expect, it } from 'vitest';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerminalScreen } from '../../common/terminal/screen.js';
import { tempDir } from '../helpers/processes.js';

function screenOnFile(width: number) {
  const file = join(tempDir('screen-resize'), 'out');
  const fd = openSync(file, 'w');
  const screen = new TerminalScreen(TerminalScreen.create(width).buffer, fd);
  let seen = 0;
  /** What was written since the last call. */
  const since = () => {
    const all = readFileSync(file, 'utf8');
    const out = all.slice(seen);
    seen = all.length;
    return out;
  };
  return { screen, since, close: () => closeSync(fd) };
}

describe('the shared screen when the window narrows', () => {
  it('clears every row the rewrapped input line now takes, then draws it within the new width', () => {
    const t = screenOnFile(100);
    const line = `alice> ${'x'.repeat(70)}`; // 77 columns, the cursor at its end
    t.screen.setInput(line, 77);
    t.since();
    t.screen.setWidth(40);
    // The listener prints before the main thread has fitted the line again: up one row (77 / 40), clear, and
    // the old line cut to the window.
    t.screen.print(['<bob> hi']);
    expect(t.since()).toBe(`\r\x1b[A\x1b[J<bob> hi\r\n${line.slice(0, 39)}\r\x1b[39C`);
    // Drawn at 40 now: the next erase is the plain one.
    t.screen.setInput('alice> ‹xxxx', 12);
    expect(t.since()).toBe('\r\x1b[Jalice> ‹xxxx\r\x1b[12C');
    t.close();
  });

  it('the progress line above it rewraps too, and is cut to the new width when drawn again', () => {
    const t = screenOnFile(120);
    t.screen.setInput('alice> hi', 9);
    t.screen.setStatus(`get big.bin [${'#'.repeat(80)}] 40%`); // 97 columns
    t.since();
    t.screen.setWidth(50);
    t.screen.print(['<bob> still here']);
    // The status takes 2 rows at 50 columns, the input line 1 (cursor at 9): up 2 from the cursor's row.
    expect(t.since()).toBe(`\r\x1b[2A\x1b[J<bob> still here\r\nget big.bin [${'#'.repeat(36)}\r\nalice> hi\r\x1b[9C`);
    t.close();
  });
});
