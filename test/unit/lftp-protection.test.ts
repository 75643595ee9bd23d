/** LFTP's packet protection without sockets: the key schedule, sealing, and what is dropped (common/lftp/protect/). */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Flag, HEADER_BYTES, encodePacket, type Packet } from '../../common/lftp/engine/packet.js';
import { proofMatches, synProof, ticketMaster, tokenMaster, trafficKeys } from '../../common/lftp/protect/keys.js';
import { SALT_BYTES } from '../../common/lftp/engine/payloads.js';
import { PROTECTED_VERSION, TAG_BYTES, open, readSealedHeader, seal } from '../../common/lftp/protect/sealed-packet.js';
import { REPLAY_WINDOW, ReplayWindow } from '../../common/lftp/protect/replay-window.js';
import { TransferProtection } from '../../common/lftp/protect/transfer-protection.js';

const master = randomBytes(32);
const salt = randomBytes(SALT_BYTES);
const pkt = (over: Partial<Packet> = {}): Packet => ({
  flags: Flag.DAT | Flag.ACK,
  conn: 7,
  seq: 100,
  ack: 5,
  window: 64,
  payload: Buffer.from('file bytes 的'),
  ...over,
});
const joined = (parts: Buffer[]) => Buffer.concat(parts);

/** A client and a server that have done the handshake: the server's SYN-ACK opened at the client. */
function pair(): { client: TransferProtection; server: TransferProtection } {
  const server = TransferProtection.server(master, salt, Buffer.from('{"name":"a"}'));
  const client = TransferProtection.client(master, salt);
  server.begin();
  const synAck = joined(
    server.seal(pkt({ flags: Flag.SYN | Flag.ACK, payload: Buffer.from('{"size":1,"mss":1448}') })),
  );
  expect(client.open(synAck)?.payload.toString()).toBe('{"size":1,"mss":1448}');
  return { client, server };
}

describe('the key schedule', () => {
  it('gives both directions their own key and IV, new for every server nonce; a ticket and a token make a 32-byte master', async () => {
    const n1 = randomBytes(16);
    const c2s = trafficKeys(master, salt, n1, 'c2s');
    const s2c = trafficKeys(master, salt, n1, 's2c');
    expect([c2s.key.length, c2s.iv.length]).toEqual([16, 12]);
    expect(c2s.key.equals(s2c.key)).toBe(false);
    expect(trafficKeys(master, salt, randomBytes(16), 'c2s').key.equals(c2s.key)).toBe(false);
    expect(trafficKeys(master, salt, n1, 'c2s')).toEqual(c2s);
    const secret = randomBytes(32);
    expect(ticketMaster(secret, 'T1')).toHaveLength(32);
    expect(ticketMaster(secret, 'T1').equals(ticketMaster(secret, 'T2'))).toBe(false);
    const t = await tokenMaster('lab42', salt);
    expect(t.equals(await tokenMaster('lab42', salt))).toBe(true);
    expect(t.equals(await tokenMaster('lab43', salt))).toBe(false);
    expect(t.equals(await tokenMaster('lab42', randomBytes(SALT_BYTES)))).toBe(false);
  });

  it("a SYN's proof covers everything it asks: another name, size, flag, ISN or key fails it", () => {
    const facts = { flags: Flag.SYN | Flag.POST, conn: 9, isn: 1234, name: 'notes.txt', mss: 1448, size: 10, salt };
    const proof = synProof(master, facts);
    expect(proofMatches(master, facts, proof)).toBe(true);
    for (const other of [
      { name: 'other.txt' },
      { size: 11 },
      { flags: Flag.SYN },
      { isn: 1235 },
      { conn: 10 },
      { mss: 1400 },
      { salt: randomBytes(16) },
    ]) {
      expect(proofMatches(master, { ...facts, ...other }, proof)).toBe(false);
    }
    expect(proofMatches(randomBytes(32), facts, proof)).toBe(false);
    expect(proofMatches(master, facts, proof.subarray(0, 8))).toBe(false);
  });
});

describe('sealed datagrams', () => {
  const keys = trafficKeys(master, salt, randomBytes(16), 'c2s');

  it('keep the header readable, hide the payload, and open only unchanged, with the same key', () => {
    const buf = joined(seal(keys, 3, pkt(), null));
    expect(buf.readUInt8(0)).toBe(PROTECTED_VERSION);
    expect(readSealedHeader(buf)).toEqual({ flags: Flag.DAT | Flag.ACK, conn: 7, pn: 3 });
    expect(buf.length).toBe(HEADER_BYTES + pkt().payload.length + TAG_BYTES);
    expect(buf.includes(Buffer.from('file bytes'))).toBe(false);
    expect(open(keys, buf, 0)).toEqual(pkt());
    // Every byte matters: the header (it is the AAD), the ciphertext, the tag.
    for (const at of [1, 5, 9, 13, 17, 21, HEADER_BYTES, buf.length - 1]) {
      const bad = Buffer.from(buf);
      bad[at]! ^= 0x01;
      expect(open(keys, bad, 0)).toBeNull();
    }
    expect(open(trafficKeys(master, salt, randomBytes(16), 'c2s'), buf, 0)).toBeNull();
    // A v1 datagram is not a sealed one.
    expect(readSealedHeader(encodePacket(pkt()))).toBeNull();
  });

  it('use a new nonce for every packet number: the same packet sealed twice is two different datagrams', () => {
    const a = joined(seal(keys, 1, pkt(), null));
    const b = joined(seal(keys, 2, pkt(), null));
    expect(a.subarray(HEADER_BYTES).equals(b.subarray(HEADER_BYTES))).toBe(false);
  });
});

describe('TransferProtection', () => {
  it('drops a replayed datagram, a forged one, and one for another transfer, and counts each', () => {
    const { client, server } = pair();
    const d = joined(client.seal(pkt()));
    expect(server.open(d)).not.toBeNull();
    expect(server.open(d)).toBeNull();
    const forged = Buffer.from(d);
    forged.writeUInt32BE(forged.readUInt32BE(20) + 1, 20); // a fresh packet number on someone else's bytes
    expect(server.open(forged)).toBeNull();
    const other = pair();
    other.client.seal(pkt()); // its number 0 is one the server has seen: number 1 is fresh
    expect(server.open(joined(other.client.seal(pkt())))).toBeNull();
    expect(server.dropped).toEqual({ forged: 2, replayed: 1, plain: 0 });
  });

  it('the client takes its keys from the first SYN-ACK that opens; a forged one (another nonce) changes nothing', () => {
    const server = TransferProtection.server(master, salt, Buffer.alloc(0));
    const client = TransferProtection.client(master, salt);
    const impostor = TransferProtection.server(randomBytes(32), salt, Buffer.alloc(0));
    impostor.begin();
    expect(client.open(joined(impostor.seal(pkt({ flags: Flag.SYN | Flag.ACK }))))).toBeNull();
    expect(client.sealing).toBe(false);
    server.begin();
    expect(client.open(joined(server.seal(pkt({ flags: Flag.SYN | Flag.ACK }))))).not.toBeNull();
    expect(client.sealing).toBe(true);
    // Now another nonce is refused outright, even one sealed with the right master.
    const second = TransferProtection.server(master, salt, Buffer.alloc(0));
    second.begin();
    expect(client.open(joined(second.seal(pkt({ flags: Flag.SYN | Flag.ACK }))))).toBeNull();
    expect(server.open(joined(client.seal(pkt()))))!.toEqual(pkt());
  });

  it('takes plain datagrams only where the handshake needs them', () => {
    const syn = Buffer.from('{"name":"a","mss":1448}');
    const server = TransferProtection.server(master, salt, syn);
    const client = TransferProtection.client(master, salt);
    expect(server.allowPlain(pkt({ flags: Flag.SYN, payload: syn }), 'SYN_RCVD', 0)).toBe(true);
    expect(
      server.allowPlain(pkt({ flags: Flag.SYN, payload: Buffer.from('{"name":"b","mss":1448}') }), 'SYN_RCVD', 0),
    ).toBe(false);
    expect(server.allowPlain(pkt({ flags: Flag.ERR }), 'ESTABLISHED', 0)).toBe(false);
    // The client: a refusal or a queue answer that acknowledges its SYN, while it waits; nothing else, never later.
    expect(client.allowPlain(pkt({ flags: Flag.ERR, ack: 11 }), 'SYN_SENT', 10)).toBe(true);
    expect(client.allowPlain(pkt({ flags: Flag.ACK, ack: 11 }), 'QUEUED', 10)).toBe(true);
    expect(client.allowPlain(pkt({ flags: Flag.ERR, ack: 99 }), 'SYN_SENT', 10)).toBe(false);
    expect(client.allowPlain(pkt({ flags: Flag.SYN | Flag.ACK, ack: 11 }), 'SYN_SENT', 10)).toBe(false);
    expect(client.allowPlain(pkt({ flags: Flag.ERR, ack: 11 }), 'ESTABLISHED', 10)).toBe(false);
    expect(client.allowPlain(pkt({ flags: Flag.FIN | Flag.ACK, ack: 11 }), 'SYN_SENT', 10)).toBe(false);
    expect(client.dropped.plain + server.dropped.plain).toBe(6);
  });
});

describe('ReplayWindow', () => {
  it('takes each number once, in any order within the window, and nothing older than it', () => {
    const w = new ReplayWindow();
    for (const n of [0, 2, 1, 5, 3]) {
      expect(w.fresh(n)).toBe(true);
      w.mark(n);
      expect(w.fresh(n)).toBe(false);
    }
    expect(w.fresh(4)).toBe(true);
    w.mark(REPLAY_WINDOW + 10);
    expect(w.fresh(4)).toBe(false); // slid out
    expect(w.fresh(REPLAY_WINDOW + 9)).toBe(true);
    expect(w.fresh(REPLAY_WINDOW + 10)).toBe(false);
    // A number the window slid over before it was seen is still fresh, and its old bit does not count.
    expect(w.fresh(REPLAY_WINDOW + 5)).toBe(true);
  });
});
