/**
 * A TCP proxy on 127.0.0.1 in front of a web port that watches downloads: for each connection whose first request
 * is a GET of /files/, it notes the request's Range header and the status of the answer, counts the answer's body
 * bytes, and cuts the first such connection, both ways, once `cutAfter` of them crossed (a link that drops
 * mid-download). Other connections (the page, its WebSocket) pass untouched. A browser puts a download on a
 * connection of its own only if none it kept alive is idle: the test waits for openHttp() to reach 0 first.
 */
import net from 'node:net';
import { startTcpProxy } from './tcp-proxy.js';

export interface SeenGet {
  path: string;
  /** The request's Range and If-Range headers, or null. */
  range: string | null;
  ifRange: string | null;
  /** The answer's status (0 until its head has crossed), and its ETag. */
  status: number;
  etag: string | null;
  /** Body bytes of the answer that crossed to the browser. */
  crossed: number;
}

export interface DownloadCutter {
  port: number;
  gets: SeenGet[];
  /** Connections open now that are not WebSockets. */
  openHttp(): number;
  close(): Promise<void>;
}

export async function startDownloadCutter(target: number, cutAfter: number): Promise<DownloadCutter> {
  const gets: SeenGet[] = [];
  let cut = false;
  const http = new Set<net.Socket>();
  const proxy = await startTcpProxy(target, (client, upstream) => {
    http.add(client);
    client.on('close', () => http.delete(client));
    let seen: SeenGet | null = null;
    let first = true;
    client.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        const text = chunk.toString('latin1');
        const [method, path = ''] = text.split(' ');
        if (/\r\nupgrade:/i.test(text)) http.delete(client);
        else if (method === 'GET' && path.startsWith('/files/')) {
          const field = (name: string) => new RegExp(`\r\n${name}:\\s*([^\r]*)`, 'i').exec(text)?.[1] ?? null;
          seen = { path, range: field('range'), ifRange: field('if-range'), status: 0, etag: null, crossed: 0 };
          gets.push(seen);
        }
      }
      upstream.write(chunk);
    });
    client.on('end', () => upstream.end());
    let head = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      const get = seen;
      if (!get) return void client.write(chunk);
      let body = chunk;
      if (get.status === 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        get.status = Number(text.slice(9, 12));
        get.etag = /\r\netag:\s*([^\r]*)/i.exec(text)?.[1] ?? null;
        client.write(head.subarray(0, end + 4));
        body = head.subarray(end + 4);
      }
      const firstCut = !cut && get === gets[0];
      const n = firstCut ? Math.min(body.length, Math.max(0, cutAfter - get.crossed)) : body.length;
      client.write(body.subarray(0, n));
      get.crossed += n;
      if (firstCut && get.crossed >= cutAfter) {
        cut = true;
        client.destroy();
        upstream.destroy();
      }
    });
    upstream.on('end', () => client.end());
  });
  return {
    port: proxy.port,
    gets,
    openHttp: () => http.size,
    close: () => proxy.close(),
  };
}
