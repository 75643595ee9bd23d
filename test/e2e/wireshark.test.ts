/**
 * The Wireshark dissectors (wireshark/lftp.lua, wireshark/chat.lua) in
 * Debian's tshark, over captures made here: real LFTP transfers (plain and
 * protected) recorded by a relay on loopback, and a real chat session's
 * bytes, written as pcap files (test/helpers/pcap.ts). Every datagram and
 * frame decodes with the right field values, a corrupted CRC is flagged, a
 * frame split byte by byte is reassembled, and the install command puts the
 * dissectors where tshark loads them by itself. Malformed datagrams and
 * frames (crafted, and seeded mutations of good ones) are marked malformed
 * with expert info, never a Lua error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  runLftpClient,
  startLftpServer,
  startServer,
  stopAll,
  tempDir,
  type LineProcess,
} from '../helpers/processes.js';
import { tcpConversation, writePcap, type CapturedPacket } from '../helpers/pcap.js';
import { decodePacket, encodePacket, Flag, type Packet } from '../../common/lftp/engine/packet.js';
import { encodeMessage } from '../../common/protocol.js';
import { FrameType } from '../../common/messages.js';
import { until } from '../helpers/wait.js';

const LFTP_LUA = join(ROOT, 'wireshark/lftp.lua');
const CHAT_LUA = join(ROOT, 'wireshark/chat.lua');
const procs: LineProcess[] = [];
afterAll(async () => {
  await stopAll(...procs);
});

function tshark(
  pcap: string,
  fields: string[],
  filter: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): string[][] {
  if (!existsSync('/usr/bin/tshark'))
    throw new Error("tshark is missing: install Debian's tshark (npm test does it when run as root)");
  const out = execFileSync(
    'tshark',
    ['-r', pcap, ...extra, '-Y', filter, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('|'));
}
const lua = (...files: string[]) => files.flatMap((f) => ['-X', `lua_script:${f}`]);

/**
 * tshark's full decode (-V) of a capture with both dissectors, stdout and stderr together: where a Lua error
 * would show ("Lua Error: wireshark/lftp.lua:143: ...", in the tree and as expert info).
 */
function tsharkVerbose(pcap: string, extra: string[] = []): string {
  const r = spawnSync('tshark', ['-r', pcap, ...lua(LFTP_LUA, CHAT_LUA), ...extra, '-V'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  expect(r.status, r.stderr).toBe(0);
  return `${r.stdout}\n${r.stderr}`;
}

/** What no input may make a dissector do: throw (a Lua error), or fall into its catch-all for a missed case. */
function expectNoLuaError(output: string): void {
  expect(output).not.toMatch(/Lua Error|attempt to|bad argument|bad self|out of bounds|dissector error/i);
}

/** A seeded generator (mulberry32): the same mutations every run. */
function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Mutations of a good message: cut short, bytes flipped or overwritten (the header's too), garbage appended. */
function mutations(good: Buffer[], count: number, seed: number): Buffer[] {
  const rnd = seeded(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const b = Buffer.from(good[rnd(good.length)]!);
    const kind = rnd(4);
    if (kind === 0) {
      out.push(b.subarray(0, rnd(b.length)));
      continue;
    }
    const m = kind === 3 ? Buffer.concat([b, Buffer.from(Array.from({ length: 1 + rnd(40) }, () => rnd(256)))]) : b;
    for (let k = 1 + rnd(4); k > 0; k--) m[rnd(Math.min(m.length, kind === 1 ? 8 : m.length))] = rnd(256);
    out.push(m);
  }
  return out;
}

/** An LFTP datagram with its CRC right (a heuristic finds it on any port), then as `patch` leaves it. */
function datagram(p: Partial<Packet> & { flags: number }, patch: (b: Buffer) => void = () => undefined): Buffer {
  const b = encodePacket({ conn: 0xc0ffee, seq: 7000, ack: 0, window: 64, payload: Buffer.alloc(0), ...p });
  patch(b);
  return b;
}

/** A chat frame whose header says `length` (by default the body's). */
function chatFrame(type: number, body: string | Buffer, length?: number): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const h = Buffer.alloc(5);
  h.writeUInt32BE(length ?? b.length, 0);
  h.writeUInt8(type, 4);
  return Buffer.concat([h, b]);
}

/** One unmasked binary WebSocket message. */
function wsMessage(payload: Buffer): Buffer {
  const head =
    payload.length < 126
      ? Buffer.from([0x82, payload.length])
      : Buffer.from([0x82, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

const WS_UPGRADE = [
  {
    from: 'client' as const,
    bytes: Buffer.from(
      'GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ),
  },
  {
    from: 'server' as const,
    bytes: Buffer.from(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
    ),
  },
];

/** A UDP relay that records every datagram on its client side, as the client's end of loopback saw it. */
async function recordingRelay(
  target: number,
): Promise<{ port: number; packets: CapturedPacket[]; close(): Promise<void> }> {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  const packets: CapturedPacket[] = [];
  let client: dgram.RemoteInfo | null = null;
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => back.connect(target, '127.0.0.1', () => r())));
  const port = front.address().port;
  front.on('message', (buf, rinfo) => {
    client = rinfo;
    packets.push({
      at: Date.now(),
      src: [rinfo.address, rinfo.port],
      dst: ['127.0.0.1', port],
      payload: Buffer.from(buf),
    });
    back.send(buf);
  });
  back.on('message', (buf) => {
    if (!client) return;
    packets.push({
      at: Date.now(),
      src: ['127.0.0.1', port],
      dst: [client.address, client.port],
      payload: Buffer.from(buf),
    });
    front.send(buf, client.port, client.address);
  });
  const close = async () => {
    await new Promise<void>((r) => front.close(() => r()));
    await new Promise<void>((r) => back.close(() => r()));
  };
  return { port, packets, close };
}

async function capturedTransfer(serverArgs: string[], clientArgs: string[]): Promise<CapturedPacket[]> {
  const files = tempDir('ws-files');
  writeFileSync(join(files, 'notes.txt'), randomBytes(20_000));
  const s = await startLftpServer(files, serverArgs);
  procs.push(s);
  const relay = await recordingRelay(s.port);
  try {
    const r = await runLftpClient([
      'get',
      `127.0.0.1:${relay.port}`,
      'notes.txt',
      join(tempDir('ws-work'), 'notes.txt'),
      ...clientArgs,
    ]);
    expect(r.code, r.err.join('\n')).toBe(0);
    await new Promise((res) => setTimeout(res, 300)); // the last ACKs of the teardown
  } finally {
    await relay.close();
  }
  return relay.packets;
}

describe('the Wireshark dissectors in tshark', () => {
  it('LFTP: every datagram of a real transfer decodes with its fields; relative seq/ack; a corrupted CRC is flagged', async () => {
    const packets = await capturedTransfer(['--open'], []);
    const pcap = join(tempDir('ws-pcap'), 'lftp.pcap');
    writePcap(pcap, packets);
    const rows = tshark(
      pcap,
      [
        'lftp.flags',
        'lftp.seq',
        'lftp.ack',
        'lftp.seq_rel',
        'lftp.ack_rel',
        'lftp.window',
        'lftp.conn',
        'lftp.checksum.status',
        'lftp.syn.name',
        '_ws.col.Info',
      ],
      'lftp',
      lua(LFTP_LUA),
    );
    expect(rows.length).toBe(packets.length);
    rows.forEach((row, i) => {
      const p = decodePacket(Buffer.from(packets[i]!.payload));
      if (typeof p === 'string') throw new Error(p);
      expect(row.slice(0, 3)).toEqual([`0x${p.flags.toString(16).padStart(2, '0')}`, String(p.seq), String(p.ack)]);
      expect(row[5]).toBe(String(p.window));
      expect(Number(row[6])).toBe(p.conn);
      expect(row[7]).toBe('Good');
    });
    // The handshake, as the Flow Graph shows it: relative numbers, flags by name.
    expect(rows[0]!.slice(3, 5)).toEqual(['0', '']);
    expect(rows[0]![8]).toBe('notes.txt');
    expect(rows[0]![9]).toMatch(/^\[SYN\] Seq=0 Win=\d+ Len=\d+$/);
    expect(rows[1]![9]).toMatch(/^\[SYN, ACK\] Seq=0 Ack=1 Win=\d+ Len=\d+$/);
    expect(rows[2]![9]).toMatch(/^\[ACK\] Seq=1 Ack=1 /);
    expect(rows.some((r) => /^\[ACK, DAT\] Seq=1 Ack=1 /.test(r[9]!))).toBe(true);
    expect(rows.some((r) => r[9]!.startsWith('[ACK, FIN]'))).toBe(true);
    for (const [filter, want] of [
      ['lftp.flags.syn == 1', 2],
      ['lftp.flags.fin == 1', 2],
    ] as const) {
      expect(tshark(pcap, ['frame.number'], filter, lua(LFTP_LUA)).length, filter).toBe(want);
    }
    // END goes again after the tail-probe time (10 ms at least) while the receiver still checks and flushes the file
    // (docs/LFTP.md, "End of data and teardown"): on a busy machine a copy or two, each decoded as the same END.
    const ends = tshark(pcap, ['lftp.seq', 'lftp.flags'], 'lftp.flags.end == 1', lua(LFTP_LUA));
    expect(ends.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ends.map((r) => r.join(' '))).size).toBe(1);
    // One data datagram with a flipped payload byte: still LFTP (its connection is known), and flagged.
    const bad = packets.map((p) => ({ ...p, payload: Buffer.from(p.payload) }));
    const victim = bad.findIndex((p) => (p.payload[1]! & Flag.DAT) !== 0);
    bad[victim]!.payload[bad[victim]!.payload.length - 1]! ^= 0xff;
    const badPcap = join(tempDir('ws-pcap'), 'corrupt.pcap');
    writePcap(badPcap, bad);
    expect(tshark(badPcap, ['frame.number', 'lftp.checksum.status'], 'lftp.checksum.bad', lua(LFTP_LUA))).toEqual([
      [String(victim + 1), 'Bad'],
    ]);
    // A real transfer has nothing malformed in it.
    expect(tshark(pcap, ['frame.number'], 'lftp.malformed || lftp.dissector_error', lua(LFTP_LUA))).toEqual([]);
  }, 60_000);

  it('LFTP protected (--token): the handshake start in version 1, the rest version 2 with its packet numbers', async () => {
    const packets = await capturedTransfer(['--token', 'wireshark'], ['--token', 'wireshark']);
    const pcap = join(tempDir('ws-pcap'), 'protected.pcap');
    writePcap(pcap, packets);
    const rows = tshark(
      pcap,
      ['lftp.version', 'lftp.flags', 'lftp.pn', 'ip.src', 'udp.srcport'],
      'lftp',
      lua(LFTP_LUA),
    );
    expect(rows.length).toBe(packets.length);
    // In the clear: the SYN, the server's RETRY (address validation, docs/LFTP.md), the SYN again with its token.
    expect(rows.slice(0, 3).map((r) => r.slice(0, 2))).toEqual([
      ['1', '0x01'],
      ['1', '0x80'],
      ['1', '0x01'],
    ]);
    // Everything else is version 2, but a SYN the client sent again (its SYN-ACK slow to come: scrypt on a busy
    // machine), which is still the handshake's start.
    const clear = rows.slice(3).filter((r) => r[0] !== '2');
    expect(
      clear.every((r) => r[0] === '1' && r[1] === '0x01'),
      JSON.stringify(clear),
    ).toBe(true);
    expect(rows.slice(3).some((r) => r[0] === '2')).toBe(true);
    const [retry] = tshark(
      pcap,
      ['lftp.retry.token', 'lftp.retry.mac', '_ws.col.Info'],
      'lftp.flags.retry == 1',
      lua(LFTP_LUA),
    );
    expect(retry!.slice(0, 2).map((x) => x.length)).toEqual([48, 32]);
    expect(retry![2]).toMatch(/^\[RETRY\] Seq=0 Ack=1 Win=0 Len=24$/);
    const synRetry = tshark(
      pcap,
      ['frame.number', 'lftp.syn.retry'],
      'lftp.flags.syn == 1 && lftp.flags.ack == 0',
      lua(LFTP_LUA),
    );
    // The first SYN has no token; the one after the RETRY carries it, and so does any sent again after that.
    const token = Buffer.from(retry![0]!, 'hex').toString('base64url');
    expect(synRetry.map((r) => r[1])).toEqual(['', ...synRetry.slice(1).map(() => token)]);
    expect(synRetry.length).toBeGreaterThanOrEqual(2);
    // Each side numbers its datagrams 0, 1, 2, ...: the server's from its SYN-ACK, the client's from its handshake ACK.
    const serverPort = String(packets[1]!.src[1]);
    const fromServer = rows.filter((r) => r[4] === serverPort && r[0] === '2').map((r) => Number(r[2]));
    expect(fromServer.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(tshark(pcap, ['lftp.nonce'], 'lftp.flags.syn == 1 && lftp.flags.ack == 1', lua(LFTP_LUA))[0]![0]).toMatch(
      /^[0-9a-f]{32}$/,
    );
    expect(tshark(pcap, ['frame.number'], 'lftp.malformed || lftp.dissector_error', lua(LFTP_LUA))).toEqual([]);
  }, 60_000);

  it('chat: a real session decodes frame by frame, a frame split byte by byte is reassembled, on any port', async () => {
    const s = await startServer(['--workers', '1', '--no-web', '--no-tls', '--heartbeat-interval', '1s']);
    procs.push(s);
    const chunks: Array<{ from: 'client' | 'server'; bytes: Buffer }> = [];
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('data', (b) => chunks.push({ from: 'server', bytes: Buffer.from(b) }));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const say = (b: Buffer) => {
      chunks.push({ from: 'client', bytes: b });
      sock.write(b);
    };
    say(encodeMessage({ type: 'HELLO', version: 2, nick: 'shark' }));
    await until(
      () =>
        Buffer.concat(chunks.filter((c) => c.from === 'server').map((c) => c.bytes)).includes('"WELCOME"') ||
        chunks.some((c) => c.from === 'server' && c.bytes[4] === FrameType.WELCOME),
      5000,
      () => 'no WELCOME',
    );
    say(encodeMessage({ type: 'CHAT', text: '你好 wireshark', action: false }));
    await until(
      () => chunks.filter((c) => c.from === 'server').some((c) => c.bytes.includes(Buffer.from('你好 wireshark'))),
      5000,
      () => 'no echo',
    );
    await until(
      () => chunks.filter((c) => c.from === 'server').some((c) => c.bytes.includes(Buffer.from('"seq"'))),
      5000,
      () => 'no heartbeat',
    );
    sock.destroy();
    // The CHAT frame goes out one byte per segment.
    const split = chunks.flatMap((c) =>
      c.from === 'client' && c.bytes[4] === FrameType.CHAT
        ? [...c.bytes].map((b) => ({ from: c.from, bytes: Buffer.from([b]) }))
        : [c],
    );
    const pcap = join(tempDir('ws-pcap'), 'chat.pcap');
    writePcap(pcap, tcpConversation(['127.0.0.1', 40123], ['127.0.0.1', 47001], split));
    const rows = tshark(pcap, ['tcp.srcport', 'chat.type', 'chat.nick', 'chat.text'], 'chat', lua(CHAT_LUA));
    const types = rows.flatMap((r) => r[1]!.split(','));
    expect(types[0]).toBe('0x01');
    expect(types).toContain('0x02');
    expect(types).toContain('0x0a');
    expect(rows[0]![2]).toBe('shark');
    const mine = rows.find((r) => r[0] === '40123' && r[1] === '0x03');
    expect(mine?.[3]).toBe('你好 wireshark');
    // Every one of the CHAT frame's 1-byte segments is TCP data that the frame's reassembly took in.
    expect(tshark(pcap, ['frame.number'], 'tcp.srcport == 40123 && tcp.len == 1', lua(CHAT_LUA)).length).toBe(
      encodeMessage({ type: 'CHAT', text: '你好 wireshark', action: false }).length,
    );
    expect(
      tshark(pcap, ['tcp.reassembled.length'], 'chat.type == 0x03 && tcp.srcport == 40123', lua(CHAT_LUA))[0]![0],
    ).toBe(String(encodeMessage({ type: 'CHAT', text: '你好 wireshark', action: false }).length));
    expect(tshark(pcap, ['frame.number'], 'chat.malformed || chat.dissector_error', lua(CHAT_LUA))).toEqual([]);
  }, 60_000);

  it('chat over WebSocket (the browser page): each binary message is one frame, decoded by the web port', () => {
    const ws = (payload: Buffer, mask: Buffer | null) => {
      const head =
        payload.length < 126
          ? Buffer.from([0x82, (mask ? 0x80 : 0) | payload.length])
          : Buffer.from([0x82, (mask ? 0x80 : 0) | 126, payload.length >> 8, payload.length & 0xff]);
      return Buffer.concat([
        head,
        ...(mask ? [mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))] : [payload]),
      ]);
    };
    const upgrade = Buffer.from(
      'GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const switched = Buffer.from(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
    );
    const key = Buffer.from([1, 2, 3, 4]);
    const pcap = join(tempDir('ws-pcap'), 'websocket.pcap');
    writePcap(
      pcap,
      tcpConversation(
        ['127.0.0.1', 40200],
        ['127.0.0.1', 9001],
        [
          { from: 'client', bytes: upgrade },
          { from: 'server', bytes: switched },
          { from: 'client', bytes: ws(encodeMessage({ type: 'HELLO', version: 2, nick: 'page' }), key) },
          { from: 'server', bytes: ws(encodeMessage({ type: 'HEARTBEAT', seq: 7, ts: 1 }), null) },
          { from: 'client', bytes: ws(encodeMessage({ type: 'CHAT', text: '网页 hello', action: false }), key) },
        ],
      ),
    );
    const rows = tshark(pcap, ['chat.type', 'chat.nick', 'chat.seq', 'chat.text'], 'chat', [
      ...lua(CHAT_LUA),
      '-d',
      'tcp.port==9001,http',
    ]);
    expect(rows).toEqual([
      ['0x01', 'page', '', ''],
      ['0x0a', '', '7', ''],
      ['0x03', '', '', '网页 hello'],
    ]);
    expect(
      tshark(pcap, ['frame.number'], 'chat.malformed || chat.dissector_error', [
        ...lua(CHAT_LUA),
        '-d',
        'tcp.port==9001,http',
      ]),
    ).toEqual([]);
  });

  it('LFTP malformed: truncated headers, bad lengths, garbage SYN JSON, bad SACK blocks, short protected payloads are marked malformed, never a Lua error', () => {
    const client: [string, number] = ['127.0.0.1', 41000];
    const server: [string, number] = ['127.0.0.1', 7777];
    const json = (o: unknown) => Buffer.from(JSON.stringify(o));
    const sack = (...blocks: Array<[number, number]>) => {
      const b = Buffer.alloc(blocks.length * 8);
      blocks.forEach(([x, y], i) => {
        b.writeUInt32BE(x >>> 0, i * 8);
        b.writeUInt32BE(y >>> 0, i * 8 + 4);
      });
      return b;
    };
    const v2 = (b: Buffer) => b.writeUInt8(2, 0);
    // [from the server?, datagram, what the Info column says is wrong (null: well-formed)]
    const cases: Array<[boolean, Buffer, string | null]> = [
      [false, datagram({ flags: Flag.SYN, payload: json({ name: 'a.txt', mss: 1448 }) }), null],
      [false, Buffer.from([1, 1, 0]), '3 bytes, shorter than the header'],
      [false, datagram({ flags: Flag.SYN }).subarray(0, 23), '23 bytes, shorter than the header'],
      [
        false,
        datagram({ flags: Flag.SYN, payload: Buffer.from('{"name":"x"}') }, (b) => b.writeUInt16BE(200, 2)),
        "payload length 200 is not the datagram's",
      ],
      [
        false,
        datagram({ flags: Flag.SYN, payload: Buffer.from('{"name":"x","mss":"abc"}') }),
        'mss is not a number of bytes: abc',
      ],
      [
        false,
        datagram({ flags: Flag.SYN, payload: Buffer.from('{"name":"x","mss":99999999999999999999}') }),
        'mss is not a number of bytes',
      ],
      [
        false,
        datagram({ flags: Flag.SYN, payload: Buffer.from([0xff, 0xfe, 0x7b, 0, 1, 2, 0x22]) }),
        'payload is not a JSON object',
      ],
      [false, datagram({ flags: Flag.ERR, payload: Buffer.from('{"code":"\xff') }), 'payload is not a JSON object'],
      [
        true,
        datagram({ flags: Flag.ACK, payload: Buffer.concat([sack([10, 12]), Buffer.from([0, 0, 0, 9, 1])]) }),
        'SACK blocks are 13 bytes',
      ],
      // SACK blocks and the 4-byte report of the largest datagram received (DPLPMTUD): whole.
      [
        true,
        datagram({ flags: Flag.ACK, payload: Buffer.concat([sack([10, 12]), Buffer.from([0, 0, 251, 224])]) }),
        null,
      ],
      [
        true,
        datagram({ flags: Flag.ACK, payload: sack([10, 12], [20, 15]) }),
        'SACK block 2: its end is not after its start',
      ],
      [true, datagram({ flags: Flag.ACK, payload: sack([30, 30]) }), 'SACK block 1: its end is not after its start'],
      [
        true,
        datagram({
          flags: Flag.ACK,
          payload: sack(...Array.from({ length: 17 }, (_, i): [number, number] => [10 + 2 * i, 11 + 2 * i])),
        }),
        '17 SACK blocks, more than 16',
      ],
      [true, datagram({ flags: Flag.END | Flag.ACK, payload: Buffer.alloc(8) }), 'END payload is 8 bytes, not 40'],
      [
        true,
        datagram({ flags: Flag.SYN | Flag.ACK, payload: Buffer.alloc(5) }, v2),
        'protected payload is 5 bytes, shorter than its nonce and tag',
      ],
      [
        true,
        datagram({ flags: Flag.ACK, payload: Buffer.alloc(3) }, v2),
        'protected payload is 3 bytes, shorter than its tag',
      ],
      [false, datagram({ flags: Flag.SYN }, (b) => b.writeUInt8(7, 0)), 'unknown version 7'],
      [true, datagram({ flags: Flag.ACK, payload: json({ queued: 2 }) }), null],
      [true, datagram({ flags: Flag.ACK, payload: sack([10, 12]) }), null],
      [true, datagram({ flags: Flag.RETRY, seq: 0, ack: 7001, payload: randomBytes(24) }), null],
      [true, datagram({ flags: Flag.RETRY, seq: 0, ack: 7001 }), 'RETRY token is 0 bytes, not 1-64'],
      [true, datagram({ flags: Flag.RETRY, payload: randomBytes(65) }), 'RETRY token is 65 bytes, not 1-64'],
      [true, datagram({ flags: Flag.RETRY | Flag.ACK, payload: randomBytes(24) }), 'RETRY with other flags'],
    ];
    const at = Date.now();
    const packets = cases.map(([fromServer, payload], i) => ({
      at: at + i,
      src: fromServer ? server : client,
      dst: fromServer ? client : server,
      payload,
    }));
    const pcap = join(tempDir('ws-pcap'), 'lftp-malformed.pcap');
    writePcap(pcap, packets);
    const decodeAs = ['-d', 'udp.port==7777,lftp'];
    const rows = tshark(pcap, ['frame.number', '_ws.col.Info'], 'udp', [...lua(LFTP_LUA, CHAT_LUA), ...decodeAs]);
    expect(rows.length).toBe(cases.length);
    cases.forEach(([, , why], i) => {
      if (why === null) expect(rows[i]![1], `frame ${i + 1}`).not.toContain('Malformed');
      else expect(rows[i]![1], `frame ${i + 1}`).toContain(`[Malformed: ${why}`);
    });
    // The marker is expert info (Malformed, Error), filterable.
    const marked = tshark(pcap, ['frame.number'], 'lftp.malformed', [...lua(LFTP_LUA, CHAT_LUA), ...decodeAs]);
    expect(marked.map((r) => Number(r[0]))).toEqual(cases.flatMap(([, , why], i) => (why === null ? [] : [i + 1])));
    const verbose = tsharkVerbose(pcap, decodeAs);
    expectNoLuaError(verbose);
    expect(verbose).toMatch(/Expert Info \(Error\/Malformed\): .*mss is not a number of bytes: abc/);
    // Found by the heuristic too (their CRC is right), without Decode As.
    const found = tshark(pcap, ['frame.number', '_ws.col.Info'], 'lftp.malformed', lua(LFTP_LUA, CHAT_LUA));
    expect(found.some((r) => r[1]!.includes('mss is not a number of bytes: abc'))).toBe(true);
    expectNoLuaError(tsharkVerbose(pcap));

    // 600 seeded mutations of good datagrams (both versions, every payload kind), both directions.
    const good = [
      ...cases.filter(([, , why]) => why === null).map(([, b]) => b),
      datagram({ flags: Flag.SYN | Flag.ACK, payload: json({ size: 20000, mss: 1448 }) }),
      datagram({ flags: Flag.DAT | Flag.ACK, payload: randomBytes(64) }),
      datagram({ flags: Flag.END | Flag.ACK, payload: randomBytes(40) }),
      datagram({ flags: Flag.ERR, payload: json({ code: 'NOT_FOUND', message: 'no such file' }) }),
      datagram({ flags: Flag.SYN | Flag.ACK, payload: randomBytes(60) }, v2),
      datagram({ flags: Flag.ACK | Flag.DAT, payload: randomBytes(40) }, v2),
    ];
    const fuzz = mutations(good, 600, 2024).map((payload, i) => ({
      at: at + i,
      src: i % 2 ? server : client,
      dst: i % 2 ? client : server,
      payload,
    }));
    const fuzzPcap = join(tempDir('ws-pcap'), 'lftp-fuzz.pcap');
    writePcap(fuzzPcap, fuzz);
    const fuzzed = tsharkVerbose(fuzzPcap, decodeAs);
    expectNoLuaError(fuzzed);
    expect(fuzzed).toContain('Expert Info (Error/Malformed)');
  }, 60_000);

  it('chat malformed: a bogus body length, a length over the bound, bad JSON, a seq that is no number, a truncated message: marked malformed, never a Lua error', () => {
    const hello = encodeMessage({ type: 'HELLO', version: 2, nick: 'shark' });
    const chatOk = encodeMessage({ type: 'CHAT', text: 'after the bogus one', action: false });
    // [from, bytes, what the Info column says of its frame]
    const stream: Array<{ from: 'client' | 'server'; bytes: Buffer; info: string }> = [
      { from: 'client', bytes: hello, info: 'HELLO shark' },
      {
        from: 'server',
        bytes: chatFrame(FrameType.HEARTBEAT, '{"seq":"abc","ts":1}'),
        info: 'HEARTBEAT [Malformed: seq is not a number]',
      },
      {
        from: 'server',
        bytes: chatFrame(FrameType.HEARTBEAT, '{"seq":99999999999999999999}'),
        info: 'HEARTBEAT [Malformed: seq is not a number]',
      },
      { from: 'client', bytes: chatFrame(FrameType.CHAT, '{"text":'), info: 'CHAT [Malformed: body is not JSON]' },
      {
        from: 'client',
        bytes: chatFrame(FrameType.CHAT, 'not json at all'),
        info: 'CHAT [Malformed: body is not JSON]',
      },
      {
        from: 'client',
        bytes: chatFrame(FrameType.CHAT, '{"text":"x"}', 0xffffffff),
        info: `CHAT [Malformed: body length ${0xffffffff}, over the protocol's bound`,
      },
      // The stream goes on: the next frame is found where the bogus one's segment ends.
      { from: 'client', bytes: chatOk, info: 'CHAT' },
    ];
    const tcpPcap = join(tempDir('ws-pcap'), 'chat-malformed.pcap');
    writePcap(tcpPcap, tcpConversation(['127.0.0.1', 40300], ['127.0.0.1', 47002], stream));
    const rows = tshark(tcpPcap, ['_ws.col.Info', 'chat.text'], 'chat', lua(CHAT_LUA, LFTP_LUA));
    expect(rows.map((r) => r[0])).toEqual(stream.map((c) => expect.stringContaining(`CHAT: ${c.info}`)));
    expect(rows.at(-1)![1]).toBe('after the bogus one');
    expect(tshark(tcpPcap, ['frame.number'], 'chat.malformed', lua(CHAT_LUA)).length).toBe(5);
    expectNoLuaError(tsharkVerbose(tcpPcap));

    // Without TCP reassembly (a capture cut short, or the preference off) a frame longer than its segment is
    // handed over as it is: its body length is past the end.
    const split = chatFrame(FrameType.CHAT, '{"text":"split in two"}');
    const noReassembly = join(tempDir('ws-pcap'), 'chat-split.pcap');
    writePcap(
      noReassembly,
      tcpConversation(
        ['127.0.0.1', 40301],
        ['127.0.0.1', 47003],
        [
          { from: 'client', bytes: hello },
          { from: 'client', bytes: split.subarray(0, 12) },
          { from: 'client', bytes: split.subarray(12) },
        ],
      ),
    );
    const off = ['-o', 'tcp.desegment_tcp_streams:FALSE'];
    expect(tshark(noReassembly, ['_ws.col.Info'], 'chat.malformed', [...lua(CHAT_LUA), ...off])).toEqual([
      [expect.stringContaining(`CHAT [Malformed: body length ${split.length - 5}, only 7 bytes follow]`)],
    ]);
    expectNoLuaError(tsharkVerbose(noReassembly, off));

    // The browser page's WebSocket: one frame per message, nothing to reassemble: a length past the end.
    const wsPcap = join(tempDir('ws-pcap'), 'chat-ws-malformed.pcap');
    const messages = [
      { bytes: encodeMessage({ type: 'HEARTBEAT', seq: 7, ts: 1 }), info: 'HEARTBEAT seq=7' },
      {
        bytes: chatFrame(FrameType.HEARTBEAT, '{"seq":7}', 1000),
        info: 'HEARTBEAT [Malformed: body length 1000, only 9 bytes follow]',
      },
      { bytes: chatFrame(FrameType.HEARTBEAT, '{"seq":"x"}'), info: 'HEARTBEAT [Malformed: seq is not a number]' },
      { bytes: Buffer.from([0, 0, 0]), info: 'truncated frame [Malformed: shorter than its header]' },
      { bytes: chatFrame(FrameType.CHAT, '{bad json'), info: 'CHAT [Malformed: body is not JSON]' },
    ];
    writePcap(
      wsPcap,
      tcpConversation(
        ['127.0.0.1', 40302],
        ['127.0.0.1', 9001],
        [...WS_UPGRADE, ...messages.map((m) => ({ from: 'server' as const, bytes: wsMessage(m.bytes) }))],
      ),
    );
    const wsArgs = ['-d', 'tcp.port==9001,http'];
    expect(tshark(wsPcap, ['_ws.col.Info'], 'chat', [...lua(CHAT_LUA), ...wsArgs]).map((r) => r[0])).toEqual(
      messages.map((m) => `CHAT: ${m.info}`),
    );
    expect(tshark(wsPcap, ['frame.number'], 'chat.malformed', [...lua(CHAT_LUA), ...wsArgs]).length).toBe(4);
    expectNoLuaError(tsharkVerbose(wsPcap, wsArgs));

    // 400 seeded mutations of good frames: as WebSocket messages, and as TCP segments without reassembly.
    const good = [
      hello,
      chatOk,
      encodeMessage({ type: 'HEARTBEAT', seq: 7, ts: 1 }),
      encodeMessage({ type: 'HEARTBEAT_ACK', seq: 7, ts: 1 }),
      encodeMessage({ type: 'ERROR', code: 'BAD_FRAME', message: 'no', fatal: false }),
    ];
    const fuzz = mutations(good, 400, 7);
    const fuzzWs = join(tempDir('ws-pcap'), 'chat-ws-fuzz.pcap');
    writePcap(
      fuzzWs,
      tcpConversation(
        ['127.0.0.1', 40303],
        ['127.0.0.1', 9001],
        [...WS_UPGRADE, ...fuzz.map((bytes) => ({ from: 'server' as const, bytes: wsMessage(bytes) }))],
      ),
    );
    const fuzzedWs = tsharkVerbose(fuzzWs, wsArgs);
    expectNoLuaError(fuzzedWs);
    expect(fuzzedWs).toContain('Expert Info (Error/Malformed)');
    const fuzzTcp = join(tempDir('ws-pcap'), 'chat-tcp-fuzz.pcap');
    writePcap(
      fuzzTcp,
      tcpConversation(
        ['127.0.0.1', 40304],
        ['127.0.0.1', 47004],
        [{ from: 'client', bytes: hello }, ...fuzz.map((bytes) => ({ from: 'client' as const, bytes }))],
      ),
    );
    expectNoLuaError(tsharkVerbose(fuzzTcp, off));
    expectNoLuaError(tsharkVerbose(fuzzTcp));
  }, 60_000);

  it('the dissectors know every frame type the code does, and npm run wireshark:install puts them where tshark loads them', () => {
    const text = readFileSync(CHAT_LUA, 'utf8');
    for (const [name, code] of Object.entries(FrameType))
      expect(text).toContain(`[0x${code.toString(16).padStart(2, '0')}] = "${name}"`);
    const home = tempDir('ws-home');
    const out = execFileSync('npm', ['run', '--silent', 'wireshark:install'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, HOME: home },
    });
    expect(out).toContain(join(home, '.local/lib/wireshark/plugins/lftp.lua'));
    const protocols = execFileSync('tshark', ['-G', 'protocols'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(protocols).toMatch(/^LFTP \(file transfer over UDP\)\tLFTP\tlftp$/m);
    expect(protocols).toMatch(/^heartbeat-chat protocol\tCHAT\tchat$/m);
  });
});
