/**
 * A worker's listeners on the shared ports. The chat port and LFTP's UDP port share a number unless --lftp-port says otherwise. With --port 0 the system
 * picks the TCP port without asking whether UDP's port of that number is free, and another program may hold it
 * (CI saw "port N is already in use (LFTP)"): such a pair is picked again, a few times, before it is an error.
 */
import type net from 'node:net';
import { ListenError, type ListenComponent } from '../listen-error.js';
import type { Logger } from '../logger.js';

/** How many TCP ports a --port 0 start tries before the LFTP side's EADDRINUSE is the answer. */
export const PAIR_TRIES = 8;

export interface PairedListeners<T> {
  /** Listens for chat on `port` (0: the system picks); the port it got. */
  listenTcp(port: number): Promise<number>;
  /** Stops listening for chat (a pick given back). */
  closeTcp(): Promise<void>;
  /** Starts LFTP on `port`; a ListenError when it cannot bind. */
  startLftp(port: number): Promise<T>;
}

/** TCP on `tcpPort`, then LFTP on `lftpPort` (-1: the number TCP got). */
export async function listenPaired<T>(
  tcpPort: number,
  lftpPort: number,
  l: PairedListeners<T>,
): Promise<{ tcp: number; lftp: T }> {
  const picked = tcpPort === 0 && lftpPort === -1;
  for (let tries = 1; ; tries++) {
    const tcp = await l.listenTcp(tcpPort);
    try {
      return { tcp, lftp: await l.startLftp(lftpPort === -1 ? tcp : lftpPort) };
    } catch (err) {
      const taken = err instanceof ListenError && err.code === 'EADDRINUSE';
      if (!picked || !taken || tries >= PAIR_TRIES) throw err;
      await l.closeTcp();
    }
  }
}

/** The chat port, or the IRC door's: every worker listens on it with reusePort, and the kernel spreads connections. */
export function listenTcp(
  server: net.Server,
  component: ListenComponent,
  host: string,
  port: number,
  log: Logger,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => reject(ListenError.from(component, host, port, err));
    server.once('error', failed);
    server.listen({ host, port, reusePort: true, backlog: 1024 }, () => {
      server.off('error', failed);
      server.on('error', (err) => log.error({ err, component }, 'listener error'));
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
