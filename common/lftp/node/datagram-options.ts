/**
 * What an endpoint says of datagram sizes in its handshake (docs/LFTP.md, "Datagram size"): it takes packed
 * data datagrams up to LARGEST_DATAGRAM (as version 1), and it probes for them where its datagrams go with the
 * don't-fragment bit. LFTP_DPLPMTUD=0 leaves both out, as a peer from before them (the tests' older peer).
 */
import type { DatagramOptions } from '../engine/connection-options.js';
import { TAG_BYTES } from '../protect/sealed-packet.js';

/** The largest UDP payload over IPv4 (65,535 − 20 − 8), less a protected datagram's tag. */
export const LARGEST_DATAGRAM = 65_507 - TAG_BYTES;

export function datagramOptions(dontFragment: boolean, protectedTransfer: boolean): DatagramOptions | undefined {
  if (process.env['LFTP_DPLPMTUD'] === '0') return undefined;
  return { largest: LARGEST_DATAGRAM, probe: dontFragment, overhead: protectedTransfer ? TAG_BYTES : 0 };
}
