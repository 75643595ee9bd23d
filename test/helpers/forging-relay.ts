/**
 * An attacker on the path of one LFTP transfer, for tests: a UDP relay that
 * forwards both ways and, once data is flowing, injects datagrams from the
 * right 4-tuple with the right connection id (to the client from the
 * server's address, to the server from the client's): a plain ERR and a
 * plain FIN with CRCs that check, a plain data packet, a sealed-looking ERR
 * with a fresh packet number, copies of real datagrams sent again later
 * (replays), and real datagrams with one byte changed in place of the
 * originals (altered). What it sent is counted, so a test can say the
 * transfer completed despite all of it.
 */
import dgram from 'node:dgram';
import { encodePacket, Flag } from '../../common/lftp/engine/packet.js';
import { encodeError } from '../../common/lftp/engine/payloads.js';
import { HEADER_BYTES } from '../../common/lftp/engine/packet.js';

export interface ForgeryCounts {
  forged: number;
  replayed: number;
  altered: number;
}

export interface ForgingRelay {
  port: number;
  /** Per direction: what was injected toward the client (down) and toward the server (up). */
  down: ForgeryCounts;
  up: ForgeryCounts;
  close(): Promise<void>;
}

/** Datagrams forwarded in a direction before the attack on it begins (the handshake is over, data moves). */
const START_AFTER = 40;
/**
 * Then one attack every this many datagrams, in turn, up to ROUNDS rounds. Packed datagrams (docs/LFTP.md,
 * "Datagram size") carry 45 packets each on loopback: a 12 MiB transfer is some 190 data datagrams.
 */
const EVERY = 10;
const ROUNDS = 6;

export async function startForgingRelay(targetPort: number): Promise<ForgingRelay> {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  let client: { address: string; port: number } | null = null;
  const counts = { down: zero(), up: zero() };
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => back.connect(targetPort, '127.0.0.1', () => r())));
  const toServer = (b: Buffer) => back.send(b);
  const toClient = (b: Buffer) => client && front.send(b, client.port, client.address);
  const up = attacker(toServer, counts.up);
  const down = attacker(toClient, counts.down);
  front.on('message', (buf, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    up(buf);
  });
  back.on('message', (buf) => down(buf));
  return {
    port: front.address().port,
    down: counts.down,
    up: counts.up,
    close: async () => {
      await new Promise<void>((r) => front.close(() => r()));
      await new Promise<void>((r) => back.close(() => r()));
    },
  };
}

function zero(): ForgeryCounts {
  return { forged: 0, replayed: 0, altered: 0 };
}

/** Forwards a direction's datagrams through `send`, attacking it as it goes. */
function attacker(send: (b: Buffer) => unknown, n: ForgeryCounts): (buf: Buffer) => void {
  let seen = 0;
  const kept: Buffer[] = [];
  return (buf) => {
    seen++;
    if (kept.length < 200) kept.push(Buffer.from(buf));
    const k = seen - START_AFTER;
    if (k < 0 || k % EVERY !== 0 || k / EVERY >= ROUNDS * 5 || buf.length < HEADER_BYTES) return void send(buf);
    const conn = buf.readUInt32BE(4);
    const seq = buf.readUInt32BE(8);
    const ack = buf.readUInt32BE(12);
    switch ((k / EVERY) % 5) {
      case 0: // a plain ERR: exactly what once ended a running transfer
        send(buf);
        send(encodePacket({ flags: Flag.ERR, conn, seq, ack, window: 0, payload: encodeError('ABORTED', 'forged') }));
        n.forged++;
        return;
      case 1: // a plain FIN and a plain data packet with the right numbers
        send(buf);
        send(encodePacket({ flags: Flag.FIN | Flag.ACK, conn, seq, ack, window: 64, payload: Buffer.alloc(0) }));
        send(
          encodePacket({
            flags: Flag.DAT | Flag.ACK,
            conn,
            seq,
            ack,
            window: 64,
            payload: Buffer.alloc(buf.length - HEADER_BYTES, 0x41),
          }),
        );
        n.forged += 2;
        return;
      case 2: {
        // The real datagram's header with the ERR flag and a packet number far ahead: a forged "sealed" ERR.
        send(buf);
        const f = Buffer.from(buf);
        f.writeUInt8(Flag.ERR, 1);
        f.writeUInt32BE((f.readUInt32BE(20) + 1000) >>> 0, 20);
        send(f);
        n.forged++;
        return;
      }
      case 3: // an old datagram again, exactly as it was
        send(buf);
        send(kept[Math.floor(kept.length / 2)]!);
        n.replayed++;
        return;
      case 4: {
        // This datagram, one payload byte changed, in place of the original.
        const a = Buffer.from(buf);
        a[a.length - 1]! ^= 0x5a;
        send(a);
        n.altered++;
        return;
      }
    }
  };
}
