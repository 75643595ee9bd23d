import { describe, expect, it } from 'vitest';
import { AddressTable } from '../../server/shm/address-table.js';
import { Admission, DEFAULT_ADMISSION, trustList } from '../../server/chat/admission.js';

describe('the address table', () => {
  it('counts per address across workers, refuses past the limit, and gives back what a dead worker held', async () => {
    const t = AddressTable.create(64, 2);
    const other = new AddressTable(t.buffer); // another worker's view of the same memory
    expect(t.acquire('10.0.0.1', 'session', 0, 3)).toBe(true);
    expect(other.acquire('10.0.0.1', 'session', 1, 3)).toBe(true);
    expect(other.acquire('::ffff:10.0.0.1', 'session', 1, 3)).toBe(true); // the same address, dual-stack form
    expect(t.acquire('10.0.0.1', 'session', 0, 3)).toBe(false);
    expect(t.acquire('10.0.0.2', 'session', 0, 3)).toBe(true);
    expect(t.acquire('10.0.0.1', 'http', 0, 3)).toBe(true); // kinds are counted apart
    expect(t.count('10.0.0.1', 'session')).toBe(3);
    await t.releaseWorker(1);
    expect(t.count('10.0.0.1', 'session')).toBe(1);
    t.release('10.0.0.1', 'session', 0);
    t.release('10.0.0.1', 'session', 0); // never below zero
    expect(t.count('10.0.0.1', 'session')).toBe(0);
  });

  it('reuses the places of addresses that left: many more addresses over time than it holds at once', () => {
    const t = AddressTable.create(64, 1);
    for (let round = 0; round < 50; round++) {
      const addrs = Array.from({ length: 40 }, (_, i) => `fd00::${round}:${i}`);
      for (const a of addrs) expect(t.acquire(a, 'pending', 0, 1)).toBe(true);
      for (const a of addrs) t.release(a, 'pending', 0);
    }
    expect(t.count('fd00::49:39', 'pending')).toBe(0);
  });
});

describe('--trusted', () => {
  it('exempts loopback, addresses and subnets from the limits, and refuses what is none of them', () => {
    const a = new Admission(AddressTable.create(64, 1), 0, {
      ...DEFAULT_ADMISSION,
      maxSessionsPerAddress: 1,
      trusted: trustList('loopback, 10.1.0.0/16,fd00::7'),
    });
    for (const addr of ['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1', '10.1.200.3', 'fd00::7'])
      expect(a.isTrusted(addr)).toBe(true);
    for (const addr of ['10.2.0.1', '192.168.1.5', 'fd00::8']) expect(a.isTrusted(addr)).toBe(false);
    expect(a.enter('127.0.0.1', 'session') && a.enter('127.0.0.1', 'session')).toBe(true);
    expect(a.enter('10.2.0.1', 'session')).toBe(true);
    expect(a.enter('10.2.0.1', 'session')).toBe(false);
    for (const bad of ['localhost', '10.0.0.0/33', '1.2.3.4/8/1', 'fd00::/200', '300.1.1.1'])
      expect(() => trustList(bad)).toThrowError(/--trusted/);
  });
});
