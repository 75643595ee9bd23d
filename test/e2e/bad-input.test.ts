import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { FrameType } from '../../common/protocol.js';
import { encodeFrame, HEADER_SIZE } from '../../common/frame.js';
import { LineProcess, startClient, startServer, stopAll, type ServerHandle } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';

let server: ServerHandle;
let bystander: LineProcess;
let other: LineProcess;

beforeAll(async () => {
  server = await startServer(['--workers', '2', '--max-frame', '4KiB']);
  bystander = await startClient(server.port, 'bystander');
  other = await startClient(server.port, 'other');
});
afterAll(async () => {
  await stopAll(server, bystander, other);
});

/** After each hostile peer, the bystanders still chat. */
async function othersUnaffected(tag: string): Promise<void> {
  other.send(`still fine ${tag}`);
  await bystander.waitFor(`<other> still fine ${tag}`);
}

async function expectFatal(raw: RawClient, code: string): Promise<void> {
  const err = await raw.waitFor((m) => m.type === 'ERROR');
  expect(err).toMatchObject({ type: 'ERROR', code, fatal: true });
  expect(await raw.closedWithin(5000)).toBe(true);
}

const hello = (nick: string) => encodeFrame(FrameType.HELLO, Buffer.from(JSON.stringify({ version: 1, nick })));

describe('hostile input on a raw socket', () => {
  it('garbage bytes (an HTTP request) → error frame, connection closed', async () => {
    const raw = await RawClient.connect(server.port);
    raw.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await expectFatal(raw, 'FRAME_TOO_LARGE');
    await othersUnaffected('garbage');
  });

  it('a header claiming 4 GiB → FRAME_TOO_LARGE at once, nothing buffered', async () => {
    const raw = await RawClient.connect(server.port);
    const header = Buffer.alloc(HEADER_SIZE);
    header.writeUInt32BE(0xffffffff, 0);
    header.writeUInt8(FrameType.CHAT, 4);
    raw.write(header);
    await expectFatal(raw, 'FRAME_TOO_LARGE');
    await othersUnaffected('4gib');
  });

  it('a frame one byte over --max-frame → FRAME_TOO_LARGE', async () => {
    const raw = await RawClient.connect(server.port);
    raw.write(encodeFrame(FrameType.HELLO, Buffer.alloc(4097, 0x20)));
    await expectFatal(raw, 'FRAME_TOO_LARGE');
  });

  it('unknown frame type → UNKNOWN_TYPE', async () => {
    const raw = await RawClient.connect(server.port);
    raw.write(encodeFrame(0x42, Buffer.from('{}')));
    await expectFatal(raw, 'UNKNOWN_TYPE');
  });

  it('a frame before HELLO → HELLO_REQUIRED', async () => {
    const raw = await RawClient.connect(server.port);
    raw.send({ type: 'CHAT', text: 'hi', action: false });
    await expectFatal(raw, 'HELLO_REQUIRED');
  });

  it('a second HELLO → ALREADY_HELLO, and the nick is freed', async () => {
    const raw = await RawClient.connect(server.port);
    raw.write(hello('twice'));
    await raw.waitFor((m) => m.type === 'WELCOME');
    raw.write(hello('twice'));
    await expectFatal(raw, 'ALREADY_HELLO');
    await bystander.waitFor('* twice left');
    const again = await RawClient.connect(server.port);
    again.write(hello('twice'));
    await again.waitFor((m) => m.type === 'WELCOME');
    again.destroy();
  });

  it('invalid UTF-8 and malformed JSON → INVALID_UTF8 / BAD_FRAME', async () => {
    const a = await RawClient.connect(server.port);
    a.write(encodeFrame(FrameType.HELLO, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    await expectFatal(a, 'INVALID_UTF8');
    const b = await RawClient.connect(server.port);
    b.write(encodeFrame(FrameType.HELLO, Buffer.from('{"version":1,')));
    await expectFatal(b, 'BAD_FRAME');
    const c = await RawClient.connect(server.port);
    c.write(encodeFrame(FrameType.HELLO, Buffer.from('{"version":3,"nick":"x"}')));
    await expectFatal(c, 'VERSION_UNSUPPORTED');
    await othersUnaffected('utf8');
  });

  it('a HELLO and a message split byte by byte, with pauses, still work', async () => {
    const raw = await RawClient.connect(server.port);
    const bytes = Buffer.concat([
      hello('slowpoke'),
      encodeFrame(FrameType.CHAT, Buffer.from(JSON.stringify({ text: 'one byte at a time' }))),
    ]);
    for (const b of bytes) {
      raw.write(Buffer.from([b]));
      await new Promise((r) => setTimeout(r, 2));
    }
    await bystander.waitFor('<slowpoke> one byte at a time');
    raw.destroy();
  });

  it('a slow sender stuck mid-frame does not hold anyone else up', async () => {
    const raw = await RawClient.connect(server.port);
    raw.write(hello('stuck'));
    await raw.waitFor((m) => m.type === 'WELCOME');
    const frame = encodeFrame(FrameType.CHAT, Buffer.from(JSON.stringify({ text: 'finally' })));
    raw.write(frame.subarray(0, 7));
    await othersUnaffected('while-stuck');
    raw.write(frame.subarray(7));
    await bystander.waitFor('<stuck> finally');
    raw.destroy();
  });

  it('terminal escape sequences are neutralised before anyone prints them', async () => {
    const raw = await RawClient.connect(server.port);
    raw.write(hello('painter'));
    await raw.waitFor((m) => m.type === 'WELCOME');
    raw.send({ type: 'CHAT', text: 'clear\x1b[2J\x1b[31mred\x1b]0;title\x07\x9b1m\r\nfake line', action: false });
    const line = await bystander.waitFor(/^<painter> clear/);
    expect(line).toBe('<painter> clear␛[2J␛[31mred␛]0;title␇\ufffd1m␍␊fake line');
    // Nothing the server relays contains an ESC byte.
    const echoed = await raw.waitFor((m) => m.type === 'CHAT');
    expect(JSON.stringify(echoed)).not.toMatch(/\\u001b|\x1b/);
    raw.destroy();
  });

  it('the server is still healthy after all of it, and logged each refusal', async () => {
    for (const nick of ['slowpoke', 'stuck', 'painter']) await bystander.waitFor(`* ${nick} left`);
    server.send('/stats');
    await server.waitFor(/^total: 2 sessions/);
    await othersUnaffected('end');
    // Each worker thread writes its own lines to the log: wait for every refusal's, not for one of them.
    const refusals = [
      'FRAME_TOO_LARGE',
      'UNKNOWN_TYPE',
      'HELLO_REQUIRED',
      'ALREADY_HELLO',
      'INVALID_UTF8',
      'BAD_FRAME',
    ];
    const logged = (code: string) =>
      new RegExp(`"level":40.*"code":"${code}".*closing connection`).test(readFileSync(server.logFile, 'utf8'));
    await until(
      () => refusals.every(logged),
      5000,
      () => `not in the log: ${refusals.filter((c) => !logged(c)).join(', ')}`,
    );
  });
});
