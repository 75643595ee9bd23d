/** Whether a port is free before the workers open it with reusePort. */
import net from 'node:net';
import { describeListenFailure, type ListenFailure } from '../listen-error.js';
import { StartupError } from './startup-error.js';

/**
 * reusePort would let this server silently join another process's port group
 * (same user, also reusePort): probe with a plain bind first so that a port in
 * use is reported as such.
 */
export function assertPortFree(host: string, port: number, component: ListenFailure['component']): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const failure: ListenFailure = { component, code: err.code ?? 'UNKNOWN', host, port, detail: err.message };
      reject(new StartupError(failure.code, describeListenFailure(failure)));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
