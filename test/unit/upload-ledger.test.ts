/** The per-user upload quota: reservations across threads' views of one buffer, given back when an upload is not stored. */
import { describe, expect, it } from 'vitest';
import { UploadLedger } from '../../server/shm/upload-ledger.js';

describe('UploadLedger', () => {
  it('holds a user to the quota, whatever the case of the nick, on every view of the buffer', () => {
    const a = UploadLedger.create(64);
    const b = new UploadLedger(a.buffer);
    const first = a.reserve('Alice', 600, 1000);
    expect(first.ok).toBe(true);
    const second = b.reserve('alice', 600, 1000);
    expect(second).toEqual({ ok: false, used: 600, full: false });
    expect(b.reserve('bob', 600, 1000).ok).toBe(true);
    if (first.ok) {
      first.release();
      first.release(); // twice is once
    }
    expect(b.used('ALICE')).toBe(0);
    expect(b.reserve('alice', 1000, 1000).ok).toBe(true);
  });

  it('refuses new users when full instead of forgetting old ones', () => {
    const l = UploadLedger.create(64);
    let full = 0;
    for (let i = 0; i < 100; i++) {
      const r = l.reserve(`user${i}`, 1, 10);
      if (!r.ok) {
        expect(r.full).toBe(true);
        full++;
      }
    }
    expect(full).toBe(36);
    expect(l.used('user0')).toBe(1);
  });
});
