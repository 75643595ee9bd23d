/** What one answer from the history carries: at most ANSWER_MAX_TEXT bytes of text, at least one entry, from the end asked for. */
import { describe, expect, it } from 'vitest';
import { ANSWER_MAX_TEXT, answerWithin } from '../../server/store/history-frames.js';
import type { StoredEntry } from '../../server/store/history.js';

const entry = (id: number, bytes: number): StoredEntry => ({
  conv: 'room:#lobby',
  id,
  ts: id,
  from: 'x',
  text: 'é'.repeat(bytes / 2), // two bytes each in UTF-8: bytes, not characters, are counted
  kind: 'say',
});

describe('answerWithin', () => {
  it('keeps everything that fits, in id order', () => {
    const entries = [entry(1, 100), entry(2, 100)];
    expect(answerWithin(entries, 'newest', 200)).toEqual({ kept: entries, cut: false });
    expect(answerWithin(entries, 'oldest', 200)).toEqual({ kept: entries, cut: false });
  });

  it('past the bound, the newest (paging back) or the oldest (paging forward) that fit, and says some were cut', () => {
    const entries = [1, 2, 3, 4].map((id) => entry(id, 100));
    expect(answerWithin(entries, 'newest', 250)).toEqual({ kept: entries.slice(2), cut: true });
    expect(answerWithin(entries, 'oldest', 250)).toEqual({ kept: entries.slice(0, 2), cut: true });
  });

  it('always one entry, however large; 200 of the largest at the default --max-frame fit the default bound', () => {
    expect(answerWithin([entry(1, 1000), entry(2, 1000)], 'newest', 10).kept.map((e) => e.id)).toEqual([2]);
    const page = Array.from({ length: 200 }, (_, i) => entry(i + 1, 32_512));
    expect(answerWithin(page, 'newest')).toEqual({ kept: page, cut: false });
    expect(ANSWER_MAX_TEXT).toBe(8 * 1024 * 1024);
  });
});
