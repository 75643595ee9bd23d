/**
 * A small vocabulary for checking JSON values field by field: each check takes
 * a value and the path it was found at, and returns the value typed or throws
 * a SchemaError naming the path. No dependencies (errors.ts has none), so the browser page checks
 * frames with the same code as the server (frame-schema.ts).
 */
import { HeartbeatChatError } from './errors.js';

/** A JSON value that is not what the protocol says: the decoders turn it into BAD_FRAME. */
export class SchemaError extends HeartbeatChatError {
  declare readonly code: 'ERR_SCHEMA';
  constructor(message: string) {
    super('ERR_SCHEMA', message);
  }
}

export type Check<T> = (value: unknown, path: string) => T;

export const string: Check<string> = (v, path) => {
  if (typeof v !== 'string') throw new SchemaError(`${path} must be a string`);
  return v;
};

export const number: Check<number> = (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaError(`${path} must be a number`);
  return v;
};

export const boolean: Check<boolean> = (v, path) => {
  if (typeof v !== 'boolean') throw new SchemaError(`${path} must be a boolean`);
  return v;
};

/** Absent (undefined) is allowed; present, it must pass. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path) => (v === undefined ? undefined : check(v, path));
}

/** Absent means `fallback`; present, it must pass. */
export function withDefault<T>(check: Check<T>, fallback: T): Check<T> {
  return (v, path) => (v === undefined ? fallback : check(v, path));
}

/** A number, or null for anything else (a value the sender may not know, such as an RTT not yet measured). */
export const numberOrNull: Check<number | null> = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function oneOf<const T extends readonly string[]>(values: T): Check<T[number]> {
  const allowed: ReadonlySet<string> = new Set(values);
  return (v, path) => {
    if (typeof v !== 'string' || !allowed.has(v))
      throw new SchemaError(`${path} must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
    return v as T[number];
  };
}

export function arrayOf<T>(check: Check<T>): Check<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw new SchemaError(`${path} must be an array`);
    return v.map((item, i) => check(item, `${path}[${i}]`));
  };
}

type Shape = Record<string, Check<unknown>>;
type Checked<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A JSON object with these fields. Unknown fields are ignored (room for
 * additions); the result holds only the known ones, optional ones only when present.
 */
export function object<S extends Shape>(shape: S): Check<Checked<S>> {
  const keys = Object.keys(shape);
  return (v, path) => {
    if (!isRecord(v)) throw new SchemaError(`${path} must be a JSON object`);
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const value = shape[k]!(v[k], `${path}.${k}`);
      if (value !== undefined) out[k] = value;
    }
    return out as Checked<S>;
  };
}

/**
 * A check followed by a computation on what passed (defaults that depend on other fields, variants).
 * Not named `then`: a module exporting `then` is a thenable, and import() of it never settles.
 */
export function andThen<T, U>(check: Check<T>, fn: (value: T, path: string) => U): Check<U> {
  return (v, path) => fn(check(v, path), path);
}
