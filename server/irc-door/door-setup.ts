/**
 * A worker's IRC door, built from its config and the ConnectionHost its
 * chat connections share: the names IRC shows (the machine's name for the
 * server and every prefix's host, the network's), what it offers (SASL only
 * with accounts, CHATHISTORY only with history), and the services
 * (door-services.ts) taken from the chat's own parts.
 */
import { hostname } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import { packageVersion } from '../../common/cli.js';
import type { ConnectionHost } from '../chat/session-host.js';
import type { ClientGroup, RefusalWords } from '../chat/client-group.js';
import type { AdmittedTcp } from '../chat/pending-pool.js';
import type { ChatDoor } from '../tls/listeners.js';
import { serialize } from '../irc/message.js';
import { closing } from '../irc/numeric-errors.js';
import { IrcTransport } from './irc-transport.js';
import { offeredCapabilities } from '../irc/caps.js';
import { TOPIC_MAX_CHARS } from '../chat/handlers.js';
import { HISTORY_PAGE_MAX } from '../store/room-read-requests.js';
import type { WorkerConfig } from '../threads/messages.js';
import { accountAnswer, type DoorConfig, type DoorServices } from './door-services.js';
import { type AwayChange, type AwayChannel, IrcPeople } from './irc-people.js';
import { IrcPeopleTable } from '../shm/irc-people-table.js';
import { NodeCounts } from '../shm/node-counts.js';
import { clusterKeys } from '../cluster/keys.js';
import { openRedis } from '../cluster/open-redis.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { parseRedisUrl } from '../cluster/redis-url.js';
import type { Logger } from '../logger.js';
import { ClusterPeople } from './cluster-people.js';
import { NOBODY_ELSEWHERE, type PeopleElsewhere } from './people-elsewhere.js';
import { WorkerStats } from '../shm/worker-stats.js';
import type { Counts } from '../irc/numerics.js';

export const NETWORK = 'heartbeat-chat';
/** IRC's AWAYLEN: what the door keeps of an AWAY message. */
const AWAY_MAX_CHARS = 200;

/** The machine's name as IRC servers are named (letters, digits, '-' and '.'), or the network's. */
export function ircServerName(name = hostname()): string {
  const clean = name.replace(/[^A-Za-z0-9.-]/g, '').replace(/^[.-]+|[.-]+$/g, '');
  return clean.length > 0 && clean.length <= 63 ? clean : NETWORK;
}

export function doorConfig(c: WorkerConfig, startedAt = new Date()): DoorConfig {
  const version = packageVersion();
  const name = ircServerName();
  const history = c.irc.history;
  return {
    server: { name, network: NETWORK, version: `heartbeat-chat-${version}`, createdAt: startedAt.toUTCString() },
    host: name,
    nickMode: c.irc.nicks,
    limits: {
      network: NETWORK,
      roomsPerUser: c.irc.roomsPerUser,
      historyMax: history ? HISTORY_PAGE_MAX : 0,
      topicLen: TOPIC_MAX_CHARS,
      awayLen: AWAY_MAX_CHARS,
    },
    offered: offeredCapabilities({ accounts: c.accounts !== null, history }),
    defaultRoom: c.defaultRoom,
    ctcp: {
      version: `heartbeat-chat ${version}`,
      source: 'heartbeat-chat (npm: heartbeat-chat)',
      now: () => Date.now(),
    },
  };
}

/** A refused connection's last words on the IRC door. */
export const ircRefusal: RefusalWords = (r) => Buffer.from(`${serialize(closing(`${r.code}: ${r.text}`))}\r\n`);

/** The IRC door of a worker's client group: its listener's connections as IrcTransports. */
export function ircDoor(
  c: WorkerConfig,
  host: ConnectionHost,
  group: ClientGroup,
  redis: RedisLink | null,
): ChatDoor<AdmittedTcp> {
  const services = ircDoorServices(c, host, peopleElsewhere(c, redis, host.log));
  return group.door((socket, output) => new IrcTransport(socket, services, output), ircRefusal);
}

export function ircDoorServices(
  c: WorkerConfig,
  host: ConnectionHost,
  elsewhere: PeopleElsewhere = NOBODY_ELSEWHERE,
): DoorServices {
  const where = (nick: string) => {
    const held = host.table.lookup(nick);
    const info = held ? host.table.info(held.slot) : null;
    return held && info ? { slot: held.slot, generation: held.generation, transport: info.transport } : null;
  };
  const table = new IrcPeopleTable(c.ircPeopleBuffer);
  const people = new IrcPeople(where, table, awayChannel(`${c.busName}:irc-away`), elsewhere);
  return {
    config: doorConfig(c),
    flood: host.limits.flood,
    timer: host.timer,
    people,
    checkAccount: (caller, nick, password) => {
      const gate = host.accounts;
      if (!gate)
        return Promise.resolve({ ok: false, code: 'NOT_REGISTERED', message: 'this server keeps no accounts' });
      return accountAnswer(gate.login(caller, nick, password, host.clock.wallNow()), nick);
    },
    counts: lusersCounts(c, host),
  };
}

/**
 * LUSERS' counts, each from where the server keeps it: sessions online from the NickRegistry (every node's on a
 * cluster, a second old at most) and the nodes whose lease lives; rooms from the room directory (the store thread
 * writes how many: shm/node-counts.ts); this node's sessions and the most it has held from the session table;
 * unregistered connections from every worker's not-yet-HELLO count (worker-stats.ts, a tick old at most).
 */
export function lusersCounts(
  c: Pick<WorkerConfig, 'workers' | 'statsBuffer' | 'countsBuffer'>,
  host: Pick<ConnectionHost, 'table' | 'nicks'>,
): () => Counts {
  const stats = new WorkerStats(c.statsBuffer);
  const node = new NodeCounts(c.countsBuffer);
  return () => {
    const local = host.table.activeCount();
    const localMax = Math.max(local, host.table.mostCount());
    const users = Math.max(local, host.nicks.online());
    return {
      users,
      servers: host.nicks.nodes(),
      rooms: node.rooms,
      unknown: stats.sum(c.workers, 'PENDING'),
      local,
      localMax,
      globalMax: Math.max(localMax, node.raiseOnline(users)),
    };
  };
}

/** A cluster's worker: the other nodes' people, from its Redis (cluster-people.ts); a single node: nobody. */
function peopleElsewhere(c: WorkerConfig, redis: RedisLink | null, log: Logger): PeopleElsewhere {
  if (!redis || c.redisUrl === null) return NOBODY_ELSEWHERE;
  const people = new ClusterPeople(redis, clusterKeys(), c.node);
  const url = parseRedisUrl(c.redisUrl);
  people
    .start(() =>
      openRedis(url, {
        silence: (up, detail) =>
          log[up ? 'info' : 'warn']({ detail, link: 'people' }, up ? 'Redis link answers again' : 'Redis link silent'),
      }),
    )
    .catch((err: unknown) => {
      // Its own people are still told; the others show as chat users until the worker starts again.
      log.error({ err }, "cannot read the other nodes' IRC people");
    });
  return people;
}

/** AWAY changes between the workers' doors; it never keeps a worker alive (unref). */
function awayChannel(name: string): AwayChannel {
  const channel = new BroadcastChannel(name);
  channel.unref();
  return {
    post: (change) => channel.postMessage(change),
    onChange: (listener) => {
      channel.onmessage = (ev) => listener((ev as { data: AwayChange }).data);
    },
  };
}
