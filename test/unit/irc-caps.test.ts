import { describe, expect, it } from 'vitest';
import { CapNegotiation, type Capability, offeredCapabilities } from '../../server/irc/caps.js';
import { MAX_BODY_BYTES, parseLine, serialize } from '../../server/irc/message.js';

const all = offeredCapabilities({ accounts: true, history: true });
const cap = (c: CapNegotiation, line: string, me = '*', registered = false) =>
  c.handle(parseLine(line).params, me, registered).map(serialize);

describe('CAP negotiation', () => {
  it('offers what the issue names; sasl only with accounts, chathistory only with history', () => {
    expect([...all.keys()]).toEqual([
      'message-tags',
      'server-time',
      'echo-message',
      'batch',
      'labeled-response',
      'sasl',
      'away-notify',
      'account-tag',
      'draft/chathistory',
      'cap-notify',
    ]);
    expect([...offeredCapabilities({ accounts: false, history: false }).keys()]).not.toContain('sasl');
    expect([...offeredCapabilities({ accounts: false, history: false }).keys()]).not.toContain('draft/chathistory');
  });

  it('LS 302 shows values and turns cap-notify on; LS without a version shows names only', () => {
    const c = new CapNegotiation('irc.chat', all);
    expect(cap(c, 'CAP LS 302')).toEqual([
      ':irc.chat CAP * LS :message-tags server-time echo-message batch labeled-response sasl=PLAIN away-notify account-tag draft/chathistory cap-notify',
    ]);
    expect(c.negotiating).toBe(true);
    expect(c.has('cap-notify')).toBe(true);
    const old = new CapNegotiation('irc.chat', all);
    expect(cap(old, 'CAP LS')[0]).toContain(' sasl ');
    expect(old.version).toBe(301);
    expect(old.has('cap-notify')).toBe(false);
  });

  it('a long LS goes on several lines, each but the last marked *, each within 512 bytes', () => {
    const many = new Map<Capability, string>();
    for (let i = 0; i < 60; i++) many.set(`vendor.example/cap-number-${i}` as Capability, i % 2 ? 'some,value' : '');
    const c = new CapNegotiation('irc.chat', many);
    const out = cap(c, 'CAP LS 302');
    expect(out.length).toBeGreaterThan(2);
    out.slice(0, -1).forEach((l) => expect(l).toMatch(/^:irc\.chat CAP \* LS \* :/));
    expect(out.at(-1)).toMatch(/^:irc\.chat CAP \* LS :/);
    for (const l of out) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    const names = out.flatMap((l) => parseLine(l).params.at(-1)!.split(' '));
    expect(names).toHaveLength(60);
  });

  it('REQ is all or nothing, ACK echoes the list, - turns one off, LIST shows what is on', () => {
    const c = new CapNegotiation('irc.chat', all);
    cap(c, 'CAP LS 302');
    expect(cap(c, 'CAP REQ :server-time message-tags echo-message')).toEqual([
      ':irc.chat CAP * ACK :server-time message-tags echo-message',
    ]);
    expect(cap(c, 'CAP REQ :batch no-such-cap')).toEqual([':irc.chat CAP * NAK :batch no-such-cap']);
    expect(c.has('batch')).toBe(false);
    expect(cap(c, 'CAP REQ :sasl=PLAIN')).toEqual([':irc.chat CAP * NAK :sasl=PLAIN']);
    expect(cap(c, 'CAP REQ -echo-message')).toEqual([':irc.chat CAP * ACK :-echo-message']);
    expect(cap(c, 'CAP REQ :-cap-notify')).toEqual([':irc.chat CAP * NAK :-cap-notify']);
    expect(cap(c, 'CAP REQ :')).toEqual([':irc.chat CAP * NAK :']);
    expect(cap(c, 'CAP LIST')).toEqual([':irc.chat CAP * LIST :cap-notify server-time message-tags']);
  });

  it('holds registration from LS or REQ to END, and not after registration', () => {
    const c = new CapNegotiation('irc.chat', all);
    cap(c, 'CAP REQ :sasl');
    expect(c.negotiating).toBe(true);
    expect(cap(c, 'CAP END')).toEqual([]);
    expect(c.negotiating).toBe(false);
    const late = new CapNegotiation('irc.chat', all);
    expect(cap(late, 'CAP LS 302', 'bob', true)[0]).toMatch(/^:irc\.chat CAP bob LS :/);
    expect(late.negotiating).toBe(false);
  });

  it('refuses an unknown subcommand (410) and a CAP without one (461)', () => {
    const c = new CapNegotiation('irc.chat', all);
    expect(cap(c, 'CAP FOO')).toEqual([':irc.chat 410 * FOO :Invalid CAP command']);
    expect(cap(c, 'CAP')).toEqual([':irc.chat 461 * CAP :Not enough parameters']);
  });

  it('CAP NEW and DEL reach only clients with cap-notify', () => {
    const c = new CapNegotiation('irc.chat', all);
    expect(c.notify('bob', 'DEL', ['sasl'])).toBeNull();
    cap(c, 'CAP LS 302');
    cap(c, 'CAP REQ sasl');
    expect(serialize(c.notify('bob', 'DEL', ['sasl'])!)).toBe(':irc.chat CAP bob DEL :sasl');
    expect(c.has('sasl')).toBe(false);
  });
});
