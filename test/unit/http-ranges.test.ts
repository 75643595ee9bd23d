import { describe, expect, it } from 'vitest';
import { planRange, strongEtag, type Validators } from '../../server/web/http-ranges.js';

const v: Validators = {
  etag: '"abc"',
  lastModified: 'Mon, 07 Dec 2026 09:00:00 GMT',
  mtimeMs: Date.UTC(2026, 11, 7, 9),
};
const now = v.mtimeMs + 60_000;

describe('planRange (RFC 9110 §14)', () => {
  it('one range, open-ended, suffix, clipped to the end', () => {
    expect(planRange(undefined, undefined, 100, v, now)).toEqual({ kind: 'whole' });
    expect(planRange('bytes=0-9', undefined, 100, v, now)).toEqual({ kind: 'part', start: 0, end: 9 });
    expect(planRange('bytes=90-', undefined, 100, v, now)).toEqual({ kind: 'part', start: 90, end: 99 });
    expect(planRange('bytes=-5', undefined, 100, v, now)).toEqual({ kind: 'part', start: 95, end: 99 });
    expect(planRange('bytes=-500', undefined, 100, v, now)).toEqual({ kind: 'part', start: 0, end: 99 });
    expect(planRange('bytes=50-5000', undefined, 100, v, now)).toEqual({ kind: 'part', start: 50, end: 99 });
  });

  it('past the end is unsatisfiable; what does not parse, several ranges, other units: the whole file', () => {
    expect(planRange('bytes=100-', undefined, 100, v, now)).toEqual({ kind: 'unsatisfiable' });
    expect(planRange('bytes=-0', undefined, 100, v, now)).toEqual({ kind: 'unsatisfiable' });
    expect(planRange('bytes=0-', undefined, 0, v, now)).toEqual({ kind: 'unsatisfiable' });
    for (const r of ['bytes=5-1', 'bytes=0-1,5-6', 'items=0-1', 'bytes=x-', 'bytes=-', 'bytes=99999999999999999-'])
      expect(planRange(r, undefined, 100, v, now)).toEqual({ kind: 'whole' });
  });

  it('If-Range: the same strong tag or an old enough date gives the part; anything else the whole file', () => {
    expect(planRange('bytes=10-', '"abc"', 100, v, now).kind).toBe('part');
    expect(planRange('bytes=10-', '"abd"', 100, v, now).kind).toBe('whole');
    expect(planRange('bytes=10-', 'W/"abc"', 100, v, now).kind).toBe('whole');
    expect(planRange('bytes=10-', v.lastModified, 100, v, now).kind).toBe('part');
    // A date within a second of the file's change is not a strong validator.
    expect(planRange('bytes=10-', v.lastModified, 100, v, v.mtimeMs + 500).kind).toBe('whole');
    expect(planRange('bytes=10-', 'Mon, 07 Dec 2026 08:00:00 GMT', 100, v, now).kind).toBe('whole');
  });

  it('the tag changes with any of inode, size, mtime, ctime', () => {
    const st = { ino: 1n, size: 2n, mtimeNs: 3n, ctimeNs: 4n };
    const base = strongEtag(st);
    expect(base).toMatch(/^"[0-9a-z-]+"$/);
    for (const k of ['ino', 'size', 'mtimeNs', 'ctimeNs'] as const)
      expect(strongEtag({ ...st, [k]: 9n })).not.toBe(base);
  });
});
