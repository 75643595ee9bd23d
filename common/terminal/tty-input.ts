/**
 * The keyboard on a terminal, for the client's main thread: raw mode (no
 * byte the user types can strip bits, send a signal or reach the shell),
 * bracketed paste, keys into the line editor, the input line drawn through
 * the shared screen, and the terminal restored however the process ends.
 */
import type { Completer } from './line-editor.js';
import { LineEditor } from './line-editor.js';
import { KeyDecoder, pastesIn, type KeyEvent } from './keys.js';
import { fitInputLine } from './layout.js';
import type { History } from './history.js';
import type { TerminalScreen } from './screen.js';
import { writeFullySync } from '../sync-output.js';

/** A lone ESC is the Escape key once nothing has followed it for this long. */
const ESC_WAIT_MS = 50;
const BRACKETED_PASTE_ON = '\x1b[?2004h';
const BRACKETED_PASTE_OFF = '\x1b[?2004l';

export interface TtyHandlers {
  /** Enter: the line as typed; 'keep' puts it back on the input line (it could not go as it is). */
  submit(line: string): 'keep' | void;
  /** A paste of several lines. */
  paste(lines: string[]): void;
  /** Ctrl-C twice (and Ctrl-D on an empty line, unless eof says otherwise). */
  quit(): void;
  /** Ctrl-D on an empty line, where it does not mean quit. */
  eof?(): void;
  /** The command that quits too, named after the first Ctrl-C (default /quit, the client's). */
  quitCommand?: string;
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
  /**
   * While a question is asked: its own editor, no history (a "y" is not a line to recall), no completion, and
   * the half-typed line waits untouched. A secret one (a password) is not even drawn.
   */
  private answer: { editor: LineEditor; secret: boolean } | null = null;
  /** While held (the program sleeps): keys wait here, and Ctrl-C calls wake instead. */
  private held: { events: KeyEvent[]; wake: () => void } | null = null;
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
    // A terminal that hangs up fails its reads (EIO): the SIGHUP that comes with it is the program's to handle.
    input.on('error', this.onError);
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
    input.off('error', this.onError);
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
   * The next line typed goes to the answer instead of the handlers (a question such as "nick:" or "send 12 lines?"),
   * typed into an editor of its own: the half-typed chat line waits untouched, and the answer never reaches the
   * history. A secret one (a password) is never drawn (as sudo and ssh do: not even its length shows).
   */
  ask(prompt: string, opts: { secret?: boolean } = {}): Promise<string> {
    const saved = this.prompt;
    this.answer = { editor: new LineEditor(null, null), secret: opts.secret === true };
    this.setPrompt(prompt);
    return new Promise((resolve) => {
      this.asking = (line) => {
        this.asking = null;
        this.answer = null;
        this.setPrompt(saved);
        resolve(line);
      };
    });
  }

  /** Keys wait until release(), the way a blocked program's would; Ctrl-C meanwhile calls wake (once each). */
  hold(wake: () => void): void {
    this.held = { events: [], wake };
  }

  /** What was typed while held, handled now, in order. */
  release(): void {
    const held = this.held;
    this.held = null;
    if (held) this.handle(held.events);
  }

  private readonly onData = (chunk: Buffer) => {
    if (this.escTimer) clearTimeout(this.escTimer);
    this.dispatch(pastesIn(this.keys.push(chunk)));
    if (this.keys.waitingOnEscape)
      this.escTimer = setTimeout(() => this.dispatch(this.keys.flushEscape()), ESC_WAIT_MS);
  };

  private dispatch(events: KeyEvent[]): void {
    if (!this.held) return this.handle(events);
    for (const e of events)
      if (e.type === 'key' && e.key === 'ctrl-c') this.held.wake();
      else this.held.events.push(e);
  }

  private readonly onError = () => undefined;

  private readonly onResize = () => {
    this.screen.setWidth(this.streams.output.columns);
    this.draw();
  };

  private handle(events: KeyEvent[]): void {
    let dirty = false;
    for (const e of events) {
      const editor = this.answer?.editor ?? this.editor;
      const r = editor.apply(e);
      if (r.kind !== 'interrupt') this.interruptArmed = false;
      switch (r.kind) {
        case 'changed':
          dirty = true;
          break;
        case 'submit':
          this.draw();
          dirty = false;
          if (this.asking) this.asking(r.line);
          else if (this.handlers.submit(r.line) === 'keep' && editor === this.editor) {
            editor.set(r.line);
            dirty = true;
          }
          break;
        case 'paste':
          this.draw();
          if (this.asking) this.asking(r.lines.join(' '));
          else this.handlers.paste(r.lines);
          break;
        case 'interrupt':
          if (this.interruptArmed) return this.handlers.quit();
          this.interruptArmed = true;
          this.print(`* Ctrl-C again to quit (or ${this.handlers.quitCommand ?? '/quit'})`);
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
    const editor = this.answer?.editor ?? this.editor;
    const view = this.answer?.secret
      ? fitInputLine(this.prompt, [], 0, this.screen.width)
      : fitInputLine(this.prompt, editor.graphemes, editor.cursor, this.screen.width);
    this.screen.setInput(view.text, view.cursorColumn);
  }
}
