import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Sha256 } from '../../common/sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const node = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('Sha256 fed a piece at a time (the page hashes big files with it)', () => {
  it('gives node:crypto’s digest for every length around the block and padding edges', () => {
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096 + 17]) {
      const data = randomBytes(n);
      expect(hex(new Sha256().update(data).digest()), `${n} bytes`).toBe(node(data));
    }
    expect(hex(new Sha256().update(new TextEncoder().encode('abc')).digest())).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('is the same however the input is cut into pieces', () => {
    const data = randomBytes(200_003);
    for (const piece of [1, 7, 63, 64, 65, 1000, 65_536]) {
      const h = new Sha256();
      for (let at = 0; at < data.length; at += piece) h.update(data.subarray(at, at + piece));
      expect(hex(h.digest()), `pieces of ${piece}`).toBe(node(data));
    }
  });

  it('takes nothing after its digest', () => {
    const h = new Sha256();
    h.digest();
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
    expect(() => h.digest()).toThrow(/twice/);
  });
});
