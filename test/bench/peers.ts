/**
 * Real peers from Debian's packages. atftpd (with atftp) and tftpd-hpa cannot
 * both be installed (both provide in.tftpd), so tftpd-hpa's binary is unpacked
 * from its .deb into test/artifacts/peers instead of installed. A missing peer
 * is skipped with a line saying why and how to get it, never silently.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Peers {
  tftpdHpa: string | null;
  atftpd: string | null;
  atftp: string | null;
  curl: string | null;
  ngircd: string | null;
  notes: string[];
}

function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function aptInstall(pkgs: string[], notes: string[]): void {
  if (process.getuid?.() !== 0) {
    notes.push(`not root: cannot apt-get install ${pkgs.join(' ')} (run: sudo apt-get install ${pkgs.join(' ')})`);
    return;
  }
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (err) {
      notes.push(`apt-get install ${pkgs.join(' ')} failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}

export function ensurePeers(root: string, wanted: { tftp: boolean; irc: boolean }): Peers {
  const notes: string[] = [];
  if (wanted.tftp) {
    const need = ['atftpd', 'atftp', 'curl'].filter((c) => !which(c));
    if (need.length) aptInstall(need, notes);
  }
  if (wanted.irc && !which('ngircd')) aptInstall(['ngircd'], notes);
  let tftpdHpa: string | null = null;
  if (wanted.tftp) {
    const dir = join(root, 'test/artifacts/peers/tftpd-hpa');
    const bin = join(dir, 'usr/sbin/in.tftpd');
    if (!existsSync(bin)) {
      try {
        mkdirSync(dir, { recursive: true });
        execFileSync('apt-get', ['download', 'tftpd-hpa'], { cwd: dir, stdio: 'ignore' });
        const deb = readdirSync(dir).find((f) => f.endsWith('.deb'));
        if (deb) execFileSync('dpkg-deb', ['-x', join(dir, deb), dir], { stdio: 'ignore' });
      } catch (err) {
        notes.push(
          `tftpd-hpa: could not fetch its .deb (${(err as Error).message.split('\n')[0]}); apt-get download tftpd-hpa needs Debian's package lists`,
        );
      }
    }
    tftpdHpa = existsSync(bin) ? bin : null;
  }
  return {
    tftpdHpa,
    atftpd: which('atftpd') ?? (existsSync('/usr/sbin/atftpd') ? '/usr/sbin/atftpd' : null),
    atftp: which('atftp'),
    curl: which('curl'),
    ngircd: which('ngircd') ?? (existsSync('/usr/sbin/ngircd') ? '/usr/sbin/ngircd' : null),
    notes,
  };
}
