/**
 * `chat-client trace report` on what a big transfer leaves behind, and on
 * one side's trace (issue 33, items 5 and 6): a 420,000-event, 100 MB trace
 * is reported with exit 0, in bounded memory (the process's own peak RSS,
 * read at its exit) and a bounded picture; one side's trace draws no
 * datagram as lost (it cannot know) but as of unknown delivery, and in
 * chromium no label of the ladder crosses an arrow or another label.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CLIENT_JS, LineProcess, ROOT, tempDir } from '../helpers/processes.js';
import { writeBigQlog } from '../helpers/big-qlog.js';

/** The report's peak resident memory may not pass this, whatever the trace's size (a 100 MB trace took 500 MB). */
const RSS_BOUND_MB = 256;

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
});

/** Runs the report with a hook that writes the process's peak RSS (KiB) into a file as it exits. */
async function report(work: string, files: string[]): Promise<{ html: string; out: string; rssMb: number }> {
  const hook = join(work, 'peak-rss.mjs');
  const rssFile = join(work, 'peak-rss.txt');
  writeFileSync(
    hook,
    "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const out = join(work, 'report.html');
  const p = new LineProcess(
    'report',
    ['--import', pathToFileURL(hook).href, CLIENT_JS, 'trace', 'report', ...files, '-o', out],
    { env: { PEAK_RSS_FILE: rssFile } },
  );
  p.endInput();
  const code = await p.exit(60_000);
  expect(code, p.errLines.join('\n')).toBe(0);
  return {
    html: readFileSync(out, 'utf8'),
    out: p.lines.join('\n'),
    rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024,
  };
}

/** The report's (first) summary table. */
function summaryOf(html: string): string {
  return /<table class="summary">.*?<\/table>/s.exec(html)?.[0] ?? '(no summary)';
}

describe('trace report: big traces, one side', () => {
  it(`a 420,000-event (100 MB) sender trace: exit 0, a bounded picture, peak RSS under ${RSS_BOUND_MB} MB`, async () => {
    const work = tempDir('qlog-big');
    const file = join(work, 'big-client.sqlog');
    const written = writeBigQlog(file, 140_000);
    expect(written.events).toBeGreaterThan(400_000);
    expect(written.bytes).toBeGreaterThan(100e6);
    let r: Awaited<ReturnType<typeof report>>;
    try {
      r = await report(work, [file]);
    } finally {
      rmSync(file, { force: true });
    }
    expect(r.out).toContain('(1 transfer from 1 file)');
    expect(r.rssMb).toBeLessThan(RSS_BOUND_MB);
    // Every event counted: the summary is of the whole transfer, though the charts are of pixel columns.
    expect(summaryOf(r.html)).toContain('<th>datagrams the client sent</th><td>140032 (140027 data)</td>');
    expect(summaryOf(r.html)).toContain('<th>packets declared lost</th><td>27</td>');
    expect(summaryOf(r.html)).toContain('<th>retransmissions</th><td>28</td>');
    expect(summaryOf(r.html)).toMatch(
      /<th>RTT min \/ avg \/ p99 \(ms\)<\/th><td>0\.50 \/ 0\.56 \/ 0\.62 \(140000 samples\)<\/td>/,
    );
    // Bounded markup: elements and path commands by the chart's pixels and the ladder's rows, not by events.
    const elements = r.html.match(/<(path|line|text|rect|g)\b/g) ?? [];
    expect(elements.length).toBeLessThan(1000);
    const commands = [...r.html.matchAll(/ d="([^"]*)"/g)].reduce(
      (n, m) => n + (m[1]!.match(/[A-Za-z]/g)?.length ?? 0),
      0,
    );
    expect(commands).toBeLessThan(40_000);
    expect(r.html.length).toBeLessThan(1_000_000);
    // The ladder: the handshake and the teardown, the data between them one counted row.
    expect(/<svg class="ladder".*?<\/svg>/s.exec(r.html)?.[0]).toContain(
      '⋮ 140026 data packets and 139999 ACKs (the time-sequence graph below shows them) ⋮',
    );
  }, 60_000);

  it("one side's trace: what it sent is of unknown delivery, never '✕ lost'; no ladder label crosses an arrow or a label", async () => {
    const work = tempDir('qlog-one-side');
    const file = join(work, 'client.sqlog');
    writeBigQlog(file, 300, 100);
    const r = await report(work, [file]);
    // Each arrow's class and the lifeline it starts from (x 260: the client's).
    const arrows = [
      ...r.html.matchAll(
        /<g class="arrow ([^"]*)" data-flags="([^"]*)"[^>]*>(?:<title>[^<]*<\/title>)?<line x1="(\d+)"/g,
      ),
    ].map((m) => ({ cls: m[1]!, flags: m[2]!, byClient: m[3] === '260' }));
    expect(arrows.filter((a) => /\blost\b/.test(a.cls))).toEqual([]);
    expect(r.html).not.toContain('✕');
    // Sent by the client: SYN twice, the handshake's ACK, END, the last ACK; received: SYN|ACK, an ACK, FIN.
    expect(arrows.map((a) => a.flags)).toEqual([
      'SYN|POST',
      'SYN|POST',
      'SYN|ACK',
      'ACK',
      'ACK',
      'ACK|END',
      'ACK|FIN',
      'ACK',
    ]);
    expect(arrows.filter((a) => a.byClient).map((a) => a.cls)).toEqual([
      'unknown syn',
      'retx unknown syn',
      'unknown ack',
      'unknown end',
      'unknown ack',
    ]);
    expect(arrows.filter((a) => !a.byClient).map((a) => a.cls)).toEqual(['syn_ack', 'ack', 'fin']);
    expect(summaryOf(r.html)).toContain(
      '<th>datagrams sent and never received</th><td>needs both sides&#39; traces</td>',
    );

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const page = await browser.newPage({ viewport: { width: 1050, height: 900 } });
    await page.goto(`file://${join(work, 'report.html')}`);
    const crossings = await page.evaluate(ladderCrossings);
    mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test/artifacts/trace-report-one-side.png'), fullPage: true });
    expect(crossings.checked).toBeGreaterThan(20);
    expect(crossings.found).toEqual([]);
  }, 60_000);

  it("both sides' traces: a SYN-ACK and a FIN that never arrived end in '✕ lost', the rest arrive; no label crosses", async () => {
    const work = tempDir('qlog-two-sides');
    const C = 1000;
    const S = 5000;
    const pkt = (
      time: number,
      dir: 'sent' | 'received',
      type: string,
      flags: string,
      seq: number,
      ack: number,
      rel: number[],
    ) => ({
      time,
      name: `transport:packet_${dir}`,
      data: {
        header: { packet_type: type, flags, seq, ack, seq_rel: rel[0], ack_rel: rel[1], window: 2048 },
        raw: { length: 24 },
      },
    });
    const state = (time: number, name: string) => ({
      time,
      name: 'transport:connection_state_updated',
      data: { new: name },
    });
    const client = [
      state(0, 'SYN_SENT'),
      pkt(0, 'sent', 'syn', 'SYN', C, 0, [0, 0]),
      pkt(1000, 'sent', 'syn', 'SYN', C, 0, [0, 0]),
      pkt(1010, 'received', 'syn_ack', 'SYN|ACK', S, C + 1, [0, 1]),
      pkt(1011, 'sent', 'ack', 'ACK', C + 1, S + 1, [1, 1]),
      state(1011, 'ESTABLISHED'),
      pkt(2001, 'received', 'end', 'ACK|END', S + 1, C + 1, [1, 1]),
      pkt(2002, 'sent', 'fin', 'ACK|FIN', C + 1, S + 2, [1, 2]),
      state(2002, 'FIN_WAIT'),
      pkt(2600, 'sent', 'fin', 'ACK|FIN', C + 1, S + 2, [1, 2]),
      pkt(2611, 'received', 'ack', 'ACK', S + 2, C + 2, [2, 2]),
      state(2611, 'CLOSED'),
    ];
    const server = [
      pkt(1, 'received', 'syn', 'SYN', C, 0, [0, 0]),
      pkt(2, 'sent', 'syn_ack', 'SYN|ACK', S, C + 1, [0, 1]),
      state(2, 'SYN_RCVD'),
      pkt(1001, 'received', 'syn', 'SYN', C, 0, [0, 0]),
      pkt(1002, 'sent', 'syn_ack', 'SYN|ACK', S, C + 1, [0, 1]),
      pkt(1012, 'received', 'ack', 'ACK', C + 1, S + 1, [1, 1]),
      state(1012, 'ESTABLISHED'),
      pkt(2000, 'sent', 'end', 'ACK|END', S + 1, C + 1, [1, 1]),
      pkt(2601, 'received', 'fin', 'ACK|FIN', C + 1, S + 2, [1, 2]),
      pkt(2610, 'sent', 'ack', 'ACK', S + 2, C + 2, [2, 2]),
      state(2610, 'CLOSED'),
    ];
    const files = (['client', 'server'] as const).map((side) => {
      const f = join(work, `${side}.sqlog`);
      const header = {
        qlog_format: 'JSON-SEQ',
        title: `lftp ${side}`,
        trace: {
          vantage_point: { type: side },
          common_fields: { group_id: 'ab12cd34', reference_time: 1_700_000_000_000 },
        },
      };
      writeFileSync(
        f,
        [header, ...(side === 'client' ? client : server)].map((r) => `\x1e${JSON.stringify(r)}\n`).join(''),
      );
      return f;
    });
    const r = await report(work, files);
    const arrows = [...r.html.matchAll(/<g class="arrow ([^"]*)" data-flags="([^"]*)"/g)].map((m) => `${m[2]} ${m[1]}`);
    expect(arrows).toEqual([
      'SYN syn',
      'SYN|ACK lost syn_ack',
      'SYN retx syn',
      'SYN|ACK retx syn_ack',
      'ACK ack',
      'ACK|END end',
      'ACK|FIN lost fin',
      'ACK|FIN retx fin',
      'ACK ack',
    ]);
    expect(r.html.match(/<text class="cross"[^>]*>✕<\/text>/g)).toHaveLength(2);
    expect(summaryOf(r.html)).toContain('<th>datagrams sent and never received</th><td>2</td>');
    browser ??= await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const page = await browser.newPage({ viewport: { width: 1050, height: 900 } });
    await page.goto(`file://${join(work, 'report.html')}`);
    const crossings = await page.evaluate(ladderCrossings);
    await page.screenshot({ path: join(ROOT, 'test/artifacts/trace-report-two-sides.png'), fullPage: true });
    expect(crossings.checked).toBeGreaterThan(20);
    expect(crossings.found).toEqual([]);
  }, 60_000);
});

/**
 * In the page: every text of the ladder as the quadrilateral it covers (its box, turned as it is drawn), and
 * every arrow's line; the pairs that overlap (separating-axis test), text with line and text with text.
 */
function ladderCrossings(): { checked: number; found: string[] } {
  type Pt = [number, number];
  const svg = document.querySelector('svg.ladder') as SVGSVGElement;
  const texts = Array.from(svg.querySelectorAll('text')).map((t) => {
    const b = t.getBBox();
    const m = t.getCTM()!;
    const inset = 0.5;
    const corners: Pt[] = [
      [b.x + inset, b.y + inset],
      [b.x + b.width - inset, b.y + inset],
      [b.x + b.width - inset, b.y + b.height - inset],
      [b.x + inset, b.y + b.height - inset],
    ];
    return {
      name: `text "${t.textContent}"`,
      pts: corners.map(([x, y]) => {
        const p = new DOMPoint(x, y).matrixTransform(m);
        return [p.x, p.y] as Pt;
      }),
    };
  });
  const lines = Array.from(svg.querySelectorAll('g.arrow line')).map((l) => {
    const e = l as SVGLineElement;
    const label = e.parentElement?.getAttribute('data-flags') ?? '';
    return {
      name: `the ${label} arrow at y ${e.y1.baseVal.value}`,
      pts: [
        [e.x1.baseVal.value, e.y1.baseVal.value],
        [e.x2.baseVal.value, e.y2.baseVal.value],
      ] as Pt[],
    };
  });
  const axes = (pts: Pt[]): Pt[] =>
    pts.map((p, i) => {
      const q = pts[(i + 1) % pts.length]!;
      return [q[1] - p[1], p[0] - q[0]];
    });
  const overlap = (a: Pt[], b: Pt[]): boolean =>
    [...axes(a), ...axes(b)].every(([ax, ay]) => {
      const project = (pts: Pt[]) => pts.map(([x, y]) => x * ax + y * ay);
      const [pa, pb] = [project(a), project(b)];
      return Math.max(...pa) > Math.min(...pb) && Math.max(...pb) > Math.min(...pa);
    });
  const found: string[] = [];
  let checked = 0;
  texts.forEach((t, i) => {
    for (const other of [...lines, ...texts.slice(i + 1)]) {
      checked++;
      if (overlap(t.pts, other.pts)) found.push(`${t.name} crosses ${other.name}`);
    }
  });
  return { checked, found };
}
