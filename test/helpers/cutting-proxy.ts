/**
 * A TCP proxy on 127.0.0.1 in front of a web port that reads the HTTP/1.1 requests going through it: it notes each
 * POST to /files/ (its Upload-Offset and the body bytes that crossed) and cuts the first one's connection, both
 * ways, once `cutAfter` of its body bytes crossed (a link that drops mid-upload). WebSocket connections pass
 * untouched after their upgrade; with `chatToo`, the cut closes them as well, and new ones wait (connected, their
 * request not passed on) until releaseChat(): the link is down for the chat too, for as long as the test says.
 */
import net from 'node:net';
import { startTcpProxy } from './tcp-proxy.js';

export interface SeenPost {
  path: string;
  offset: number | null;
  length: number;
  /** Body bytes that crossed to the server. */
  crossed: number;
}

export interface CuttingProxy {
  port: number;
  posts: SeenPost[];
  /** Connections open now that are not WebSockets (a browser's idle keep-alive ones among them). */
  openHttp(): number;
  /** With chatToo: lets the WebSocket connections held since the cut through. */
  releaseChat(): void;
  close(): Promise<void>;
}

export async function startCuttingProxy(target: number, cutAfter: number, chatToo = false): Promise<CuttingProxy> {
  const posts: SeenPost[] = [];
  let cut = false;
  const chats = new Set<() => void>();
  let heldChats: Array<() => void> | null = null;
  const http = new Set<net.Socket>();
  const proxy = await startTcpProxy(target, (client, upstream) => {
    upstream.pipe(client);
    http.add(client);
    client.on('close', () => http.delete(client));
    let head = Buffer.alloc(0);
    let body: SeenPost | null = null;
    let bodyLeft = 0;
    let passThrough = false;
    const cutBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (passThrough) return void upstream.write(chunk);
      let rest = chunk;
      while (rest.length > 0) {
        if (body) {
          let n = Math.min(bodyLeft, rest.length);
          const first = !cut && body.path.startsWith('/files/');
          if (first) n = Math.min(n, Math.max(0, cutAfter - body.crossed));
          upstream.write(rest.subarray(0, n));
          body.crossed += n;
          bodyLeft -= n;
          rest = rest.subarray(n);
          if (first && body.crossed >= cutAfter) {
            cut = true;
            if (chatToo) {
              heldChats = [];
              for (const close of chats) close();
            }
            return cutBoth();
          }
          if (bodyLeft === 0) body = null;
          continue;
        }
        head = Buffer.concat([head, rest]);
        rest = Buffer.alloc(0);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        if (heldChats && /\r\nupgrade:/i.test(text)) {
          // The link is down for the chat: this connection waits, its bytes kept, until released.
          const whole = head;
          head = Buffer.alloc(0);
          client.pause();
          heldChats.push(() => {
            client.unshift(whole);
            client.resume();
          });
          return;
        }
        upstream.write(head.subarray(0, end + 4));
        rest = head.subarray(end + 4);
        head = Buffer.alloc(0);
        const [method, path = ''] = text.split(' ');
        const field = (name: string) => new RegExp(`\r\n${name}:\\s*(\\d+)`, 'i').exec(text)?.[1];
        if (/\r\nupgrade:/i.test(text)) {
          passThrough = true;
          http.delete(client);
          chats.add(cutBoth);
          client.on('close', () => chats.delete(cutBoth));
          if (rest.length > 0) upstream.write(rest);
          return;
        }
        const length = Number(field('content-length') ?? 0);
        if (length === 0) continue;
        body = {
          path,
          offset: field('upload-offset') === undefined ? null : Number(field('upload-offset')),
          length,
          crossed: 0,
        };
        bodyLeft = length;
        if (method === 'POST' && path.startsWith('/files/')) posts.push(body);
      }
    });
    client.on('end', () => upstream.end());
  });
  return {
    port: proxy.port,
    posts,
    openHttp: () => http.size,
    releaseChat: () => {
      const held = heldChats ?? [];
      heldChats = null;
      for (const go of held) go();
    },
    close: () => proxy.close(),
  };
}
