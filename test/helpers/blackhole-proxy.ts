/**
 * A TCP proxy (tcp-proxy.ts) that can be partitioned without a word: while
 * partitioned it keeps every connection open and reads and discards what
 * comes either way, as a network that drops packets and sends no RST, and
 * whose lost segments never come (the connections that lived through it are
 * out of step for good); healed, it forwards again, on old connections and new.
 */
import type net from 'node:net';
import { startTcpProxy } from './tcp-proxy.js';

export interface BlackholeProxy {
  port: number;
  /** true: every byte from now on is dropped, both ways; false: forwarded again. */
  partitioned: boolean;
  close(): Promise<void>;
}

export async function startBlackholeProxy(target: number): Promise<BlackholeProxy> {
  const state = { partitioned: false };
  const pass = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (!state.partitioned) to.write(chunk);
    });
    from.on('close', () => to.destroy());
  };
  const proxy = await startTcpProxy(target, (client, upstream) => {
    pass(client, upstream);
    pass(upstream, client);
  });
  return {
    port: proxy.port,
    get partitioned() {
      return state.partitioned;
    },
    set partitioned(on: boolean) {
      state.partitioned = on;
    },
    close: () => proxy.close(),
  };
}
