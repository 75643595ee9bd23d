/** Waiting for a condition in tests: polled, bounded, and failing with a description of what never happened. */
export async function until(
  condition: () => boolean,
  timeoutMs: number,
  describe: () => string,
  pollMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Waiting for an asynchronous probe to give a value (not null): asked again and again, bounded like until(). */
export async function eventually<T>(
  probe: () => Promise<T | null>,
  timeoutMs: number,
  describe: () => string,
  pollMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
