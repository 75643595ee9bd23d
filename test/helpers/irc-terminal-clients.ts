/**
 * The IRC clients people use in a terminal, driven as a person would:
 * WeeChat (Debian's weechat-headless, with the fifo plugin of
 * weechat-plugins) takes its commands through its FIFO, as its remote
 * control; irssi runs in a real terminal (tmux) and is typed at. What each
 * one received is read from its own logs (WeeChat's logger, irssi's
 * autolog), one file per buffer or window, as it would show them.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineProcess, tempDir } from './processes.js';
import { Tmux } from './tmux.js';

async function until<T>(found: () => T | undefined, what: string, timeoutMs: number, dump: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = found();
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs}ms\n${dump()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function read(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** The server's name in WeeChat: its buffers are irc.chatsrv.<channel or nick>, its own irc.server.chatsrv. */
export const WEECHAT_SERVER = 'chatsrv';

export class WeeChat {
  private constructor(
    readonly proc: LineProcess,
    readonly home: string,
  ) {}

  /** weechat-headless with its own home, connected to the IRC door (TLS: the certificate is not checked). */
  static start(port: number, nick: string, tls: boolean): WeeChat {
    const home = tempDir('weechat');
    const s = WEECHAT_SERVER;
    const commands = [
      '/set logger.file.flush_delay 0',
      `/server add ${s} 127.0.0.1/${port}${tls ? ' -ssl' : ''}`,
      `/set irc.server.${s}.ssl_verify off`,
      `/set irc.server.${s}.nicks ${nick}`,
      `/set irc.server.${s}.autojoin #lobby`,
      `/connect ${s}`,
    ];
    const proc = new LineProcess('weechat', ['--dir', home, '-r', commands.join(';')], {
      program: 'weechat-headless',
    });
    return new WeeChat(proc, home);
  }

  /** A command or text typed in a buffer ('#lobby', a nick, or 'server'), through WeeChat's FIFO. */
  async type(buffer: string, text: string): Promise<void> {
    const fifo = join(this.home, `weechat_fifo_${this.proc.proc.pid}`);
    await until(
      () => (existsSync(fifo) ? true : undefined),
      'FIFO',
      10_000,
      () => fifo,
    );
    const name = buffer === 'server' ? `irc.server.${WEECHAT_SERVER}` : `irc.${WEECHAT_SERVER}.${buffer}`;
    appendFileSync(fifo, `${name} *${text}\n`);
  }

  /** What WeeChat logged in a buffer ('#lobby', a nick's private buffer, or 'server'). */
  log(buffer: string): string {
    const name = buffer === 'server' ? `irc.server.${WEECHAT_SERVER}` : `irc.${WEECHAT_SERVER}.${buffer}`;
    return read(join(this.home, 'logs', `${name}.weechatlog`));
  }

  /** The first line logged in `buffer` matching `re` (a line is "date<TAB>prefix<TAB>message"). */
  async logged(buffer: string, re: RegExp, timeoutMs = 10_000): Promise<string> {
    return until(
      () =>
        this.log(buffer)
          .split('\n')
          .find((l) => re.test(l)),
      `line matching ${String(re)} in WeeChat's ${buffer}`,
      timeoutMs,
      () => `${buffer}:\n${this.log(buffer)}\nserver:\n${this.log('server')}`,
    );
  }
}

export class Irssi {
  private constructor(
    readonly term: Tmux,
    readonly logs: string,
  ) {}

  /** irssi in tmux with its own home, connected to the IRC door, every window logged (autolog). */
  static start(port: number, nick: string): Irssi {
    const home = tempDir('irssi');
    const logs = join(home, 'logs');
    mkdirSync(logs);
    writeFileSync(
      join(home, 'config'),
      `settings = {
  core = { real_name = "${nick} in irssi"; user_name = "${nick}"; nick = "${nick}"; };
  "fe-common/core" = { autolog = "yes"; autolog_path = "${logs}/$0.log"; autolog_level = "all"; };
};
`,
    );
    const term = Tmux.start(['irssi', `--home=${home}`, '-n', nick, '-c', '127.0.0.1', '-p', String(port)], {
      width: 120,
      height: 30,
      statusFile: join(home, 'status'),
    });
    return new Irssi(term, logs);
  }

  /** A line typed and sent, as a person types it. */
  type(line: string): void {
    this.term.type(line);
    this.term.keys('Enter');
  }

  /** Every window's log, together. */
  log(window?: string): string {
    if (!existsSync(this.logs)) return '';
    const files = readdirSync(this.logs).filter((f) => window === undefined || f === `${window}.log`);
    return files.map((f) => read(join(this.logs, f))).join('\n');
  }

  async logged(re: RegExp, window?: string, timeoutMs = 10_000): Promise<string> {
    return until(
      () =>
        this.log(window)
          .split('\n')
          .find((l) => re.test(l)),
      `line matching ${String(re)} in irssi's ${window ?? 'windows'}`,
      timeoutMs,
      () => `${this.log()}\nscreen:\n${this.term.screen().join('\n')}`,
    );
  }

  kill(): void {
    this.term.kill();
  }
}
