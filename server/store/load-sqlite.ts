/**
 * node:sqlite, loaded without its ExperimentalWarning: Node 22 prints one on
 * first use, which users of a chat server should not read as a fault. Only
 * that warning is swallowed; any other still reaches stderr as Node prints it.
 */
type Sqlite = typeof import('node:sqlite');

let loaded: Promise<Sqlite> | null = null;

export function loadSqlite(): Promise<Sqlite> {
  loaded ??= (async () => {
    const printers = process.listeners('warning');
    process.removeAllListeners('warning');
    const filter = (w: Error) => {
      if (w.name === 'ExperimentalWarning' && /SQLite/i.test(w.message)) return;
      for (const p of printers) p(w);
    };
    process.on('warning', filter);
    try {
      return await import('node:sqlite');
    } finally {
      // The warning is emitted on the next tick after the import: leave the filter until then.
      setImmediate(() => {
        process.off('warning', filter);
        for (const p of printers) process.on('warning', p);
      });
    }
  })();
  return loaded;
}
