/** What an LFTP endpoint (common/lftp/node/endpoint.ts) hands its listener, written down for a test to read. */
import type { EndpointInput, Peer } from '../../common/lftp/node/endpoint.js';

export function recorder(): { seen: string[]; from: Peer[]; input: EndpointInput } {
  const seen: string[] = [];
  const from: Peer[] = [];
  return {
    seen,
    from,
    input: {
      sealed: (buf, conn, f) => (seen.push(`sealed ${conn} ${buf.length}`), from.push(f)),
      plain: (p, f) => (seen.push(`plain ${p.conn} seq ${p.seq}`), from.push(f)),
      malformed: (_reason, bytes, f) => (seen.push(`malformed ${bytes}`), from.push(f)),
      error: (err) => seen.push(`error ${err.code}`),
    },
  };
}
