/**
 * The i-th of many loopback source addresses (127.10.0.1, 127.10.0.2, ...).
 * The whole of 127.0.0.0/8 is this machine, so each test peer can be a
 * different "machine" to the server's per-address limits, as on a LAN.
 */
export function loopbackAddress(i: number): string {
  return `127.10.${Math.floor(i / 200) % 256}.${(i % 200) + 1}`;
}
