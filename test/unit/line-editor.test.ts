/** The terminal client's input, without a terminal: key decoding, the line editor, history, completion, widths. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyDecoder, pastesIn, type KeyEvent } from '../../common/terminal/keys.js';
import { LineEditor } from '../../common/terminal/line-editor.js';
import { History, defaultHistoryPath } from '../../common/terminal/history.js';
import { wordCompleter } from '../../common/terminal/completion.js';
import { TERMINAL_COMMANDS } from '../../client/input.js';
import { columns, fitInputLine } from '../../common/terminal/layout.js';
import { graphemes } from '../../common/terminal/line-editor.js';
import { tempDir } from '../helpers/processes.js';
import { decorate, mentions, nickColor } from '../../client/terminal/decorate.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const key = (k: string): KeyEvent => ({ type: 'key', key: k as never });
const text = (t: string): KeyEvent => ({ type: 'text', text: t });

describe('key decoding', () => {
  it('UTF-8 split anywhere across reads comes out whole', () => {
    const all = bytes('大家好 👋 的吃');
    for (let cut = 1; cut < all.length; cut++) {
      const d = new KeyDecoder();
      const out = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(out.map((e) => (e.type === 'text' ? e.text : '?')).join('')).toBe('大家好 👋 的吃');
    }
  });

  it('control bytes are keys, never text, and none of them is a signal', () => {
    const d = new KeyDecoder();
    expect(d.push(Buffer.from([0x01, 0x03, 0x04, 0x05, 0x0b, 0x15, 0x17, 0x1a, 0x7f, 0x0d, 0x09, 0x00, 0x1c]))).toEqual(
      ['ctrl-a', 'ctrl-c', 'ctrl-d', 'ctrl-e', 'ctrl-k', 'ctrl-u', 'ctrl-w', 'ctrl-z', 'backspace', 'enter', 'tab'].map(
        key,
      ),
    );
  });

  it('cursor and editing sequences as xterm, tmux and the console send them', () => {
    const d = new KeyDecoder();
    const seq =
      '\x1b[A\x1b[B\x1b[C\x1b[D\x1bOH\x1bOF\x1b[1~\x1b[4~\x1b[7~\x1b[8~\x1b[H\x1b[F\x1b[3~\x1b[1;5C\x1b[1;5D\x1b[1;3D\x1bb\x1bf\x1b\x7f\x1bd\x1b[Z';
    expect(d.push(bytes(seq))).toEqual(
      [
        'up',
        'down',
        'right',
        'left',
        'home',
        'end',
        'home',
        'end',
        'home',
        'end',
        'home',
        'end',
        'delete',
        'word-right',
        'word-left',
        'word-left',
        'word-left',
        'word-right',
        'delete-word-left',
        'delete-word-right',
        'shift-tab',
      ].map(key),
    );
  });

  it('a sequence split across reads waits for its end; unknown ones are swallowed, not typed', () => {
    const d = new KeyDecoder();
    expect(d.push(bytes('\x1b['))).toEqual([]);
    expect(d.push(bytes('1;5'))).toEqual([]);
    expect(d.push(bytes('Cx\x1b[99~y'))).toEqual([key('word-right'), text('xy')]);
  });

  it('a lone ESC is the Escape key once flushed', () => {
    const d = new KeyDecoder();
    expect(d.push(bytes('\x1b'))).toEqual([]);
    expect(d.waitingOnEscape).toBe(true);
    expect(d.flushEscape()).toEqual([key('escape')]);
    expect(d.waitingOnEscape).toBe(false);
  });

  it('bracketed paste: one event with the text, newlines and all, even split across reads', () => {
    const d = new KeyDecoder();
    const all = bytes('a\x1b[200~line 1\r\n第二行\x1b[D\r\n\x1b[201~b');
    const out: KeyEvent[] = [];
    for (const b of all) out.push(...d.push(Buffer.from([b])));
    expect(out).toEqual([text('a'), { type: 'paste', text: 'line 1\r\n第二行\x1b[D\r\n' }, text('b')]);
  });
});

function typed(ed: LineEditor, ...events: Array<KeyEvent | string>): LineEditor {
  for (const e of events) ed.apply(typeof e === 'string' ? text(e) : e);
  return ed;
}

describe('the line editor', () => {
  it('moves and deletes by grapheme: CJK, emoji, a letter with a combining accent typed after it', () => {
    const ed = typed(new LineEditor(), 'a', '大', '👨‍👩‍👧', 'e', '\u0301', 'z');
    expect(ed.graphemes).toEqual(['a', '大', '👨‍👩‍👧', 'e\u0301', 'z']);
    typed(ed, key('left'), key('backspace'));
    expect(ed.text).toBe('a大👨‍👩‍👧z');
    typed(ed, key('left'), key('delete'));
    expect(ed.text).toBe('a大z');
    expect(ed.cursor).toBe(2);
  });

  it('Home, End, Ctrl-A/E, Ctrl-U/K/W, word moves', () => {
    const ed = typed(new LineEditor(), 'one two three');
    typed(ed, key('ctrl-w'));
    expect(ed.text).toBe('one two ');
    typed(ed, key('word-left'));
    expect(ed.cursor).toBe(4);
    typed(ed, key('ctrl-k'));
    expect(ed.text).toBe('one ');
    typed(ed, key('ctrl-a'), 'X', key('end'), 'Y', key('home'), key('word-right'));
    expect([ed.text, ed.cursor]).toEqual(['Xone Y', 4]);
    typed(ed, key('ctrl-u'));
    expect([ed.text, ed.cursor]).toEqual([' Y', 0]);
    typed(ed, key('ctrl-e'), key('delete-word-left'));
    expect(ed.text).toBe(' ');
  });

  it('Enter submits and clears; Ctrl-C clears a line and reports an empty one; Ctrl-D quits only on an empty line', () => {
    const ed = typed(new LineEditor(), 'hi');
    expect(ed.apply(key('enter'))).toEqual({ kind: 'submit', line: 'hi' });
    expect(ed.text).toBe('');
    typed(ed, 'abc');
    expect(ed.apply(key('ctrl-c'))).toEqual({ kind: 'changed' });
    expect(ed.text).toBe('');
    expect(ed.apply(key('ctrl-c'))).toEqual({ kind: 'interrupt' });
    typed(ed, 'ab', key('home'));
    expect(ed.apply(key('ctrl-d'))).toEqual({ kind: 'changed' });
    expect(ed.text).toBe('b');
    typed(ed, key('ctrl-u'), key('delete'));
    expect(ed.apply(key('ctrl-d'))).toEqual({ kind: 'eof' });
  });

  it('a paste of several lines is handed over as pasted, the last one too; the line being typed stays as it was', () => {
    const ed = typed(new LineEditor(), 'start end', key('left'), key('left'), key('left'));
    expect(ed.apply({ type: 'paste', text: 'one\ntwo\r\nthree\n' })).toEqual({
      kind: 'paste',
      lines: ['one', 'two', 'three'],
    });
    // Two lines, the last without its newline: both handed over, nothing left to be joined to the next paste.
    expect(ed.apply({ type: 'paste', text: 'four\nfive' })).toEqual({ kind: 'paste', lines: ['four', 'five'] });
    expect([ed.text, ed.cursor]).toEqual(['start end', 6]);
    typed(ed, key('ctrl-u'), key('ctrl-k'));
    expect(ed.apply({ type: 'paste', text: 'single line\n' })).toEqual({ kind: 'changed' });
    expect(ed.text).toBe('single line');
  });

  it('a terminal that does not bracket pastes: Enter and more text in one read is a paste, not lines sent at once', () => {
    const d = new KeyDecoder();
    expect(pastesIn(d.push(bytes('one\rtwo')))).toEqual([{ type: 'paste', text: 'one\ntwo' }]);
    expect(pastesIn(d.push(bytes('a\r\nb\rc\r')))).toEqual([{ type: 'paste', text: 'a\n\nb\nc\n' }]);
    // Typed lines: Enter last in its read, or alone.
    expect(pastesIn(d.push(bytes('hello\r')))).toEqual([text('hello'), key('enter')]);
    expect(pastesIn(d.push(bytes('\r')))).toEqual([key('enter')]);
  });

  it('a long one-line paste is kept whole (the server says how long it is, on sending), and fits the window', () => {
    const ed = new LineEditor();
    ed.apply({ type: 'paste', text: 'x'.repeat(100_000) });
    expect(ed.text.length).toBe(100_000);
    const v = fitInputLine('> ', ed.graphemes, ed.cursor, 80);
    expect(v.text).toBe(`> ‹${'x'.repeat(75)}`);
    expect(v.cursorColumn).toBe(78);
    ed.apply(key('home'));
    expect(fitInputLine('> ', ed.graphemes, ed.cursor, 80).text).toBe(`> ${'x'.repeat(76)}›`);
  });

  it('control characters in typed or pasted text never enter the line', () => {
    const ed = typed(new LineEditor(), 'a\x1b[31mb\x07c');
    expect(ed.text).toBe('a[31mbc');
  });
});

describe('history', () => {
  it('Up and Down browse, the line being typed comes back; blanks and repeats are not kept; it is bounded', () => {
    const h = new History(null, 3);
    for (const l of ['one', 'one', ' ', 'two', 'three', 'four']) h.add(l);
    expect(h.size).toBe(3);
    const ed = typed(new LineEditor(h), 'draft');
    typed(ed, key('up'));
    expect(ed.text).toBe('four');
    typed(ed, key('up'), key('up'));
    expect(ed.text).toBe('two');
    expect(ed.apply(key('up'))).toEqual({ kind: 'bell' });
    typed(ed, key('down'), key('down'), key('down'));
    expect(ed.text).toBe('draft');
    expect(ed.apply(key('down'))).toEqual({ kind: 'bell' });
  });

  it('is kept across runs in the XDG state directory, one JSON string a line, torn lines skipped', () => {
    const dir = tempDir('history');
    const file = defaultHistoryPath('history', { XDG_STATE_HOME: dir });
    expect(file).toBe(join(dir, 'heartbeat-chat', 'history'));
    expect(defaultHistoryPath('history', { XDG_STATE_HOME: 'relative/ignored' })).toMatch(
      /\/\.local\/state\/heartbeat-chat\/history$/,
    );
    const first = new History(file);
    first.add('你好 "quoted"');
    first.add('line two');
    expect(readFileSync(file, 'utf8')).toBe('"你好 \\"quoted\\""\n"line two"\n');
    const second = new History(file);
    expect(second.previous('')).toBe('line two');
    expect(second.previous('')).toBe('你好 "quoted"');
  });

  it('the file is bounded: past twice the limit it is rewritten with the newest entries', () => {
    const file = join(tempDir('history-bound'), 'history');
    const h = new History(file, 5);
    for (let i = 1; i <= 11; i++) h.add(`line ${i}`);
    const kept = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string);
    expect(kept).toEqual(['line 7', 'line 8', 'line 9', 'line 10', 'line 11']);
    h.add('line 12');
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(6);
    expect(new History(file, 5).previous('')).toBe('line 12');
  });
});

describe('completion', () => {
  const complete = wordCompleter({
    commands: TERMINAL_COMMANDS,
    nicks: () => ['alice', 'Albert', 'bob'],
    files: () => ['report.pdf', 'my notes.txt'],
  });
  it('commands at the start of the line, nicks elsewhere (addressed at the start), file names after /get, quoted when needed', () => {
    expect(complete('/tr')).toEqual({ start: 0, candidates: ['/transfers '] });
    expect(complete('al')).toEqual({ start: 0, candidates: ['alice: ', 'Albert: '] });
    expect(complete('hi b')).toEqual({ start: 3, candidates: ['bob '] });
    expect(complete('/get my')).toEqual({ start: 5, candidates: ['"my notes.txt" '] });
  });

  it('Tab completes, and Tab again cycles through the candidates', () => {
    const ed = typed(new LineEditor(null, complete), 'al');
    typed(ed, key('tab'));
    expect(ed.text).toBe('alice: ');
    typed(ed, key('tab'));
    expect(ed.text).toBe('Albert: ');
    typed(ed, key('tab'), 'hi');
    expect(ed.text).toBe('alice: hi');
    expect(typed(new LineEditor(null, complete), 'zz').apply(key('tab'))).toEqual({ kind: 'bell' });
  });
});

describe('column widths and fitting the input line', () => {
  it('CJK and emoji take two columns, combining marks none', () => {
    expect(columns('大家好')).toBe(6);
    expect(columns('👋')).toBe(2);
    expect(columns('e\u0301')).toBe(1);
    expect(columns('abc')).toBe(3);
  });

  it('a line that fits is drawn whole, the cursor in columns, not characters', () => {
    const chars = graphemes('大家好 ok');
    expect(fitInputLine('> ', chars, 3, 80)).toEqual({ text: '> 大家好 ok', cursorColumn: 8 });
  });

  it('a longer line scrolls to keep the cursor in view, with markers, never using the last column', () => {
    const chars = graphemes('大'.repeat(50));
    for (const cursor of [0, 10, 25, 49, 50]) {
      for (const width of [20, 21, 40]) {
        const v = fitInputLine('> ', chars, cursor, width);
        expect(columns(v.text)).toBeLessThanOrEqual(width - 1);
        expect(v.cursorColumn).toBeLessThanOrEqual(width - 1);
        expect(v.cursorColumn).toBeGreaterThanOrEqual(2);
      }
    }
    const end = fitInputLine('> ', chars, 50, 20);
    expect(end.text.startsWith('> ‹')).toBe(true);
    const start = fitInputLine('> ', chars, 0, 20);
    expect(start.text.endsWith('›')).toBe(true);
  });
});

describe('how lines look on a terminal', () => {
  const chat = (from: string, text: string) => ({
    type: 'CHAT' as const,
    from,
    text,
    action: false,
    ts: new Date(2026, 11, 1, 9, 5).getTime(),
  });
  it('[HH:MM] first; a stable colour per nick; none with colours off', () => {
    const plain = decorate(chat('bob', 'hi'), ['<bob> hi'], 'alice', { color: false, timestamps: true });
    expect(plain).toEqual({ lines: ['[09:05] <bob> hi'], bell: false });
    const coloured = decorate(chat('bob', 'hi'), ['<bob> hi'], 'alice', { color: true, timestamps: false });
    expect(coloured.lines[0]).toBe(`<\x1b[${nickColor('bob')}mbob\x1b[0m> hi`);
    expect(nickColor('Bob')).toBe(nickColor('bob'));
  });

  it('a mention of me, or a direct message to me, rings the bell; my own lines and words containing my nick do not', () => {
    const o = { color: false, timestamps: false };
    expect(decorate(chat('bob', 'ALICE: lunch?'), ['<bob> ALICE: lunch?'], 'alice', o).bell).toBe(true);
    expect(decorate(chat('bob', 'malice aforethought'), ['<bob> malice aforethought'], 'alice', o).bell).toBe(false);
    expect(decorate(chat('alice', 'alice here'), ['<alice> alice here'], 'alice', o).bell).toBe(false);
    // Chinese puts no spaces between words: the nick is found anywhere in the text.
    expect(decorate(chat('bob', '小明你好'), ['<bob> 小明你好'], '小明', o).bell).toBe(true);
    expect(decorate(chat('bob', '小红你好'), ['<bob> 小红你好'], '小明', o).bell).toBe(false);
    expect(
      decorate({ type: 'DIRECT', from: 'bob', to: 'alice', text: 'psst', ts: 0 }, ['*bob* psst'], 'alice', o).bell,
    ).toBe(true);
    expect(mentions('hi @alice!', 'alice')).toBe(true);
  });
});
