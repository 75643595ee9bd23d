import net from 'node:net';
/**
 * The i-th of many loopback source addresses (127.10.0.1, 127.10.0.2, ...).
 * The whole of 127.0.0.0/8 is this machine, so each test peer can be a
 * different "machine" to the server's per-address limits, as on a LAN.
 */
export function loopbackAddress(i: number): string {
  return `127.10.${Math.floor(i / 200) % 256}.${(i % 200) + 1}`;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server that must come back on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}
