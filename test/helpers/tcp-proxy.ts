/**
 * A TCP proxy on 127.0.0.1 in front of a port: each connection accepted is paired with one to the target, and
 * `wire` joins the two as the test wants (watching, cutting, holding); close() destroys every socket still open.
 */
import net from 'node:net';
import { once } from 'node:events';
import { until } from './wait.js';

export interface TcpProxy {
  port: number;
  close(): Promise<void>;
}

export async function startTcpProxy(
  target: number,
  wire: (client: net.Socket, upstream: net.Socket) => void,
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    wire(client, upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * Waits until the browser's kept-alive HTTP connections through a proxy have closed, so that its next request goes
 * on a connection of its own: the one the proxy watches and cuts. The server closes one it answered after 5 s idle,
 * and one the browser opened ahead and never used (Chromium's preconnect) after the 10 s a request's headers have
 * (--web-header-timeout, checked every second); CI saw 6 still open past 15 s on a busy machine, hence the bound.
 */
export function untilNoKeepAlive(proxy: { openHttp(): number }): Promise<void> {
  return until(
    () => proxy.openHttp() === 0,
    40_000,
    () => `${proxy.openHttp()} keep-alive connections still open`,
  );
}
