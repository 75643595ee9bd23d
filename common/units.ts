/** Parsing of human-friendly option values: durations and sizes. */
import { UsageError } from './errors.js';

export { formatBytes, formatDuration, formatRate } from './format.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "5s", "1.5s", "2m". A bare number is refused: "5" meant 5 ms where people meant 5 s. */
export function parseDuration(value: string, option: string): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v))
    throw new UsageError(`${option}: ${JSON.stringify(value)} needs a unit: ${v}ms or ${v}s`);
  const m = DURATION.exec(v);
  if (!m) throw new UsageError(`${option}: ${JSON.stringify(value)} is not a duration (examples: 500ms, 5s, 1m)`);
  const ms = Number(m[1]) * DURATION_UNIT_MS[m[2]!]!;
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`${option}: duration must be greater than zero`);
  return Math.round(ms);
}

const SIZE = /^(\d+)(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_UNIT: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1 << 20,
  mb: 1 << 20,
  mib: 1 << 20,
  g: 2 ** 30,
  gb: 2 ** 30,
  gib: 2 ** 30,
};

/** "65536", "64k", "64KiB", "1m", "4GiB" (binary units). */
export function parseSize(value: string, option: string): number {
  const m = SIZE.exec(value.trim());
  if (!m) throw new UsageError(`${option}: ${JSON.stringify(value)} is not a size (examples: 65536, 64KiB, 1MiB)`);
  return Number(m[1]) * SIZE_UNIT[(m[2] ?? 'b').toLowerCase()]!;
}

export function parseInteger(value: string, option: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${option}: ${JSON.stringify(value)} is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${option}: ${n} is out of range (${min}-${max})`);
  return n;
}

/** One of a fixed list of words; the default when the option was not given. */
export function parseChoice<T extends string>(
  value: string | undefined,
  option: string,
  choices: readonly T[],
  fallback: T,
): T {
  const v = value ?? fallback;
  if (!(choices as readonly string[]).includes(v))
    throw new UsageError(`${option} must be one of ${choices.join(', ')}`);
  return v as T;
}
