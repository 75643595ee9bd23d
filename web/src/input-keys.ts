/**
 * The message box's keys, as in the terminal client: Up and Down for what
 * was sent before (the line being typed kept aside), Tab to complete a
 * /command or a nick of someone in the room (Tab again for the next one).
 */
import { wordCompleter, type Completer } from '../../common/terminal/completion.js';
import { COMMANDS } from './commands.js';

const MAX_HISTORY = 100;

export class InputKeys {
  private readonly history: string[] = [];
  private at = 0;
  private draft = '';
  private cycle: { start: number; candidates: string[]; index: number } | null = null;
  private readonly complete: Completer;

  constructor(
    private readonly input: HTMLInputElement,
    nicks: () => string[],
  ) {
    this.complete = wordCompleter({ commands: COMMANDS, nicks });
    input.addEventListener('keydown', (e) => this.key(e));
    // Any change the user makes (typing, pasting, the browser filling it) ends a Tab cycle.
    input.addEventListener('input', () => (this.cycle = null));
  }

  /** A line was sent: it becomes the newest entry. */
  sent(line: string): void {
    if (line.trim() && this.history[this.history.length - 1] !== line) this.history.push(line);
    if (this.history.length > MAX_HISTORY) this.history.shift();
    this.at = this.history.length;
    this.draft = '';
  }

  private key(e: KeyboardEvent): void {
    if (e.key !== 'Tab') this.cycle = null;
    if (e.key === 'ArrowUp' && this.at > 0) {
      if (this.at === this.history.length) this.draft = this.input.value;
      this.show(this.history[--this.at]!);
    } else if (e.key === 'ArrowDown' && this.at < this.history.length) {
      this.at++;
      this.show(this.at === this.history.length ? this.draft : this.history[this.at]!);
    } else if (e.key === 'Tab' && !e.shiftKey && !e.altKey && !e.ctrlKey) {
      if (!this.tab()) return; // nothing to complete: Tab moves focus as usual
    } else return;
    e.preventDefault();
  }

  private show(text: string): void {
    this.input.value = text;
    this.input.setSelectionRange(text.length, text.length);
  }

  /** True when Tab did something (and must not move focus). */
  private tab(): boolean {
    const value = this.input.value;
    const cursor = this.input.selectionStart ?? value.length;
    if (!this.cycle) {
      const { start, candidates } = this.complete(value.slice(0, cursor));
      if (start === cursor || candidates.length === 0) return false;
      this.cycle = { start, candidates, index: -1 };
    }
    const c = this.cycle;
    c.index = (c.index + 1) % c.candidates.length;
    const word = c.candidates[c.index]!;
    const after = value.slice(cursor);
    this.input.value = value.slice(0, c.start) + word + after;
    const end = c.start + word.length;
    this.input.setSelectionRange(end, end);
    return true;
  }
}
