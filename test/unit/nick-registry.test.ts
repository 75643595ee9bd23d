/** The NickRegistry contract run against the single node's registry: two workers over one session table. */
import { LocalNickRegistry } from '../../server/bus/nick-registry.js';
import { SessionTable } from '../../server/shm/session-table.js';
import { nickRegistryContract } from './nick-registry-contract.js';

nickRegistryContract('LocalNickRegistry (two workers over one table)', () => {
  const table = SessionTable.create(8);
  const node = 'n1';
  return {
    a: new LocalNickRegistry(table, node),
    b: new LocalNickRegistry(new SessionTable(table.buffer), node),
    node,
  };
});
