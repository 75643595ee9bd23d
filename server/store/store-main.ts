/**
 * Entry point of the store thread: the one owner of the history database and
 * the chat's sequencer (sequencer.ts). Workers talk to it over their own
 * MessagePorts (handed over by the supervisor); it posts what it has stored
 * on the room bus, and tells the supervisor when it is ready and when the
 * store fails.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openLog } from '../logger.js';
import { ThreadBus } from '../bus/thread-bus.js';
import { LogBudget } from '../auth-throttle.js';
import { Sequencer } from './sequencer.js';
import { LocalRoomLog } from './local-room-log.js';
import { openClusterLog } from './cluster-log.js';
import { SqliteHistory } from './sqlite-history.js';
import { NoHistory } from './no-history.js';
import { StoreError } from './store-error.js';
import type { HistoryStore } from './history.js';
import type {
  FromStore,
  StoreAsk,
  StoreLetGo,
  StoreKickElsewhere,
  StoreReport,
  StoreThreadConfig,
  ToStore,
  ToStoreThread,
} from './store-messages.js';
import { answerAsk } from './store-asks.js';
import { SessionTable } from '../shm/session-table.js';
import { NodeCounts } from '../shm/node-counts.js';
import { restoreSessions } from './session-restore.js';
import { ThreadReader } from './history-reader.js';
import { asPacked } from './history-pages.js';
import { encodeMessage } from '../../common/protocol.js';
import type { SessionAddress } from '../bus/room-bus.js';

const config = workerData as StoreThreadConfig;
const nodeCounts = new NodeCounts(config.countsBuffer);
// A thread started again after a crash starts with no rooms: they come back as the workers restore their sessions.
nodeCounts.setRooms(0);
const parent = parentPort!;
const report = (msg: StoreReport) => parent.postMessage(msg);
const { logger, flush, reopen } = openLog(config.logFile, config.logLevel, { thread: 'store' });

const bus = new ThreadBus(config.busName, null, null, config.node);
// A cluster's node (--redis): the room log and the bus between nodes on Redis; the rest of the store stays here.
const cluster =
  config.redisUrl === null
    ? null
    : await openClusterLog(config.redisUrl, config.node, bus, {
        log: (detail, msg) => logger.info(detail, msg),
        letGo: (target, nick, how) => letGo(target, nick, how),
        kicked: (target, reason) => kicked(target, reason),
      }).catch((err: unknown) => {
        logger.error({ err }, 'cannot join the cluster');
        flush();
        report({ k: 'open-failed', code: 'REDIS_UNREACHABLE', message: (err as Error).message });
        process.exit(1);
      });
let store: HistoryStore = new NoHistory();
let movedAside: string | null = null;
let file: string | null = null;
try {
  if (config.dataDir !== null) {
    // A cluster's registered nicks are every node's, in its Redis; the rest of the store is this node's.
    const opened = await SqliteHistory.open(config.dataDir, Date.now, cluster?.accounts);
    ({ store, movedAside } = opened);
    file = opened.store.file;
  }
} catch (err) {
  const e = err instanceof StoreError ? err : new StoreError('STORE_IO', (err as Error).message);
  logger.error({ err }, 'cannot open the history store');
  flush();
  report({ k: 'open-failed', code: e.code, message: e.message });
  process.exit(1);
}
if (movedAside) logger.error({ movedAside }, 'the history database was damaged: moved aside, a new one started');

const table = new SessionTable(config.sessionBuffer);
/** Sessions cannot be resumed without a store to replay from (--no-history). */
const resumeWindowMs = store.sessions ? config.resumeWindowMs : 0;
/** How often away sessions are checked for the end of their window: "timed out" comes within this of it. */
const EXPIRY_CHECK_MS = 1000;
const ports = new Map<number, MessagePort>();
/** The handled counts last told to each worker. */
const sentHandled = new Map<number, number>();
const faultBudget = new Map<string, LogBudget>();
const sequencer = new Sequencer({
  node: config.node,
  store,
  bus: cluster?.bus ?? bus,
  // The single node's room log: the store's transactions, then the thread bus (the directory: rooms.ts, the default).
  roomLog: cluster?.log ?? new LocalRoomLog(store, bus),
  // A cluster's directory holds every node's members (replicated-rooms.ts).
  ...(cluster ? { replicate: cluster.bus, registrations: cluster.registrations } : {}),
  // LUSERS: the workers' IRC doors read how many rooms there are.
  roomsCounted: (n) => nodeCounts.setRooms(n),
  defaultRoom: config.defaultRoom,
  roomLimits: config.rooms,
  historyOnJoin: config.historyOnJoin,
  maxFrame: config.maxFrame,
  topics: await store.topics().catch(() => new Map<string, string>()),
  fault: (err) => {
    const budget = faultBudget.get(err.code) ?? new LogBudget(1);
    faultBudget.set(err.code, budget);
    const taken = budget.take(Date.now());
    if (!taken) return;
    logger.error({ code: err.code, suppressed: taken.suppressed }, err.message);
    report({ k: 'fault', code: err.code, message: err.message });
  },
  schedule: (fn) => setImmediate(fn),
  table,
  resumeWindowMs,
  event: (text) => report({ k: 'event', text }),
  // HISTORY_REQUEST pages are read on the reader thread's own connection, beside this thread's writer (a cluster's: from Redis).
  ...(file !== null && cluster === null ? { reader: new ThreadReader(file) } : {}),
  charge: (to, credits, next) =>
    ports.get(to.owner)?.postMessage({ k: 'charge', session: to, credits, next } satisfies FromStore),
  // A page's frames straight to its requester's worker, on that worker's port, without a copy.
  answer: (to, frames) => {
    const packed = asPacked(frames);
    ports.get(to.owner)?.postMessage({ k: 'frames', session: to, ...packed } satisfies FromStore, [packed.buffer]);
  },
  log: (detail, msg) => logger.info(detail, msg),
  handled: (counts) => {
    for (const [worker, count] of counts)
      if (sentHandled.get(worker) !== count) {
        sentHandled.set(worker, count);
        ports.get(worker)?.postMessage({ k: 'handled', count } satisfies FromStore);
      }
  },
});

// The other nodes' posts, from where the cluster's bus started: the sequencer and its directory are here now.
cluster?.bus.listen();

/**
 * Another node took one of this node's sessions: resumed there, or taken over (moved: it leaves its rooms here
 * without a word, its rooms are the other node's to tell), or ended by its nick's owner there (it leaves, said).
 * Its slot is freed; a connection still on it finds that on its next tick and is closed (BYE replaced).
 */
function letGo(target: SessionAddress, nick: string, how: 'moved' | 'ended'): void {
  table.release(target);
  const why = 'logged in again on another node';
  const notice = how === 'ended' ? encodeMessage({ type: 'NOTICE', event: 'left', nick, reason: why }) : null;
  sequencer.handle({ k: 'leave', session: target, notice });
}

/** Another node's operator kicked a session of this node's: an away one ends here (no worker holds it), a connected one at its worker. */
function kicked(target: SessionAddress, reason: string): void {
  if (table.isCurrent(target) && table.owner(target.slot) < 0)
    sequencer.handle({ k: 'end-away', target: { slot: target.slot, generation: target.generation }, reason });
  else bus.kick(target, reason);
}

// Kept sessions come back as away before 'ready': no client can take their nicks first.
if (store.sessions && resumeWindowMs > 0) {
  const restored = await restoreSessions(
    store.sessions,
    table,
    sequencer,
    resumeWindowMs,
    Date.now(),
    config.fresh,
  ).catch((err: unknown) => {
    logger.error({ err }, 'could not bring back the kept sessions');
    return { away: 0, dropped: 0 };
  });
  if (restored.away + restored.dropped > 0) logger.info(restored, 'kept sessions brought back as away');
}
const expiry =
  resumeWindowMs > 0 ? setInterval(() => sequencer.handle({ k: 'expire', now: Date.now() }), EXPIRY_CHECK_MS) : null;
logger.info({ file, epoch: store.epoch }, 'history store open');
report({ k: 'ready', epoch: store.epoch, movedAside, file });

/**
 * Retention runs often enough that a flood cannot carry the store far past --history-max-size between two runs
 * (at a few MB/s a minute was tens of MB); a run with nothing to do is two indexed reads.
 */
const RETENTION_CHECK_MS = 5_000;
let pruning = false;
const prune = async () => {
  if (pruning) return;
  pruning = true;
  try {
    const removed =
      (await store.prune(Date.now(), config.retention)) +
      ((await cluster?.log.prune(Date.now(), config.retention)) ?? 0);
    if (removed > 0) logger.info({ removed }, 'history retention: old messages removed');
  } catch (err) {
    logger.error({ err }, 'history retention failed');
  } finally {
    pruning = false;
  }
};
void prune();
const pruneTimer = setInterval(() => void prune(), Math.min(config.pruneEveryMs, RETENTION_CHECK_MS));

parent.on('message', (msg: ToStoreThread) => {
  switch (msg.k) {
    case 'port': {
      ports.get(msg.worker)?.close();
      ports.set(msg.worker, msg.port);
      const port = msg.port;
      // Asks are answered at once, outside the order (and not counted with the requests).
      port.on('message', (m: ToStore | StoreAsk | StoreLetGo | StoreKickElsewhere) => {
        if (m.k === 'ask') void answerAsk(store.accounts, m).then((a) => port.postMessage(a));
        else if (m.k === 'let-go') cluster?.bus.letGo(m.target, m.nick, m.how);
        else if (m.k === 'kick-elsewhere') cluster?.bus.kick(m.target, m.reason);
        else sequencer.handle(m, msg.worker);
      });
      return;
    }
    case 'reopen-log':
      reopen();
      return;
    case 'crash':
      logger.warn('crashing on operator request');
      setImmediate(() => {
        throw new Error('the store thread crashed on operator request');
      });
      return;
    case 'shutdown':
      // What the workers handed in before they stopped is stored and posted; then the database is closed.
      void sequencer.drain().then(async () => {
        clearInterval(pruneTimer);
        if (expiry) clearInterval(expiry);
        sequencer.reads.close();
        store.close();
        bus.close();
        // Bounded (redis-link.ts closeRedis): a link silent now ends the thread late, never holds it.
        await cluster?.close();
        for (const p of ports.values()) p.close();
        logger.info('store stopped');
        flush();
        parent.close();
      });
      return;
  }
});

process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'store thread crashed');
  flush();
  process.exit(70);
});
