/**
 * The keyboard on a terminal, for the client's main thread: raw mode (no
 * byte the user types can strip bits, send a signal or reach the shell),
 * bracketed paste, keys into the line editor, the input line drawn through
 * the shared screen, and the terminal restored however the process ends.
 */
import type { Completer } from './line-editor.js';
import { LineEditor } from './line-editor.js';
import { KeyDecoder, type KeyEvent } from './keys.js';
import { fitInputLine } from './layout.js';
import type { History } from './history.js';
import type { TerminalScreen } from './screen.js';
import { writeFullySync } from '../sync-output.js';

/** A lone ESC is the Escape key once nothing has followed it for this long. */
const ESC_WAIT_MS = 50;
const BRACKETED_PASTE_ON = '\x1b[?2004h';
const BRACKETED_PASTE_OFF = '\x1b[?2004l';

export interface TtyHandlers {
  /** Enter: the line as typed. */
  submit(line: string): void;
  /** A paste of several lines. */
  paste(lines: string[]): void;
  /** Ctrl-C twice (and Ctrl-D on an empty line, unless eof says otherwise). */
  quit(): void;
  /** Ctrl-D on an empty line, where it does not mean quit. */
  eof?(): void;
}

export interface TtyStreams {
  input: NodeJS.ReadStream;
  /** For its size and resize events; what is drawn goes through the screen. */
  output: NodeJS.WriteStream;
  outputFd: number;
}

export class TtyInput {
  private readonly keys = new KeyDecoder();
  private readonly editor: LineEditor;
  private prompt = '';
  private escTimer: NodeJS.Timeout | null = null;
  private interruptArmed = false;
  private asking: ((line: string) => void) | null = null;
  /** While a secret (a password) is asked for: its own editor, no history, no completion, nothing drawn. */
  private secret: LineEditor | null = null;
  private started = false;
  private readonly restore = () => this.stop();

  constructor(
    private readonly screen: TerminalScreen,
    private readonly streams: TtyStreams,
    private readonly handlers: TtyHandlers,
    history: History | null,
    completer: Completer | null,
  ) {
    this.editor = new LineEditor(history, completer);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const { input, output } = this.streams;
    input.setRawMode(true);
    writeFullySync(this.streams.outputFd, Buffer.from(BRACKETED_PASTE_ON));
    input.on('data', this.onData);
    output.on('resize', this.onResize);
    input.resume();
    // The terminal comes back as it was however the process ends: exit, or crash (Node still emits 'exit').
    // Signals are the program's to handle; it must end through process.exit for this to run.
    process.once('exit', this.restore);
    this.draw();
  }

  /** Raw mode off, bracketed paste off, the input line cleared. Safe to call twice. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    const { input, output } = this.streams;
    input.off('data', this.onData);
    output.off('resize', this.onResize);
    this.screen.hideInput();
    try {
      writeFullySync(this.streams.outputFd, Buffer.from(BRACKETED_PASTE_OFF));
      input.setRawMode(false);
    } catch {
      // the terminal is gone (hung up): nothing to restore
    }
    input.pause();
    process.off('exit', this.restore);
  }

  setPrompt(prompt: string): void {
    this.prompt = prompt;
    this.draw();
  }

  /** Lines above the input line. */
  print(...lines: string[]): void {
    this.screen.print(lines);
  }

  /**
   * The next line typed goes to the answer instead of the handlers (a question such as "nick:" or "send 12 lines?").
   * A secret one (a password) is typed into an editor of its own, so that a half-typed chat line waits untouched,
   * is never drawn (as sudo and ssh do: not even its length shows) and never reaches the history.
   */
  ask(prompt: string, opts: { secret?: boolean } = {}): Promise<string> {
    const saved = this.prompt;
    if (opts.secret) this.secret = new LineEditor(null, null);
    this.setPrompt(prompt);
    return new Promise((resolve) => {
      this.asking = (line) => {
        this.asking = null;
        this.secret = null;
        this.setPrompt(saved);
        resolve(line);
      };
    });
  }

  private readonly onData = (chunk: Buffer) => {
    if (this.escTimer) clearTimeout(this.escTimer);
    this.handle(this.keys.push(chunk));
    if (this.keys.waitingOnEscape) this.escTimer = setTimeout(() => this.handle(this.keys.flushEscape()), ESC_WAIT_MS);
  };

  private readonly onResize = () => {
    this.screen.setWidth(this.streams.output.columns);
    this.draw();
  };

  private handle(events: KeyEvent[]): void {
    let dirty = false;
    for (const e of events) {
      const r = (this.secret ?? this.editor).apply(e);
      if (r.kind !== 'interrupt') this.interruptArmed = false;
      switch (r.kind) {
        case 'changed':
          dirty = true;
          break;
        case 'submit':
          this.draw();
          dirty = false;
          if (this.asking) this.asking(r.line);
          else this.handlers.submit(r.line);
          break;
        case 'paste':
          this.draw();
          if (this.asking) this.asking(r.lines.join(' '));
          else this.handlers.paste(r.lines);
          break;
        case 'interrupt':
          if (this.interruptArmed) return this.handlers.quit();
          this.interruptArmed = true;
          this.print('* Ctrl-C again to quit (or /quit)');
          break;
        case 'eof':
          return this.handlers.eof ? this.handlers.eof() : this.handlers.quit();
        case 'bell':
          this.screen.bell();
          break;
        case 'none':
          break;
      }
    }
    if (dirty) this.draw();
  }

  private draw(): void {
    if (!this.started) return;
    const view = this.secret
      ? fitInputLine(this.prompt, [], 0, this.screen.width)
      : fitInputLine(this.prompt, this.editor.graphemes, this.editor.cursor, this.screen.width);
    this.screen.setInput(view.text, view.cursorColumn);
  }
}
