/**
 * A real pseudo-terminal for tests: tmux on a private socket, one session per
 * terminal, keys sent with send-keys, the screen read with capture-pane.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_JS, ROOT, plainUnlessAsked } from './processes.js';

export class Tmux {
  private readonly socket = `hbchat-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly session = 'term';
  /** What the command printed last, and its exit status, once it has ended (see start). */
  readonly statusFile: string;

  private constructor(statusFile: string) {
    this.statusFile = statusFile;
  }

  /**
   * Starts `command` (argv) in a new terminal of the given size. When it ends
   * its exit status is written to the screen as "[exited N]" and, with stty's
   * view of the terminal, to statusFile (whole: written aside and renamed, so
   * that a test seeing the file never reads it empty); the pane stays for reading.
   */
  static start(
    argv: string[],
    opts: { width?: number; height?: number; env?: Record<string, string>; statusFile: string },
  ): Tmux {
    const t = new Tmux(opts.statusFile);
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const cmd = `cd ${shellQuote(ROOT)} && env ${env.join(' ')} ${argv.map(shellQuote).join(' ')}; s=$?; stty -a > ${shellQuote(opts.statusFile)}.stty; echo $s > ${shellQuote(`${opts.statusFile}.part`)}; mv ${shellQuote(`${opts.statusFile}.part`)} ${shellQuote(opts.statusFile)}; echo "[exited $s]"; sleep 600`;
    t.tmux('new-session', '-d', '-s', t.session, '-x', String(opts.width ?? 100), '-y', String(opts.height ?? 30), cmd);
    return t;
  }

  /** The chat client on this machine's node, in a terminal. */
  static client(
    port: number,
    args: string[],
    opts: { width?: number; height?: number; env?: Record<string, string>; statusFile: string },
  ): Tmux {
    return Tmux.start([process.execPath, ...plainUnlessAsked([CLIENT_JS, '--port', String(port), ...args])], opts);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** Text typed as is (UTF-8 included), no key names. */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.session, '-l', text);
  }

  /** Named keys: Enter, Left, C-a, M-b, BSpace, DC (delete), Home, End, Up, Tab, ... */
  keys(...names: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...names);
  }

  /** Bytes as the terminal would deliver them (escape sequences, bracketed paste). */
  raw(bytes: string): void {
    this.tmux('send-keys', '-t', this.session, '-H', ...Buffer.from(bytes, 'utf8').toString('hex').match(/../g)!);
  }

  /** Text pasted as tmux pastes it: bracketed (-p) if the program asked for it, and only then; newlines as Enter. */
  paste(text: string, opts: { bracketed: boolean }): void {
    const file = join(tmpdir(), `hbchat-paste-${process.pid}-${randomBytes(3).toString('hex')}`);
    writeFileSync(file, text);
    try {
      this.tmux('load-buffer', file);
      this.tmux('paste-buffer', ...(opts.bracketed ? ['-p'] : []), '-t', this.session);
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** The process the terminal runs (the shell's child: the program started in it), or null once it has ended. */
  programPid(): number | null {
    const shell = this.tmux('display-message', '-t', this.session, '-p', '#{pane_pid}').trim();
    try {
      const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/);
      const pid = Number(children[0]);
      return Number.isInteger(pid) && pid > 0 && !/\bsleep\b/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))
        ? pid
        : null;
    } catch {
      return null;
    }
  }

  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', this.session, '-x', String(width), '-y', String(height));
  }

  /** The screen, one string per row, trailing spaces removed. */
  screen(): string[] {
    return this.tmux('capture-pane', '-t', this.session, '-p')
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => l.trimEnd());
  }

  /** The cursor's column and row. */
  cursor(): { x: number; y: number } {
    const [x, y] = this.tmux('display-message', '-t', this.session, '-p', '#{cursor_x} #{cursor_y}')
      .trim()
      .split(' ')
      .map(Number);
    return { x: x!, y: y! };
  }

  /** Polls the screen until check passes; fails with the screen as it was. */
  async waitFor(check: (rows: string[]) => boolean, what: string, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = this.screen();
      if (check(rows)) return rows;
      if (Date.now() > deadline)
        throw new Error(`terminal: ${what} did not appear within ${timeoutMs}ms; the screen:\n${rows.join('\n')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async waitForText(text: string, timeoutMs?: number): Promise<string[]> {
    return this.waitFor((rows) => rows.some((r) => r.includes(text)), JSON.stringify(text), timeoutMs);
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
