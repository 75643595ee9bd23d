import { describe, expect, it } from 'vitest';
import { hasUnsafeControls, neutralizeControls } from '../../common/unicode/text-policy.js';
import { formatBytes, parseDuration, parseSize } from '../../common/units.js';
import { progressBar, progressLine } from '../../client/progress.js';
import { formatRate } from '../../common/units.js';

describe('terminal safety', () => {
  it('neutralises ESC, other C0, DEL, C1 and bidi overrides, keeps tab and ordinary text', () => {
    const evil = 'a\x1b[31mred\x1b[0m\x07\r\nb\x7f\x9b2J\u202eevil\ttab ✓ 日本';
    const safe = neutralizeControls(evil);
    expect(hasUnsafeControls(safe)).toBe(false);
    expect(safe).toBe('a␛[31mred␛[0m␇␍␊b␡\ufffd2J\ufffdevil\ttab ✓ 日本');
    expect(hasUnsafeControls(evil)).toBe(true);
  });
});

describe('option values', () => {
  it('parses durations', () => {
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('5s', 'x')).toBe(5000);
    expect(parseDuration('1.5s', 'x')).toBe(1500);
    expect(parseDuration('2m', 'x')).toBe(120_000);
    // A bare number once meant milliseconds: --heartbeat-interval 5 was 5 ms. Now it needs its unit.
    expect(() => parseDuration('5', '--heartbeat-interval')).toThrowError(
      '--heartbeat-interval: "5" needs a unit: 5ms or 5s',
    );
    for (const bad of ['', '5x', '-1s', '0s', 's']) expect(() => parseDuration(bad, '--t')).toThrowError(/--t/);
  });
  it('prints sizes and rates in whole bytes below a KiB', () => {
    expect(formatBytes(923.0769230769231)).toBe('923 B');
    expect(formatRate(12_000, 13_000)).toBe('923 B/s');
    expect(formatBytes(1536)).toBe('1.50 KiB');
  });
  it('parses sizes', () => {
    expect(parseSize('64KiB', 'x')).toBe(65536);
    expect(parseSize('1m', 'x')).toBe(1 << 20);
    expect(parseSize('4GiB', 'x')).toBe(4 * 2 ** 30);
    expect(() => parseSize('lots', '--max-frame')).toThrowError(/--max-frame/);
  });
});

describe('progress of a resumed transfer', () => {
  it('counts the held bytes in the bar, not in the rate or the time left', () => {
    // 60 MiB held, 20 MiB moved in 10 s: 2 MiB/s, 20 MiB to go, 10 s (not 8 MiB/s and 2.5 s).
    const s = { bytes: 80 << 20, total: 100 << 20, elapsedMs: 10_000, from: 60 << 20 };
    expect(progressLine('f', s)).toBe('f: 80.0% of 100.0 MiB, 2.00 MiB/s, ETA 10s');
    expect(progressBar('f', s, 10)).toBe('f [########--]  80% 80.0 MiB/100.0 MiB 2.00 MiB/s ETA 10s');
  });
});
