/**
 * The batched datagram addon (lftp_batch.c), when this machine has it: built at
 * install where a C compiler exists (scripts/build-native.mjs), loaded here once
 * per thread. Where it is missing, fails to load, or LFTP_NATIVE=0 asks, LFTP
 * runs on dgram and node:crypto, the same wire format: the addon is never the
 * only way, and its absence is a line of text, not a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

/** An AES-128-GCM context in the addon, made once per traffic key and reused for every datagram. */
export type NativeKey = { readonly __nativeKey: unique symbol };
/** A UDP socket owned by the addon. */
export type NativeSocketHandle = { readonly __nativeSocket: unique symbol };

export interface Addon {
  keyCreate(key: Buffer, iv: Buffer): NativeKey;
  /** out: the ciphertext then the tag (plaintext.length + 16 bytes); aad begins with the 24-byte header. */
  keySeal(key: NativeKey, aad: Buffer, plaintext: Buffer, out: Buffer): boolean;
  /** Opens datagram in place (aadBytes of clear header and prefix, ciphertext, tag): false when it does not authenticate. */
  keyOpen(key: NativeKey, datagram: Buffer, aadBytes: number): boolean;
  socketOpen(
    bufferBytes: number,
    reusePort: boolean,
    onRecv: (buf: Buffer, count: number, meta: Uint32Array) => void,
    onError: (errno: number, message: string) => void,
    family?: 4 | 6,
  ): NativeSocketHandle;
  socketBind(s: NativeSocketHandle, address: string, port: number): void;
  socketConnect(s: NativeSocketHandle, address: string, port: number): void;
  socketPort(s: NativeSocketHandle): number;
  /**
   * meta per datagram (7 words): parts (| 0x100: a size probe, sent alone with the don't-fragment bit), port,
   * key index + 1 (0: clear), address (four big-endian words; IPv4: the first). Returns 0 or an errno.
   */
  socketSend(s: NativeSocketHandle, parts: Buffer[], meta: Uint32Array, count: number, keys: NativeKey[]): number;
  socketPending(s: NativeSocketHandle): number;
  socketClose(s: NativeSocketHandle): void;
  /** df: a size probe can go with the don't-fragment bit (absent from an addon built before it). */
  features(s?: NativeSocketHandle): { gso: boolean; gro: boolean; df?: boolean };
}

export const ADDON_FILE = 'lftp_batch.node';

/** The project's root: the first folder up from here with a package.json (from common/ in tests, dist/common/ in use). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Where the build puts the addon; LFTP_NATIVE_ADDON names another file (tests: a machine where none was built). */
export function addonPath(): string {
  return process.env.LFTP_NATIVE_ADDON ?? join(projectRoot(), 'build', 'native', ADDON_FILE);
}

interface Loaded {
  addon: Addon | null;
  /** Why there is none, in words. */
  why: string;
}

let loaded: Loaded | null = null;

function load(): Loaded {
  if (process.env.LFTP_NATIVE === '0') return { addon: null, why: 'LFTP_NATIVE=0' };
  if (process.platform !== 'linux') return { addon: null, why: `no batched path on ${process.platform}` };
  const path = addonPath();
  if (!existsSync(path)) return { addon: null, why: 'no addon was built: no C compiler at install?' };
  try {
    return { addon: createRequire(import.meta.url)(path) as Addon, why: '' };
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return { addon: null, why: `addon failed to load: ${first}` };
  }
}

/**
 * The addon, or null (then dgram + node:crypto). A broken one (built, but it does not load) is said once, on
 * stderr; a missing one is a machine without a compiler, which the install said, as --version does.
 */
export function nativeAddon(): Addon | null {
  if (!loaded) {
    loaded = load();
    if (!loaded.addon && loaded.why.startsWith('addon failed') && isMainThread)
      process.stderr.write(`lftp: ${fallbackText(loaded.why)}\n`);
  }
  return loaded.addon;
}

function fallbackText(why: string): string {
  return `dgram + node:crypto, one datagram per call (${why})`;
}

/** Which datagram path LFTP uses in this process, for --version and start-up lines. */
export function datagramPath(): string {
  if (!loaded) loaded = load();
  const addon = loaded.addon;
  if (!addon) return fallbackText(loaded.why);
  const f = addon.features();
  const offloads = [f.gso ? 'GSO' : 'no GSO', f.gro ? 'GRO' : 'no GRO'].join(', ');
  return `native batch (sendmmsg/recvmmsg, ${offloads}; AES-128-GCM, one context per key)`;
}

/** `--version`: the program's version and Node's, and which datagram path LFTP takes here. */
export function versionLines(program: string): string[] {
  let version = '?';
  try {
    version =
      (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    // A package.json that cannot be read leaves the version unknown; the datagram line still says what runs.
  }
  return [`${program} ${version} (Node ${process.version})`, `lftp datagrams: ${datagramPath()}`];
}
