/**
 * The start-up lines' web URLs (server/process/listening-lines.ts, issue 33
 * item 7): a wildcard address is no URL (http://0.0.0.0:9001/ answered 421);
 * what is printed is localhost, this machine's addresses and its host name,
 * each a name the web side answers to (server/web/host-check.ts).
 */
import { describe, expect, it } from 'vitest';
import { listeningLines, webUrls, type Machine } from '../../server/process/listening-lines.js';
import { HostAllowList } from '../../server/web/host-check.js';

const MACHINE: Machine = {
  hostname: 'chatbox',
  interfaces: {
    lo: [
      { address: '127.0.0.1', family: 'IPv4', internal: true },
      { address: '::1', family: 'IPv6', internal: true },
    ],
    eth0: [
      { address: '192.168.1.5', family: 'IPv4', internal: false },
      { address: 'fe80::5%eth0', family: 'IPv6', internal: false },
      { address: '2001:db8::5', family: 'IPv6', internal: false },
    ],
    wlan0: [{ address: '10.0.0.7', family: 4, internal: false }],
  },
};

const listening = (host: string, tls: boolean) => ({
  host,
  workers: 2,
  port: 9000,
  lftpPort: 9000,
  httpPort: 9001,
  tlsLine: tls ? 'tls: a certificate' : null,
  filesDir: 'files',
  admin: true,
});

describe('the start-up lines', () => {
  it('listening on 0.0.0.0 (the default): localhost, the IPv4 addresses and the host name; never 0.0.0.0', () => {
    const lines = listeningLines(listening('0.0.0.0', true), MACHINE);
    expect(lines.at(-1)).toBe(
      'web on https://localhost:9001/, https://192.168.1.5:9001/, https://10.0.0.7:9001/, https://chatbox:9001/ (chat page; dashboard at /admin)',
    );
    expect(lines.join('\n')).not.toMatch(/https?:\/\/0\.0\.0\.0/);
  });

  it('listening on ::: IPv6 addresses too, in brackets, but no link-local one (its zone cannot be in a URL)', () => {
    expect(webUrls('::', 9001, false, '/', MACHINE)).toEqual([
      'http://localhost:9001/',
      'http://192.168.1.5:9001/',
      'http://[2001:db8::5]:9001/',
      'http://10.0.0.7:9001/',
      'http://chatbox:9001/',
    ]);
  });

  it('a loopback address: itself and localhost; another address or a name: itself', () => {
    expect(webUrls('127.0.0.1', 9001, false, '/', MACHINE)).toEqual([
      'http://127.0.0.1:9001/',
      'http://localhost:9001/',
    ]);
    expect(webUrls('::1', 9001, true, '/admin', MACHINE)).toEqual([
      'https://[::1]:9001/admin',
      'https://localhost:9001/admin',
    ]);
    expect(webUrls('192.168.1.5', 9001, false, '/', MACHINE)).toEqual(['http://192.168.1.5:9001/']);
    expect(webUrls('chat.example', 9001, false, '/', MACHINE)).toEqual(['http://chat.example:9001/']);
  });

  it('on this machine, every URL printed for 0.0.0.0, :: and 127.0.0.1 names a host the web side answers to', () => {
    for (const host of ['0.0.0.0', '::', '127.0.0.1', '::1']) {
      const allowed = HostAllowList.forListenAddress(host);
      const urls = webUrls(host, 9001, false);
      expect(urls.length).toBeGreaterThan(0);
      for (const u of urls) expect(allowed.allows(new URL(u).host), `${host}: ${u}`).toBe(true);
    }
  });
});
