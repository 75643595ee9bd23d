/**
 * The servers this user trusted on first use: one line per server,
 * "host:port SHA256-FINGERPRINT", in the user's state folder
 * ($XDG_STATE_HOME/heartbeat-chat/known_hosts, else ~/.local/state/…).
 * A line that does not parse is kept as it is and ignored.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export function defaultKnownHosts(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state'), 'heartbeat-chat', 'known_hosts');
}

export class KnownHosts {
  constructor(private readonly file: string) {}

  private lines(): string[] {
    try {
      return readFileSync(this.file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
    } catch {
      return [];
    }
  }

  /** The fingerprint remembered for host:port, or null. */
  get(host: string, port: number): string | null {
    const key = `${host}:${port}`;
    for (const line of this.lines()) {
      const [name, fp] = line.trim().split(/\s+/);
      if (name === key && fp) return fp;
    }
    return null;
  }

  remember(host: string, port: number, fingerprint: string): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileSync(this.file, [...this.lines(), `${host}:${port} ${fingerprint}`].join('\n') + '\n', { mode: 0o600 });
  }
}
