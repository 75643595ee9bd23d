/**
 * Plain HTTP to the TLS web port: a browser given http://SERVER:9001/ sent
 * its request in the clear, and the TLS handshake failed without a word (an
 * empty reply). The first byte of each connection tells them apart: a TLS
 * record starts with 0x16 (a handshake), an HTTP request with a method's
 * capital letter. TLS goes on as before; plain HTTP is answered, still in the
 * clear, with a redirect to the same path over https (308: the method is
 * kept) and a line saying so, and the connection is closed.
 */
import type net from 'node:net';

/** A TLS record's first byte when it carries a handshake (a ClientHello). */
const TLS_HANDSHAKE = 0x16;
/** Time the refused request's sender has to close after the answer (what it still sends is read and dropped). */
const LINGER_MS = 5_000;

/** The https:// address of the request in `head` (its first bytes), or null if they do not say a plain one. */
export function httpsTarget(head: string): string | null {
  const line = /^[A-Z]{3,10} (\/[\x21-\x7e]*) HTTP\/1\.[01]\r?\n/.exec(head);
  const host = /\r?\nhost:[ \t]*([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?[ \t]*\r?\n/i.exec(head);
  if (!line || !host) return null;
  return `https://${host[1]}${host[2] ? `:${host[2]}` : ''}${line[1]}`;
}

function answer(socket: net.Socket, head: string, port: number): void {
  const target = httpsTarget(head);
  const text = target
    ? `This port speaks HTTPS: ${target}\n`
    : `This port speaks HTTPS: open https://SERVER:${port}/ instead of http://.\n`;
  const status = target ? '308 Permanent Redirect' : '400 Bad Request';
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  socket.setTimeout(LINGER_MS, () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status}\r\n${target ? `Location: ${target}\r\n` : ''}` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `Connection: close\r\n\r\n${text}`,
  );
}

/**
 * Puts the plain-HTTP check in front of a TLS server's own handling of each
 * connection (the 'connection' listener tls.Server registers for itself);
 * other 'connection' listeners still see every socket as it comes. A
 * connection that sends nothing for `firstByteMs` (the handshake's time) is
 * closed.
 */
export function answerPlainHttp(server: net.Server, firstByteMs: number): void {
  const [toTls, ...others] = server.listeners('connection') as Array<(socket: net.Socket) => void>;
  if (!toTls || others.length > 0) return; // not a fresh TLS server: leave it as it is
  server.removeListener('connection', toTls);
  server.on('connection', (socket: net.Socket) => {
    const handOver = () => {
      clearTimeout(timer);
      socket.removeListener('data', first);
      // Refused meanwhile by another listener (an admission limit's 503): nothing more to do with it.
      if (socket.destroyed || socket.writableEnded) return;
      toTls.call(server, socket);
    };
    const first = (chunk: Buffer) => {
      socket.pause();
      if (chunk[0] === undefined || chunk[0] === TLS_HANDSHAKE || chunk[0] < 0x41 || chunk[0] > 0x5a) {
        // TLS (or not HTTP): what was read goes back, and the TLS socket takes it from there.
        socket.unshift(chunk);
        return handOver();
      }
      clearTimeout(timer);
      socket.removeListener('data', first);
      if (socket.destroyed || socket.writableEnded) return void socket.resume();
      answer(socket, chunk.toString('latin1', 0, 8192), socket.localPort ?? 0);
      socket.resume();
    };
    // Silent from the start: closed when a handshake would have timed out.
    const timer = setTimeout(() => socket.destroy(), firstByteMs).unref();
    socket.on('data', first);
    socket.once('close', () => clearTimeout(timer));
  });
}
