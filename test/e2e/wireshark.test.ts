/**
 * The Wireshark dissectors (wireshark/lftp.lua, wireshark/chat.lua) in
 * Debian's tshark, over captures made here: real LFTP transfers (plain and
 * protected) recorded by a relay on loopback, and a real chat session's
 * bytes, written as pcap files (test/helpers/pcap.ts). Every datagram and
 * frame decodes with the right field values, a corrupted CRC is flagged, a
 * frame split byte by byte is reassembled, and the install command puts the
 * dissectors where tshark loads them by itself.
 */
import { execFileSync } from 'node:child_process';
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
import { decodePacket, Flag } from '../../common/lftp/engine/packet.js';
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
      ['lftp.flags.end == 1', 1],
    ] as const) {
      expect(tshark(pcap, ['frame.number'], filter, lua(LFTP_LUA)).length, filter).toBe(want);
    }
    // One data datagram with a flipped payload byte: still LFTP (its connection is known), and flagged.
    const bad = packets.map((p) => ({ ...p, payload: Buffer.from(p.payload) }));
    const victim = bad.findIndex((p) => (p.payload[1]! & Flag.DAT) !== 0);
    bad[victim]!.payload[bad[victim]!.payload.length - 1]! ^= 0xff;
    const badPcap = join(tempDir('ws-pcap'), 'corrupt.pcap');
    writePcap(badPcap, bad);
    expect(tshark(badPcap, ['frame.number', 'lftp.checksum.status'], 'lftp.checksum.bad', lua(LFTP_LUA))).toEqual([
      [String(victim + 1), 'Bad'],
    ]);
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
    expect(rows[0]!.slice(0, 2)).toEqual(['1', '0x01']);
    expect(rows.slice(1).every((r) => r[0] === '2')).toBe(true);
    // Each side numbers its datagrams 0, 1, 2, ...: the server's from its SYN-ACK, the client's from its handshake ACK.
    const serverPort = String(packets[1]!.src[1]);
    const fromServer = rows.filter((r) => r[4] === serverPort).map((r) => Number(r[2]));
    expect(fromServer.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(tshark(pcap, ['lftp.nonce'], 'lftp.flags.syn == 1 && lftp.flags.ack == 1', lua(LFTP_LUA))[0]![0]).toMatch(
      /^[0-9a-f]{32}$/,
    );
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
  });

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
