/**
 * The shared terminal screen's drawing, byte for byte: incoming lines erase
 * the bottom (progress and input lines), scroll above it, and draw it again
 * with the cursor where the user is typing. Written to a file, not a terminal.
 */
import { describe, expect, it } from 'vitest';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerminalScreen } from '../../common/terminal/screen.js';
import { tempDir } from '../helpers/processes.js';

function screenOnFile(): { screen: TerminalScreen; fd: number; written: () => string; close: () => void } {
  const file = join(tempDir('screen'), 'out');
  const fd = openSync(file, 'w');
  const shared = TerminalScreen.create(80);
  return {
    screen: new TerminalScreen(shared.buffer, fd),
    fd,
    written: () => readFileSync(file, 'utf8'),
    close: () => closeSync(fd),
  };
}

describe('the shared terminal screen', () => {
  it('redraws the input line exactly after each incoming line, cursor in its column', () => {
    const t = screenOnFile();
    t.screen.setInput('alice> 大家好', 11);
    t.screen.print(['<bob> hi']);
    expect(t.written()).toBe('\r\x1b[J' + 'alice> 大家好\r\x1b[11C' + '\r\x1b[J<bob> hi\r\nalice> 大家好\r\x1b[11C');
    t.close();
  });

  it('the progress line sits above the input line and is erased with it, never mixed into the output', () => {
    const t = screenOnFile();
    t.screen.setInput('alice> x', 8);
    const before = t.written().length;
    t.screen.setStatus('get big.bin [####      ] 40%');
    t.screen.print(['<bob> still here']);
    expect(t.written().slice(before)).toBe(
      '\r\x1b[J' +
        'get big.bin [####      ] 40%\r\nalice> x\r\x1b[8C' +
        '\r\x1b[A\x1b[J<bob> still here\r\nget big.bin [####      ] 40%\r\nalice> x\r\x1b[8C',
    );
    t.close();
  });

  it('close() clears the bottom for good and writes the last line; the input line is not drawn again', () => {
    const t = screenOnFile();
    t.screen.setInput('alice> half typed', 17);
    const drawn = t.written().length;
    t.screen.close('connection lost', t.fd);
    expect(t.written().slice(drawn)).toBe('\r\x1b[Jconnection lost\n');
    const at = t.written().length;
    t.screen.setInput('alice> more', 11);
    expect(t.written().slice(at)).toBe('\r\x1b[J');
    t.close();
  });
});
