/**
 * ngircd's own answer to several nodes (issue 34's benchmark): two ngircd
 * servers linked server to server on loopback, for the same fan-out load as
 * the cluster's, clients split over them. B waits for A's link (Passive);
 * A connects at once and retries every second; ready once both say the
 * other is registered. Flood protection and connection limits off, as the
 * fan-out suite's single ngircd has them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/loopback.js';
import { start, type Daemon } from './sh.js';

export interface LinkedIrcds {
  ports: [number, number];
  pids: [number, number];
  stop(): Promise<void>;
}

function config(work: string, me: 'a' | 'b', ports: { a: number; b: number }): string {
  const peer = me === 'a' ? 'b' : 'a';
  const file = join(work, `ngircd-${me}.conf`);
  const lines = [
    '[Global]',
    ...[`Name = ${me}.bench.local`, 'Info = bench', 'Listen = 127.0.0.1', `Ports = ${ports[me]}`],
    ...['ServerUID = root', 'ServerGID = root', `PidFile = ${join(work, `ngircd-${me}.pid`)}`],
    ...['AdminInfo1 = bench', 'AdminInfo2 = bench', 'AdminEMail = bench@localhost'],
    '[Limits]',
    ...['ConnectRetry = 1', 'MaxConnections = 0', 'MaxConnectionsIP = 0', 'MaxJoins = 0', 'MaxPenaltyTime = 0'],
    ...['MaxNickLength = 31', 'PingTimeout = 5', 'PongTimeout = 10'],
    '[Options]',
    ...['DNS = no', 'Ident = no', 'PAM = no'],
    '[Server]',
    ...[`Name = ${peer}.bench.local`, 'Host = 127.0.0.1', `Port = ${ports[peer]}`],
    ...[`MyPassword = link-${me}`, `PeerPassword = link-${peer}`, `Passive = ${me === 'b' ? 'yes' : 'no'}`],
  ];
  writeFileSync(file, lines.map((l) => (l.startsWith('[') ? l : `\t${l}`)).join('\n') + '\n');
  return file;
}

export async function linkedNgircd(bin: string, work: string): Promise<LinkedIrcds> {
  const ports = { a: await freePort(), b: await freePort() };
  const registered = (peer: string) => new RegExp(`Server "${peer}\\.bench\\.local" registered`);
  const b = await start(bin, ['-n', '-f', config(work, 'b', ports)], /ready\./);
  let a: Daemon | null = null;
  try {
    a = await start(bin, ['-n', '-f', config(work, 'a', ports)], registered('b'), 15_000);
    const deadline = Date.now() + 10_000;
    while (!registered('a').test(b.output())) {
      if (Date.now() > deadline) throw new Error(`ngircd b never saw a's link: ${b.output().slice(-500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await a?.stop();
    await b.stop();
    throw err;
  }
  const both = [a, b] as const;
  return {
    ports: [ports.a, ports.b],
    pids: [a.proc.pid!, b.proc.pid!],
    stop: async () => {
      for (const d of both) await d.stop();
    },
  };
}
