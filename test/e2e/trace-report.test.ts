/**
 * Traces a learner can trust, and the report drawn from them: a real get
 * through the fault relay at 5 % loss with --qlog on both ends; the traces'
 * datagram counts agree with the relay's counters, every packet declared
 * lost is acknowledged later, and `chat-client trace report` draws both
 * sides into one HTML file, checked in chromium (the handshake's arrows with
 * their seq and ack numbers, a plotted cwnd line) and kept as a screenshot.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import net from 'node:net';
import {
  ROOT,
  runLftpClient,
  startLftpServer,
  startServer,
  stopAll,
  tempDir,
  LineProcess,
  CLIENT_JS,
  type ServerHandle,
} from '../helpers/processes.js';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType } from '../../common/protocol.js';
import { until } from '../helpers/wait.js';
import { NO_IMPAIRMENT, startRelay } from '../relay/relay.js';
import { readQlog, type QlogEvent } from '../../client/trace-report/qlog-file.js';

const CHROMIUM = '/usr/bin/chromium';
let server: ServerHandle | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  if (server) await stopAll(server);
});

const named = (events: QlogEvent[], name: string) => events.filter((e) => e.name === name);
type Header = { packet_type: string; seq_rel: number; ack_rel: number };

describe('LFTP traces (--qlog) and the trace report', () => {
  it('through the relay at 5% loss: counts match the relay, losses are acknowledged, and the report draws the handshake and cwnd', async () => {
    const files = tempDir('qlog-files');
    const work = tempDir('qlog-work');
    const serverQlog = join(work, 'server-qlog');
    const clientQlog = join(work, 'client-qlog');
    writeFileSync(join(files, 'lossy.bin'), randomBytes(1024 * 1024));
    server = await startLftpServer(files, ['--token', 'trace token', '--qlog', serverQlog]);
    const lossy = { ...NO_IMPAIRMENT, loss: 0.05, delayMs: 2 };
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: server.port,
      seed: 5,
      up: lossy,
      down: lossy,
    });
    let stats;
    try {
      const r = await runLftpClient([
        'get',
        `127.0.0.1:${relay.port}`,
        'lossy.bin',
        join(work, 'lossy.bin'),
        '--token',
        'trace token',
        '--qlog',
        clientQlog,
      ]);
      expect(r.code, r.err.join('\n')).toBe(0);
      // The server's last ACK of the client's FIN may still be on its way through the relay: its counts settle first.
      await new Promise((res) => setTimeout(res, 500));
      stats = structuredClone(relay.stats);
    } finally {
      await relay.close();
    }
    server.proc.kill('SIGTERM');
    expect(await server.exit()).toBe(0);
    server = undefined;
    const [clientFile] = readdirSync(clientQlog).map((f) => join(clientQlog, f));
    const [serverFile] = readdirSync(serverQlog).map((f) => join(serverQlog, f));
    const client = readQlog(clientFile!);
    const srv = readQlog(serverFile!);
    expect([client.side, srv.side, client.group]).toEqual(['client', 'server', srv.group]);
    expect(client.truncated || srv.truncated).toBe(false);

    // What each side sent is what the relay got from it; what each side got is what the relay passed on (the
    // server's SYN retransmissions before the transfer existed are counted by the relay, not in a trace).
    expect(named(client.events, 'transport:packet_sent').length).toBe(stats.up.received);
    expect(named(srv.events, 'transport:packet_sent').length).toBe(stats.down.received);
    const clientGot = named(client.events, 'transport:packet_received').length;
    expect(clientGot).toBeLessThanOrEqual(stats.down.forwarded);
    expect(clientGot).toBeGreaterThanOrEqual(stats.down.forwarded - 3);
    const serverGot = named(srv.events, 'transport:packet_received').length;
    expect(serverGot).toBeLessThanOrEqual(stats.up.forwarded);
    expect(serverGot).toBeGreaterThanOrEqual(stats.up.forwarded - 3);
    expect(stats.down.dropped).toBeGreaterThan(10);

    // Every packet the server declared lost was acknowledged afterwards (cumulatively or by a SACK range).
    const lost = named(srv.events, 'recovery:packet_lost');
    expect(lost.length).toBeGreaterThan(0);
    const acks = named(srv.events, 'transport:packet_received').filter(
      (e) => (e.data['header'] as Header).packet_type === 'ack',
    );
    for (const l of lost) {
      const s = (l.data['header'] as Header).seq_rel;
      const later = acks.filter((a) => a.time >= l.time);
      const acked = later.some(
        (a) =>
          (a.data['header'] as Header).ack_rel > s ||
          (
            (a.data['frames'] as Array<{ acked_ranges: Array<[number, number]> }> | undefined)?.[0]?.acked_ranges ?? []
          ).some(([x, y]) => x <= s && s < y),
      );
      expect(acked, `packet ${s} lost at ${l.time} ms and never acknowledged`).toBe(true);
    }
    expect(named(srv.events, 'recovery:metrics_updated').length).toBeGreaterThan(10);
    expect(named(srv.events, 'recovery:congestion_state_updated').map((e) => e.data['new'])).toContain('recovery');

    // The report, both sides merged, in a real browser.
    const report = join(work, 'report.html');
    const p = new LineProcess('report', [CLIENT_JS, 'trace', 'report', clientFile!, serverFile!, '-o', report]);
    p.endInput();
    expect(await p.exit()).toBe(0);
    expect(p.lines.at(-1)).toBe(`report: ${report} (1 transfer from 2 files)`);
    expect(readFileSync(report, 'utf8')).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const page = await browser.newPage({ viewport: { width: 1050, height: 900 } });
    await page.goto(`file://${report}`);
    const arrows = await page.$$eval('svg.ladder g.arrow', (gs) =>
      gs.map((g) => [g.getAttribute('data-flags'), g.getAttribute('data-seq'), g.getAttribute('data-ack')]),
    );
    expect(arrows[0]).toEqual(['SYN', '0', '0']);
    expect(arrows.find((a) => a[0] === 'SYN|ACK')).toEqual(['SYN|ACK', '0', '1']);
    expect(arrows.find((a) => a[0] === 'ACK' && a[1] === '1' && a[2] === '1')).toBeDefined();
    expect(arrows.some((a) => a[0] === 'ACK|FIN')).toBe(true);
    const cwnd = await page.$eval('svg path.cwnd', (el) => el.getAttribute('d') ?? '');
    expect(cwnd.split('L').length).toBeGreaterThan(10);
    expect(await page.locator('table.summary').innerText()).toMatch(/packets declared lost\s+\d+/);
    mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test/artifacts/trace-report.png'), fullPage: true });
  }, 120_000);

  it('what the receiving side shows: --verbose names holes, repairs and duplicates with relative [absolute] numbers; --trace marks SACK ranges, no cwnd', async () => {
    const files = tempDir('verbose-files');
    const work = tempDir('verbose-work');
    writeFileSync(join(files, 'v.bin'), randomBytes(512 * 1024));
    // Unprotected, so that the network's duplicates reach the connection (a protected one drops them as replays first).
    const s = await startLftpServer(files, ['--open', '--trace', join(work, 'server.trace')]);
    const lossy = { ...NO_IMPAIRMENT, loss: 0.05, duplicate: 0.03, delayMs: 2 };
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: s.port,
      seed: 9,
      up: NO_IMPAIRMENT,
      down: lossy,
    });
    try {
      const p = new LineProcess('verbose get', [
        CLIENT_JS,
        'lftp',
        'get',
        `127.0.0.1:${relay.port}`,
        'v.bin',
        join(work, 'v.bin'),
        '--verbose',
        '--quiet',
        '--trace',
        join(work, 'client.trace'),
      ]);
      p.endInput();
      expect(await p.exit(60_000)).toBe(0);
      const err = p.errLines.join('\n');
      expect(err).toMatch(/lftp: SYN sent \(seq=0 \[\d+\], get v\.bin\)/);
      expect(err).toMatch(
        /lftp: SYN-ACK received \(seq=0 \[\d+\], ack=1 \[\d+\]\); ACK sent \(seq=1 \[\d+\], ack=1 \[\d+\]\)/,
      );
      expect(err).toMatch(
        /lftp: out of order: expected seq \d+ \[\d+\], got \d+ \[\d+\]; holding it, ACK with SACK \d+-\d+/,
      );
      expect(err).toMatch(/lftp: hole filled: seq \d+ \[\d+\] arrived \(retransmitted\); in order up to \d+ \[\d+\]/);
      expect(err).toMatch(/lftp: duplicate seq \d+ \[\d+\]/);
      const lines = readFileSync(join(work, 'client.trace'), 'utf8')
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { dir: string; flags: string; cwnd: number | null; sack?: number[][]; seq_rel: number },
        );
      expect(lines.every((l) => l.cwnd === null)).toBe(true);
      expect(lines.some((l) => l.dir === 'out' && l.flags === 'ACK' && (l.sack?.length ?? 0) > 0)).toBe(true);
      expect(lines.find((l) => l.dir === 'out' && l.flags === 'SYN')!.seq_rel).toBe(0);
    } finally {
      await relay.close();
      await stopAll(s);
    }
    const sent = readFileSync(join(work, 'server.trace'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { dir: string; flags: string; retx?: boolean; cwnd: number | null });
    expect(sent.some((l) => l.dir === 'out' && l.retx === true && l.flags === 'ACK|DAT')).toBe(true);
    expect(sent.filter((l) => l.dir === 'out' && l.flags === 'ACK|DAT').every((l) => typeof l.cwnd === 'number')).toBe(
      true,
    );
  }, 90_000);

  it('chat-server --qlog: a client that stops answering is drawn with its heartbeats, RTTs, the timeout window and the drop', async () => {
    const dir = join(tempDir('chat-qlog'), 'q');
    const s = await startServer([
      '--workers',
      '1',
      '--no-web',
      '--no-tls',
      '--heartbeat-interval',
      '300ms',
      '--heartbeat-timeout',
      '1s',
      '--qlog',
      dir,
    ]);
    try {
      const sock = net.connect(s.port, '127.0.0.1');
      sock.on('error', () => undefined);
      const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
      let answered = 0;
      let bye = '';
      sock.on('data', (b) => {
        for (const f of decoder.push(b)) {
          const m = decodeServerMessage(f);
          // Three answers, then the client freezes.
          if (m.type === 'HEARTBEAT' && answered < 3) {
            answered++;
            sock.write(encodeMessage({ type: 'HEARTBEAT_ACK', seq: m.seq, ts: m.ts }));
          }
          if (m.type === 'BYE') bye = m.reason;
        }
      });
      sock.write(encodeMessage({ type: 'HELLO', version: 2, nick: 'frozen' }));
      await until(
        () => bye !== '',
        10_000,
        () => 'never dropped',
      );
      expect(bye).toBe('heartbeat timeout');
      sock.destroy();
    } finally {
      await stopAll(s);
    }
    const [file] = readdirSync(dir).map((f) => join(dir, f));
    const t = readQlog(file!);
    expect(t.protocol).toBe('chat');
    expect(named(t.events, 'chat:heartbeat_answered').length).toBe(3);
    const drop = named(t.events, 'chat:heartbeat_timeout')[0]!;
    expect(drop.data['timeout_ms']).toBe(1000);
    expect(Number(drop.data['last_answer_ms_ago'])).toBeGreaterThanOrEqual(1000);
    const report = join(tempDir('chat-report'), 'r.html');
    const p = new LineProcess('report', [CLIENT_JS, 'trace', 'report', file!, '-o', report]);
    p.endInput();
    expect(await p.exit()).toBe(0);
    expect(p.lines.at(-1)).toBe(`report: ${report} (1 chat session from 1 file)`);
    browser ??= await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const page = await browser.newPage({ viewport: { width: 1050, height: 700 } });
    await page.goto(`file://${report}`);
    expect(await page.locator('section.session table.summary').innerText()).toMatch(
      /nick\s+frozen[\s\S]*heartbeats sent \/ answered\s+\d+ \/ 3[\s\S]*dropped at \d+ ms: heartbeat timeout/,
    );
    expect(await page.locator('svg.heartbeats path.hb-unanswered').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.heartbeats rect.window').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.heartbeats line.drop').count()).toBe(1);
    await page.screenshot({ path: join(ROOT, 'test/artifacts/trace-report-heartbeats.png'), fullPage: true });
  }, 60_000);

  it('bad input: a file that is not a qlog trace, no files, no -o: a clear error, exit 2', async () => {
    const work = tempDir('qlog-bad');
    writeFileSync(join(work, 'not.sqlog'), '{"hello":1}\n');
    for (const [args, text] of [
      [['report', join(work, 'not.sqlog'), '-o', join(work, 'r.html')], 'is not a qlog trace'],
      [['report', '-o', join(work, 'r.html')], 'give the qlog files'],
      [['report', join(work, 'not.sqlog')], '-o REPORT.html'],
      [['report', join(work, 'missing.sqlog'), '-o', join(work, 'r.html')], 'cannot read'],
    ] as const) {
      const p = new LineProcess('report', [CLIENT_JS, 'trace', ...args]);
      p.endInput();
      expect(await p.exit()).toBe(2);
      expect(p.errLines.join('\n')).toContain(text);
    }
  });
});
