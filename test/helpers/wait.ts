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
