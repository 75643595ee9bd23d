/**
 * Traces a learner can trust, and the report drawn from them: a real get
 * through the fault relay at 5 % loss with --qlog on both ends; the traces'
 * datagram counts agree with the relay's counters, every packet declared
 * lost is acknowledged later, and `chat-client trace report` draws both
 * sides into one HTML file, checked in chromium (the handshake's arrows with
 * their seq and ack numbers, a plotted cwnd line) and kept as a screenshot.
 * A hostile trace (markup in every string, strings where numbers belong)
 * makes a report with nothing of it run or parsed as markup, under a CSP
 * that forbids script.
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
import { NO_IMPAIRMENT, drained, startRelay } from '../relay/relay.js';
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
    // A 1500-byte MTU: one packet a datagram (the counts below are of datagrams, the losses of packets).
    const lossy = { ...NO_IMPAIRMENT, loss: 0.05, delayMs: 2, mtu: 1500 };
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: server.port,
      seed: 5,
      up: lossy,
      down: lossy,
    });
    const clientFile = () => join(clientQlog, readdirSync(clientQlog)[0]!);
    const serverFile = () => join(serverQlog, readdirSync(serverQlog)[0]!);
    let stats;
    let client: Awaited<ReturnType<typeof readQlog>>;
    let srv: Awaited<ReturnType<typeof readQlog>>;
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
      // The client exits without waiting out TIME_WAIT: if its last ACK was lost the server sends its FIN again
      // until it forgets the transfer. Stopped now, it sends nothing more, and its trace is whole.
      server.proc.kill('SIGTERM');
      expect(await server.exit()).toBe(0);
      server = undefined;
      client = await readQlog(clientFile());
      srv = await readQlog(serverFile());
      // Everything either side sent is at the relay, or on its way over loopback: its counts settle when it has
      // taken in what the traces say was sent and passed on (or dropped) all it took in.
      const sentUp = named(client.events, 'transport:packet_sent').length;
      const sentDown = named(srv.events, 'transport:packet_sent').length;
      await until(
        () =>
          relay.stats.up.received >= sentUp &&
          relay.stats.down.received >= sentDown &&
          drained(relay.stats.up) &&
          drained(relay.stats.down),
        5000,
        () => `the relay took in ${JSON.stringify(relay.stats)}; the traces say ${sentUp} up, ${sentDown} down`,
      );
      stats = structuredClone(relay.stats);
    } finally {
      await relay.close();
    }
    expect([client.side, srv.side, client.group]).toEqual(['client', 'server', srv.group]);
    expect(client.truncated || srv.truncated).toBe(false);

    // What each side sent is what the relay got from it; what each side got is what the relay passed on (the
    // server's SYN retransmissions before the transfer existed are counted by the relay, not in a trace). A
    // --token server answers a SYN without a token with a RETRY before any transfer exists: in no server
    // trace, only in the client's (less those the relay dropped).
    expect(named(client.events, 'transport:packet_sent').length).toBe(stats.up.received);
    const retries = named(client.events, 'transport:packet_received').filter(
      (e) => (e.data['header'] as Header).packet_type === 'retry',
    ).length;
    expect(retries).toBeGreaterThanOrEqual(1);
    const serverSent = named(srv.events, 'transport:packet_sent').length;
    expect(serverSent + retries).toBeLessThanOrEqual(stats.down.received);
    expect(serverSent + retries).toBeGreaterThanOrEqual(stats.down.received - 3);
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
    // The default controller's phases (BBR: startup first, then ProbeBW's), and its pacing rate in every metrics event.
    const phases = named(srv.events, 'recovery:congestion_state_updated').map((e) => e.data['new'] as string);
    expect(phases[0]).toBe('startup');
    expect(phases.some((p) => p.startsWith('probe_bw_'))).toBe(true);
    const metrics = named(srv.events, 'recovery:metrics_updated');
    expect(
      metrics.every((e) => typeof e.data['pacing_rate'] === 'number' && typeof e.data['bandwidth'] === 'number'),
    ).toBe(true);
    expect(metrics.at(-1)!.data['pacing_rate'] as number).toBeGreaterThan(0);

    // The report, both sides merged, in a real browser.
    const report = join(work, 'report.html');
    const p = new LineProcess('report', [CLIENT_JS, 'trace', 'report', clientFile(), serverFile(), '-o', report]);
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
    const pacing = await page.$eval('svg path.pacing', (el) => el.getAttribute('d') ?? '');
    expect(pacing.split('L').length).toBeGreaterThan(10);
    expect(await page.locator('svg rect.phase-startup').count()).toBeGreaterThan(0);
    expect(await page.locator('table.summary').innerText()).toMatch(/congestion phases\s+startup, .*probe_bw_/);
    expect(await page.locator('table.summary').innerText()).toMatch(/packets declared lost\s+\d+/);
    // What the two traces say never arrived is what the relay dropped (less a dropped RETRY, in no server trace),
    // though the two processes' clocks differ by a few ms (a datagram seen to arrive before it was sent).
    const unreceived = Number(
      /datagrams sent and never received\s+(\d+)/.exec(await page.locator('table.summary').innerText())?.[1],
    );
    // (Size probes too big for the relay's 1500-byte MTU are dropped too: counted apart, as too big.)
    // And what the server sent again after the client had gone (its FIN, the client's last ACK lost): passed on
    // by the relay to no one.
    const afterClientLeft = stats.down.forwarded - clientGot;
    const gone = stats.up.dropped + stats.down.dropped + stats.up.tooBig + stats.down.tooBig;
    expect(unreceived).toBeLessThanOrEqual(gone + afterClientLeft);
    expect(unreceived).toBeGreaterThanOrEqual(gone - 3);
    // A real trace passes the report's checks whole.
    expect(await page.locator('table.summary').innerText()).not.toContain('malformed');
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
    const data = sent.filter((l) => l.dir === 'out' && l.flags === 'ACK|DAT') as Array<{
      cwnd: number | null;
      phase?: string;
      pacing?: number;
    }>;
    expect(data.every((l) => typeof l.cwnd === 'number' && typeof l.phase === 'string' && l.pacing! > 0)).toBe(true);
    expect(new Set(data.map((l) => l.phase))).toContain('startup');
  }, 90_000);

  it("the sending side's --verbose names the controller's phases with its pacing rate and model", async () => {
    const files = tempDir('verbose-cc-files');
    const work = tempDir('verbose-cc-work');
    // 24 MiB, 6 s at the link's rate: the post is stopped once the lines are seen, however long a busy machine
    // takes to get there (a 3 MiB post once ended in REFILL, before UP).
    writeFileSync(join(work, 'up.bin'), randomBytes(24 * 1024 * 1024));
    const s = await startLftpServer(files, ['--open']);
    // A 4 MB/s link: startup finds it within a few round trips, and ProbeBW's cycle follows.
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: s.port,
      seed: 4,
      up: { ...NO_IMPAIRMENT, delayMs: 2, rateBps: 4_000_000, queueLimit: 48, mtu: 1500 },
      down: { ...NO_IMPAIRMENT, delayMs: 2, mtu: 1500 },
    });
    try {
      const p = new LineProcess('verbose post', [
        CLIENT_JS,
        'lftp',
        'post',
        `127.0.0.1:${relay.port}`,
        join(work, 'up.bin'),
        'up.bin',
        '--verbose',
        '--quiet',
      ]);
      p.endInput();
      await p.waitFor(/lftp: congestion control \(bbr\): probe_bw_refill → probe_bw_up/, 60_000);
      p.kill('SIGINT');
      await p.exit(10_000);
      const err = p.errLines.join('\n');
      expect(err).toMatch(
        /lftp: congestion control \(bbr\): startup; pacing [\d.]+ Mbit\/s, cwnd \d+, in-flight bound none/,
      );
      // Out of startup: into drain, or straight on to ProbeBW's DOWN when what is in flight already fits (drain
      // entered and left in one step, as the draft's BBRCheckDrain does), or on to CRUISE when it fits DOWN's
      // target too (seen in CI), which a loaded machine's timing decides.
      expect(err).toMatch(
        /lftp: congestion control \(bbr\): startup → (drain; pacing [\d.]+ Mbit\/s \(0\.5|probe_bw_down; pacing [\d.]+ Mbit\/s \(0\.9|probe_bw_cruise; pacing [\d.]+ Mbit\/s \(1) × bw [\d.]+ Mbit\/s\), cwnd \d+, min RTT [\d.]+ ms/,
      );
      expect(err).toMatch(
        /lftp: congestion control \(bbr\): probe_bw_refill → probe_bw_up; pacing [\d.]+ Mbit\/s \(1\.25 × bw/,
      );
    } finally {
      await relay.close();
      await stopAll(s);
    }
  }, 60_000);

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
    const t = await readQlog(file!);
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
    expect(await page.locator('section.session table.summary').innerText()).not.toContain('malformed');
    expect(await page.locator('svg.heartbeats path.hb-unanswered').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.heartbeats rect.window').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.heartbeats line.drop').count()).toBe(1);
    await page.screenshot({ path: join(ROOT, 'test/artifacts/trace-report-heartbeats.png'), fullPage: true });
  }, 60_000);

  it('a hostile trace: markup in every string and strings where numbers belong are escaped or left out; nothing runs in chromium; the CSP forbids script', async () => {
    const work = tempDir('qlog-hostile');
    // Breaks out of a double- or single-quoted attribute, a <title>, an SVG <text> and the <svg> itself.
    const X = `"'></title></text></svg><img src=x onerror="window.__pwned=1;document.title='pwned'"><script>window.__pwned=2;document.title='pwned'</script>`;
    const header = (side: string, protocols: string[], configuration: Record<string, unknown>) => ({
      qlog_version: '0.4',
      qlog_format: 'JSON-SEQ',
      title: X,
      trace: {
        vantage_point: { type: side, name: X },
        common_fields: {
          protocol_types: protocols,
          group_id: `${protocols[0]}${X}`,
          reference_time: 1_700_000_000_000,
        },
        configuration,
      },
    });
    const seq = (records: unknown[]) => records.map((r) => `\x1e${JSON.stringify(r)}\n`).join('');
    const pkt = (time: number, dir: 'sent' | 'received', h: Record<string, unknown>, extra = {}) => ({
      time,
      name: `transport:packet_${dir}`,
      data: { header: h, raw: { length: 24 }, ...extra },
    });
    const good = { seq: 100, ack: 500, seq_rel: 0, ack_rel: 0, window: 8 };
    const lftpEvents = [
      // Drawn, escaped: strings where strings belong.
      pkt(0, 'sent', { ...good, packet_type: X, flags: X }),
      { time: 1, name: 'transport:connection_state_updated', data: { old: X, new: X } },
      pkt(2, 'sent', { ...good, packet_type: 'data', flags: 'ACK|DAT', seq: 101, seq_rel: 1 }),
      pkt(
        3,
        'received',
        { ...good, packet_type: 'ack', flags: 'ACK', ack: 102, ack_rel: 2 },
        {
          frames: [{ frame_type: 'ack', acked_ranges: [[3, 4]] }],
        },
      ),
      { time: 4, name: 'recovery:congestion_state_updated', data: { old: null, new: X } },
      {
        time: 5,
        name: 'recovery:metrics_updated',
        data: {
          congestion_window: 2896,
          cwnd_packets: 2,
          ssthresh: -1,
          packets_in_flight: 1,
          smoothed_rtt: 3,
          latest_rtt: 3,
        },
      },
      { time: 6, name: 'lftp:transfer_failed', data: { code: X, message: X } },
      // Left out and counted: a field that is not what it should be.
      pkt(7, 'sent', { packet_type: X, flags: X, seq: X, ack: X, seq_rel: X, ack_rel: X, window: X }),
      pkt(8, 'sent', { ...good, packet_type: 'data', flags: 'ACK|DAT', seq_rel: '1' }),
      pkt(9, 'received', { ...good, packet_type: 'ack', flags: 'ACK' }, { frames: [{ acked_ranges: [[X, 4]] }] }),
      pkt(10, 'received', { ...good, packet_type: 'ack', flags: 'ACK' }, { frames: X }),
      pkt(11, 'sent', { ...good, packet_type: 'ack', flags: 'ACK' }, { raw: { length: X } }),
      { time: 12, name: 'recovery:packet_lost', data: { header: { packet_type: 'data', seq_rel: X } } },
      {
        time: 13,
        name: 'recovery:metrics_updated',
        data: {
          congestion_window: 2896,
          cwnd_packets: 2,
          ssthresh: -1,
          packets_in_flight: 1,
          smoothed_rtt: X,
          latest_rtt: '5',
        },
      },
      { time: 14, name: 'lftp:transfer_done', data: { size: X, elapsed_ms: '9', sha256: X } },
      { time: 15, name: 'transport:connection_state_updated', data: { new: { toString: X } } },
    ];
    const chatEvents = [
      { time: 0, name: 'chat:frame_received', data: { type: 'HELLO', nick: X } },
      { time: 1, name: 'chat:heartbeat_sent', data: { seq: 1 } },
      { time: 2, name: 'chat:heartbeat_answered', data: { seq: 1, rtt_ms: 1.5 } },
      { time: 3, name: 'chat:heartbeat_sent', data: { seq: 2 } },
      {
        time: 1100,
        name: 'chat:heartbeat_timeout',
        data: { timeout_ms: X, last_answer_ms_ago: 1098, server_stall_ms: X },
      },
      { time: 1101, name: 'chat:connection_closed', data: { how: X } },
      // Left out and counted.
      { time: 4, name: 'chat:heartbeat_sent', data: { seq: X } },
      { time: 5, name: 'chat:heartbeat_answered', data: { seq: 2, rtt_ms: '5' } },
    ];
    // A file name is shown too, and may hold markup (no '/').
    const lftpFile = join(work, `"'><img src=x onerror=window.__pwned=3>.sqlog`);
    writeFileSync(lftpFile, seq([header('server', ['LFTP'], {}), ...lftpEvents]));
    const chatFile = join(work, 'chat.sqlog');
    writeFileSync(chatFile, seq([header('server', ['chat'], { heartbeat_timeout_ms: X }), ...chatEvents]));
    const report = join(work, 'report.html');
    const p = new LineProcess('report', [CLIENT_JS, 'trace', 'report', lftpFile, chatFile, '-o', report]);
    p.endInput();
    expect(await p.exit(), p.errLines.join('\n')).toBe(0);
    expect(p.lines.at(-1)).toBe(`report: ${report} (1 transfer and 1 chat session from 2 files)`);

    // No markup of the trace's in the file: every <, >, " and ' of it escaped, nothing of it left raw.
    const html = readFileSync(report, 'utf8');
    expect(html).not.toMatch(/<img|<script|onerror="|<\/svg><|window\.__pwned=\d+>/i);
    expect(html).not.toContain(X);
    expect(html).toContain('&quot;&#39;&gt;&lt;/title&gt;&lt;/text&gt;&lt;/svg&gt;&lt;img src=x onerror=');
    expect(html).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-[A-Za-z0-9+/]+=*&#39;/,
    );

    browser ??= await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const page = await browser.newPage({ viewport: { width: 1050, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => problems.push(m.text()));
    await page.goto(`file://${report}`, { waitUntil: 'load' });
    await new Promise((res) => setTimeout(res, 300));
    const seen = await page.evaluate(() => ({
      title: document.title,
      pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null,
      // Elements the trace would have brought in, and any on* handler attribute anywhere.
      foreign: document.querySelectorAll('img, script, iframe, object, embed, foreignObject, svg svg').length,
      handlers: Array.from(document.querySelectorAll('*')).flatMap((el) =>
        Array.from(el.attributes)
          .filter((a) => a.name.startsWith('on'))
          .map((a) => `${el.tagName} ${a.name}`),
      ),
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? null,
      // The page's own <style> is allowed by its hash under that CSP.
      h1: getComputedStyle(document.querySelector('h1')!).fontSize,
      heading: document.querySelector('section.transfer h2')?.textContent ?? '',
      nick: document.querySelector('section.session table.summary td')?.textContent ?? '',
      arrows: Array.from(document.querySelectorAll('svg.ladder g.arrow')).map((g) => [
        g.getAttribute('data-flags'),
        g.getAttribute('data-seq'),
        g.getAttribute('data-ack'),
      ]),
      transferSummary: (document.querySelector('section.transfer table.summary') as HTMLElement).innerText,
      sessionSummary: (document.querySelector('section.session table.summary') as HTMLElement).innerText,
    }));
    expect(seen.title).toBe('Trace report');
    expect(seen.pwned).toBeNull();
    expect(seen.foreign).toBe(0);
    expect(seen.handlers).toEqual([]);
    expect(seen.csp).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; base-uri 'none'; form-action 'none'$/,
    );
    expect(seen.csp).not.toMatch(/script-src|unsafe-inline|unsafe-eval/);
    expect(seen.h1).toBe('22px');
    expect(problems).toEqual([]);
    // The trace's strings are shown as text, whole.
    expect(seen.heading).toBe(`1. ${X}`);
    expect(seen.nick).toBe(X);
    // Only well-formed datagrams are drawn, with numbers where numbers belong.
    expect(seen.arrows).toEqual([
      [X, '0', '0'],
      ['ACK', '0', '2'],
    ]);
    expect(seen.transferSummary).toMatch(/malformed events left out\s+9/);
    expect(seen.transferSummary).toContain(`failed: ${X}: ${X}`);
    expect(seen.sessionSummary).toMatch(/heartbeats sent \/ answered\s+2 \/ 1[\s\S]*malformed events left out\s+2/);
  }, 60_000);

  it('bad input: a file that is not a qlog trace, no files, no -o: a clear error, exit 2', async () => {
    const work = tempDir('qlog-bad');
    writeFileSync(join(work, 'not.sqlog'), '{"hello":1}\n');
    const head = '\x1e{"qlog_format":"JSON-SEQ","trace":{"vantage_point":{"type":"client"}}}\n';
    writeFileSync(join(work, 'null-header.sqlog'), '\x1enull\n');
    writeFileSync(join(work, 'null-event.sqlog'), `${head}\x1enull\n\x1e{"time":1,"name":"x","data":{}}\n`);
    writeFileSync(join(work, 'string-time.sqlog'), `${head}\x1e{"time":"1","name":"x","data":{}}\n\x1e{}\n`);
    writeFileSync(
      join(work, 'string-reference.sqlog'),
      '\x1e{"qlog_format":"JSON-SEQ","trace":{"vantage_point":{"type":"client"},"common_fields":{"reference_time":"<b>"}}}\n',
    );
    for (const [args, text] of [
      [['report', join(work, 'not.sqlog'), '-o', join(work, 'r.html')], 'is not a qlog trace'],
      [['report', join(work, 'null-header.sqlog'), '-o', join(work, 'r.html')], 'is not a qlog trace'],
      [['report', join(work, 'null-event.sqlog'), '-o', join(work, 'r.html')], 'record 2 is not a qlog event'],
      [['report', join(work, 'string-time.sqlog'), '-o', join(work, 'r.html')], 'record 2 is not a qlog event'],
      [['report', join(work, 'string-reference.sqlog'), '-o', join(work, 'r.html')], 'reference_time is not a number'],
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
