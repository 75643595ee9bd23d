/** chat-client's --host and --port (client/options.ts): one server or several (a cluster's nodes), with the reasons for what is refused. */
import { describe, expect, it } from 'vitest';
import { parseClientArgs } from '../../client/options.js';

const servers = (...args: string[]) => {
  const r = parseClientArgs([...args, '--no-tls'], {});
  if (!('options' in r)) throw new Error('no options');
  return { servers: r.options.servers, first: { host: r.options.host, port: r.options.port } };
};

describe('chat-client --host', () => {
  it('one server by default; --host with or without its port; several in the order given', () => {
    expect(servers().servers).toEqual([{ host: '127.0.0.1', port: 9000 }]);
    expect(servers('--host', 'chat.lan', '--port', '7000').servers).toEqual([{ host: 'chat.lan', port: 7000 }]);
    const three = servers('--host', '10.0.0.1:9000', '--host', 'b.lan', '--host', '[::1]:9100', '--port', '9010');
    expect(three.servers).toEqual([
      { host: '10.0.0.1', port: 9000 },
      { host: 'b.lan', port: 9010 },
      { host: '::1', port: 9100 },
    ]);
    expect(three.first).toEqual({ host: '10.0.0.1', port: 9000 });
    expect(servers('--host', '[fe80::1]').servers).toEqual([{ host: 'fe80::1', port: 9000 }]);
  });

  it('refuses a port out of range and an empty host, saying which', () => {
    expect(() => servers('--host', 'a.lan:70000')).toThrow(/--host: port 70000 is out of range/);
    expect(() => servers('--host', '')).toThrow(/--host must be an address or a name/);
  });
});
