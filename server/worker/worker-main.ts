/** Entry point of a worker thread: one client group of the chat server. */
import { parentPort, workerData } from 'node:worker_threads';
import { ChatWorker } from './chat-worker.js';
import { WorkerHandoffs } from './other-workers.js';
import { closeRedis } from '../cluster/redis-link.js';
import { openRedis } from '../cluster/open-redis.js';
import { parseRedisUrl } from '../cluster/redis-url.js';
import { openLog } from '../logger.js';
import { ListenError } from '../listen-error.js';
import type { FromWorker, ToWorker, WorkerConfig } from '../threads/messages.js';

const config = workerData as WorkerConfig;
const port = parentPort!;
const post = (msg: FromWorker) => port.postMessage(msg);

const { logger, flush, reopen } = openLog(config.logFile, config.logLevel, { worker: config.index });
// A cluster's node: its own link to Redis, where the nicks of every node are (the supervisor checked it answers).
const redis =
  config.redisUrl === null
    ? null
    : await openRedis(parseRedisUrl(config.redisUrl), {
        state: (up, detail) => logger[up ? 'info' : 'warn']({ detail }, up ? 'Redis link back' : 'Redis link down'),
      });
const handoffs = new WorkerHandoffs(config.index, post);
const worker = new ChatWorker(config, logger, (text) => post({ k: 'event', text }), redis, handoffs);

process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'worker crashed');
  flush();
  // Ends this thread only; the supervisor repairs the table and starts a replacement.
  process.exit(70);
});

port.on('message', (msg: ToWorker) => {
  switch (msg.k) {
    case 'shutdown':
      void worker.shutdown(msg.reason).then(async () => {
        if (redis) await closeRedis(redis);
        logger.info('worker stopped');
        flush();
        post({ k: 'closed' });
        port.close();
      });
      return;
    case 'store-down':
      worker.storeDown();
      return;
    case 'store-port':
      worker.storeUp(msg.port);
      return;
    case 'give-way':
    case 'gave-way':
      handoffs.receive(msg);
      return;
    case 'reopen-log':
      reopen();
      return;
    case 'stall':
      logger.warn({ ms: msg.ms }, 'stalling the event loop on operator request');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, msg.ms);
      return;
    case 'crash':
      logger.warn({ holdLock: msg.holdLock }, 'crashing on operator request');
      flush();
      if (msg.holdLock) worker.takeLockForever();
      setImmediate(() => {
        throw new Error(
          `worker ${config.index} crashed on operator request${msg.holdLock ? ' while holding the session table lock' : ''}`,
        );
      });
      return;
  }
});

try {
  const bound = await worker.listen();
  logger.info({ host: config.host, ...bound }, 'listening');
  post({ k: 'listening', ...bound });
} catch (err) {
  const failure =
    err instanceof ListenError ? err.failure : ListenError.from('tcp', config.host, config.port, err).failure;
  logger.error({ err }, 'cannot listen');
  flush();
  post({ k: 'listen-error', failure });
  port.close();
}
