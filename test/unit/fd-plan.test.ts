/** Sockets planned from the open-file limit, and their count across workers' views of one buffer. */
import { describe, expect, it } from 'vitest';
import { openFileLimit, planSockets } from '../../server/process/fd-plan.js';
import { StartupError } from '../../server/startup-error.js';
import { SocketBudget } from '../../server/shm/socket-budget.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;

describe('openFileLimit', () => {
  it('reads the soft limit from /proc/self/limits', () => {
    expect(openFileLimit(LIMITS)).toBe(20000);
    expect(openFileLimit(LIMITS.replace('20000                20000', 'unlimited            unlimited'))).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    expect(openFileLimit('nothing here')).toBeNull();
    // This process's own: Linux always has one.
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});

describe('planSockets', () => {
  it('keeps --max-clients when the limit holds it with the allowances and the reserve', () => {
    expect(planSockets(20000, { maxClients: 10000, workers: 2, web: true })).toEqual({
      socketLimit: 19488,
      maxClients: 10000,
      warning: null,
    });
  });
  it('lowers --max-clients to what fits and says how to raise the limit', () => {
    const plan = planSockets(4096, { maxClients: 10000, workers: 2, web: true });
    // 4096 - 512 reserved = 3584 sockets; each worker keeps 256 for HELLO and 256 for HTTP.
    expect(plan).toMatchObject({ socketLimit: 3584, maxClients: 3584 - 1024 });
    expect(plan.warning).toBe(
      'the open-file limit (4096) holds 2560 clients, not 10000: --max-clients lowered to 2560; raise it with `ulimit -n 11536` before starting the server',
    );
  });
  it('a small limit keeps a quarter back instead of 512', () => {
    expect(planSockets(1100, { maxClients: 10000, workers: 1, web: true })).toMatchObject({
      socketLimit: 825,
      maxClients: 313,
    });
  });
  it('refuses to start when too few clients would fit', () => {
    expect(() => planSockets(600, { maxClients: 10000, workers: 2, web: false })).toThrow(StartupError);
    expect(() => planSockets(600, { maxClients: 10000, workers: 2, web: false })).toThrow(
      /leaves room for 0 clients with 2 workers: raise it with `ulimit -n 11024`/,
    );
  });
  it('no limit known: the plan is what was asked', () => {
    expect(planSockets(null, { maxClients: 50, workers: 2, web: false })).toEqual({
      socketLimit: 50 + 512,
      maxClients: 50,
      warning: null,
    });
  });
});

describe('SocketBudget', () => {
  it('counts every worker against one limit, a refused socket included until it closes, and forgets a dead worker', () => {
    const supervisor = SocketBudget.create(3, 2);
    const w0 = new SocketBudget(supervisor.buffer, 0);
    const w1 = new SocketBudget(supervisor.buffer, 1);
    expect([w0.opened(), w1.opened(), w1.opened()]).toEqual([true, true, true]);
    expect(w0.opened()).toBe(false);
    expect(supervisor.total).toBe(4);
    w0.closed();
    expect(w0.opened()).toBe(false); // w0's refused one closed, this one is the fourth again
    w0.closed();
    supervisor.releaseWorker(1);
    expect(supervisor.total).toBe(1);
    expect(w0.opened()).toBe(true);
  });
});
