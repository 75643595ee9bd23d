/**
 * Input history: what was sent, newest last, bounded, browsed with Up and
 * Down (the line being typed is kept aside and comes back past the newest).
 * Optionally kept across runs in a file, one JSON string per line, in the
 * user's state directory (XDG: $XDG_STATE_HOME, else ~/.local/state).
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const MAX_HISTORY = 1000;
/** Longest line kept in the history file (a long paste is not worth keeping whole). */
const MAX_SAVED_CHARS = 4096;

/** Where a history is kept: $XDG_STATE_HOME/heartbeat-chat/NAME, or ~/.local/state/heartbeat-chat/NAME (the client's is "history", the operator console's "console-history"). */
export function defaultHistoryPath(name = 'history', env: NodeJS.ProcessEnv = process.env): string {
  const state =
    env['XDG_STATE_HOME'] && env['XDG_STATE_HOME'].startsWith('/')
      ? env['XDG_STATE_HOME']
      : join(homedir(), '.local', 'state');
  return join(state, 'heartbeat-chat', name);
}

export class History {
  private entries: string[] = [];
  /** Index into entries while browsing; entries.length means "the line being typed". */
  private at = 0;
  private draft = '';
  /** Lines in the file now (it is rewritten with the newest entries only when it reaches twice the bound). */
  private fileLines = 0;

  /** @param file where entries persist (null: this run only); problems reading or writing it never stop the client */
  constructor(
    private readonly file: string | null = null,
    private readonly max = MAX_HISTORY,
    /** Lines never kept, not even for this run (commands that carry a password). */
    private readonly secret: (line: string) => boolean = () => false,
  ) {
    if (file) {
      const loaded = load(file, max);
      this.entries = loaded.entries;
      this.fileLines = loaded.lines;
    }
    this.at = this.entries.length;
  }

  get size(): number {
    return this.entries.length;
  }

  add(line: string): void {
    this.at = this.entries.length;
    this.draft = '';
    if (line.trim() === '' || this.entries[this.entries.length - 1] === line || this.secret(line)) return;
    this.entries.push(line);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    this.at = this.entries.length;
    if (this.file && line.length <= MAX_SAVED_CHARS)
      this.fileLines = save(this.file, line, this.entries, this.fileLines, this.max);
  }

  /** The entry before the one shown (current: what is typed now, kept to come back to); null at the oldest. */
  previous(current: string): string | null {
    if (this.at === 0) return null;
    if (this.at === this.entries.length) this.draft = current;
    return this.entries[--this.at]!;
  }

  /** The entry after the one shown, the kept line past the newest; null when not browsing. */
  next(): string | null {
    if (this.at >= this.entries.length) return null;
    this.at++;
    return this.at === this.entries.length ? this.draft : this.entries[this.at]!;
  }
}

function load(file: string, max: number): { entries: string[]; lines: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { entries: [], lines: 0 };
  }
  const out: string[] = [];
  const lines = text.split('\n');
  for (const line of lines) {
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === 'string') out.push(v);
    } catch {
      // a torn or foreign line: skipped
    }
  }
  return { entries: out.slice(-max), lines: lines.length - 1 };
}

/** Appends; when the file has grown to twice the bound, rewrites it with the newest entries only. Returns its line count. */
function save(file: string, line: string, entries: string[], lines: number, max: number): number {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    appendFileSync(file, JSON.stringify(line) + '\n', { mode: 0o600 });
    if (lines + 1 <= 2 * max) return lines + 1;
    writeFileSync(file, entries.map((e) => JSON.stringify(e) + '\n').join(''), { mode: 0o600 });
    return entries.length;
  } catch {
    // history is a convenience: a read-only home must not stop the chat
    return lines;
  }
}
