/**
 * Who may take a connection, per remote address: limits on chat connections
 * that have not said HELLO, on sessions, and on HTTP connections, counted
 * across all workers in the shared AddressTable. Addresses the operator
 * trusts (--trusted: loopback, addresses, subnets) are not counted at all.
 * Every socket, trusted or not, also counts against the process's descriptor
 * budget (server/process/fd-plan.ts).
 */
import { BlockList, isIPv4, isIPv6, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { LogBudget } from '../auth-throttle.js';
import type { SocketBudget } from '../shm/socket-budget.js';
import { UsageError } from '../../common/errors.js';
import { canonicalAddress, type AddressKind, type AddressTable } from '../shm/address-table.js';

export interface AdmissionPolicy {
  maxPendingPerAddress: number;
  maxSessionsPerAddress: number;
  maxHttpPerAddress: number;
  /** The --trusted list as given (parsed by trustList). */
  trusted: string[];
}

/**
 * Connections that have not said HELLO yet (TLS handshakes included), per worker, from all addresses
 * together; past them a newcomer takes the place of the busiest network's oldest (pending-pool.ts).
 */
export const PRE_HELLO_ALLOWANCE = 256;

export const DEFAULT_ADMISSION: AdmissionPolicy = {
  maxPendingPerAddress: 8,
  maxSessionsPerAddress: 32,
  maxHttpPerAddress: 32,
  trusted: [],
};

/** Parses --trusted: comma-separated addresses, subnets (a.b.c.d/n, x::/n) and the word "loopback". */
export function trustList(spec: string): string[] {
  const items = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items) toBlockList([item]);
  return items;
}

function toBlockList(items: string[]): BlockList {
  const list = new BlockList();
  for (const item of items) {
    if (item === 'loopback') {
      list.addSubnet('127.0.0.0', 8, 'ipv4');
      list.addAddress('::1', 'ipv6');
      continue;
    }
    const [addr, bits, extra] = item.split('/');
    const type = isIPv4(addr ?? '') ? 'ipv4' : isIPv6(addr ?? '') ? 'ipv6' : null;
    const prefix = bits === undefined ? null : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (
      !type ||
      extra !== undefined ||
      Number.isNaN(prefix) ||
      (prefix !== null && prefix > (type === 'ipv4' ? 32 : 128))
    ) {
      throw new UsageError(
        `--trusted: ${JSON.stringify(item)} is not an address, a subnet (10.0.0.0/8, fd00::/8) or "loopback"`,
      );
    }
    if (prefix === null) list.addAddress(addr!, type);
    else list.addSubnet(addr!, prefix, type);
  }
  return list;
}

export class Admission {
  private readonly trustedList: BlockList;
  private readonly limits: Record<AddressKind, number>;
  private readonly exhaustedLog = new LogBudget();

  constructor(
    private readonly table: AddressTable,
    private readonly worker: number,
    readonly policy: AdmissionPolicy,
    private readonly descriptors: { sockets: SocketBudget; log: Logger } | null = null,
  ) {
    this.trustedList = toBlockList(policy.trusted);
    this.limits = {
      pending: policy.maxPendingPerAddress,
      session: policy.maxSessionsPerAddress,
      http: policy.maxHttpPerAddress,
    };
  }

  /**
   * A cluster's node: the sessions an address has on the other nodes (cluster/address-counts.ts), which a login
   * adds to this node's (session-start.ts); null: one node.
   */
  elsewhere: ((address: string) => Promise<number>) | null = null;

  /** What the address holds of kind on this node, all workers together. */
  count(address: string, kind: AddressKind): number {
    return this.table.count(address, kind);
  }

  isTrusted(address: string): boolean {
    const a = canonicalAddress(address);
    return isIPv4(a) ? this.trustedList.check(a, 'ipv4') : isIPv6(a) ? this.trustedList.check(a, 'ipv6') : false;
  }

  limit(kind: AddressKind): number {
    return this.limits[kind];
  }

  /** One more of kind from address, if its limit allows (always, for a trusted address). */
  enter(address: string, kind: AddressKind): boolean {
    return this.isTrusted(address) || this.table.acquire(address, kind, this.worker, this.limits[kind]);
  }

  /**
   * Counts a client's socket against the descriptor budget until it closes;
   * false when the process has none to spare (refuse it: SERVER_FULL, 503).
   */
  socketFits(socket: Socket): boolean {
    const d = this.descriptors;
    if (!d) return true;
    const fits = d.sockets.opened();
    socket.once('close', () => d.sockets.closed());
    if (!fits) {
      const logged = this.exhaustedLog.take(Date.now());
      if (logged !== null) {
        d.log.warn(
          { sockets: d.sockets.total, limit: d.sockets.limit, suppressed: logged.suppressed },
          'refusing connections: the sockets the open-file limit allows are all in use (raise ulimit -n)',
        );
      }
    }
    return fits;
  }

  /** Gives back what enter() took. */
  leave(address: string, kind: AddressKind): void {
    if (!this.isTrusted(address)) this.table.release(address, kind, this.worker);
  }
}
