/**
 * The chat port and LFTP's UDP port of one number (server/worker/worker-listeners.ts): with --port 0 a pick whose
 * UDP number another program holds is picked again; an explicit port never is. Real sockets on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { ListenError } from '../../server/listen-error.js';
import { PAIR_TRIES, listenPaired } from '../../server/worker/worker-listeners.js';

const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/** A UDP socket of another program on 127.0.0.1:port (0: any); its port. */
async function holdUdp(port = 0): Promise<number> {
  const s = dgram.createSocket('udp4');
  opened.push(s);
  await new Promise<void>((done) => s.bind(port, '127.0.0.1', () => done()));
  return s.address().port;
}

/** Listens on TCP ports the test chooses in turn (each number's UDP already held by "another program"). */
function listeners(tcpPorts: number[], server = new net.Server()) {
  opened.push(server);
  const asked: number[] = [];
  let closes = 0;
  return {
    asked,
    closes: () => closes,
    l: {
      listenTcp: (port: number) =>
        new Promise<number>((done, fail) => {
          // Already listening on the number the test chose for it (an explicit port, held before the call).
          if (server.listening) return done((server.address() as net.AddressInfo).port);
          server.once('error', fail);
          server.listen(port === 0 ? tcpPorts.shift()! : port, '127.0.0.1', () =>
            done((server.address() as net.AddressInfo).port),
          );
        }),
      closeTcp: () =>
        new Promise<void>((done) => {
          closes++;
          server.close(() => done());
        }),
      startLftp: async (port: number) => {
        asked.push(port);
        const s = dgram.createSocket('udp4');
        opened.push(s);
        await new Promise<void>((done, fail) => {
          s.once('error', (err) => fail(ListenError.from('lftp', '127.0.0.1', port, err)));
          s.bind(port, '127.0.0.1', () => done());
        });
        return s.address().port;
      },
    },
  };
}

describe('the chat port and its LFTP port of the same number', () => {
  it('a picked port whose UDP number is taken is picked again, until both are free', async () => {
    const taken = [await holdUdp(), await holdUdp()];
    const free = await holdUdp();
    opened.pop()!.close(); // a number whose UDP side is free again
    const l = listeners([...taken, free]);
    const got = await listenPaired(0, -1, l.l);
    expect(got).toEqual({ tcp: free, lftp: free });
    expect(l.asked).toEqual([...taken, free]);
    expect(l.closes()).toBe(2);
  });

  it(`gives up after ${PAIR_TRIES} picks, with the LFTP side's error`, async () => {
    const taken: number[] = [];
    for (let i = 0; i < PAIR_TRIES; i++) taken.push(await holdUdp());
    const l = listeners([...taken]);
    const err = await listenPaired(0, -1, l.l).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect((err as ListenError).message).toMatch(
      /already in use on 127.0.0.1 \(LFTP; choose another with --lftp-port\)/,
    );
    expect(l.asked).toEqual(taken);
  });

  it('a port the user chose is not changed: its UDP side taken is the error at once', async () => {
    // The number's TCP side is held here for the chat port, so that another process on this machine that happens
    // to hold it (CI saw one) cannot turn this into a TCP error before the UDP side is asked.
    let port = 0;
    const server = new net.Server();
    for (let i = 0; i < 20 && port === 0; i++) {
      const udp = await holdUdp();
      const ok = await new Promise<boolean>((done) => {
        server.once('error', () => done(false));
        server.listen(udp, '127.0.0.1', () => done(true));
      });
      if (ok) port = udp;
    }
    expect(port).not.toBe(0);
    const l = listeners([], server);
    const err = await listenPaired(port, -1, l.l).catch((e: unknown) => e);
    expect((err as ListenError).code).toBe('EADDRINUSE');
    expect(l.asked).toEqual([port]);
    expect(l.closes()).toBe(0);
  });
});
