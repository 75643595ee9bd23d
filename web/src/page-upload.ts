/**
 * One upload from the page, resumed when its connection breaks (docs/ARCHITECTURE.md, "The web side"): it says
 * what it sends (Upload-Length, Upload-Mtime, and Upload-Tag, LFTP's source tag), asks the server how much of it
 * it holds (HEAD, Upload-Offset), and sends only the rest, with a fresh ticket each try. Every file is hashed
 * first, so the server checks the stored file's SHA-256 against the page's (Repr-Digest) before it is put in
 * place: up to DIGEST_LIMIT with Web Crypto in one call, bigger ones a piece at a time (Web Crypto has no
 * incremental digest, and one call needs the whole file in memory). Without Web Crypto (a page served over plain
 * HTTP on another address than localhost is not a secure context) common/sha256.ts makes the tag and the digest.
 */
import { Backoff } from '../../common/backoff.js';
import { Sha256 } from '../../common/sha256.js';
import type { ChatLog } from './chat-log.js';
import { byId, el, formatBytes, setText } from './dom.js';

/**
 * Files up to this size are hashed by Web Crypto in one call (native speed, but the whole file is read into memory
 * to do it); bigger ones by common/sha256.ts, HASH_PIECE at a time (that much memory; 100 to 160 MiB/s,
 * BENCHMARKS.md's --suite hash).
 */
export const DIGEST_LIMIT = 256 * 2 ** 20;
const HASH_PIECE = 4 * 2 ** 20;
/** Tries of one upload before it is given up (a cut connection, or the server still finishing the last try). */
export const MAX_TRIES = 8;
/** Bytes of each end of the file the source tag covers, and the tag's bytes (resume-record.ts). */
const TAG_EDGE_BYTES = 64 * 1024;
const TAG_BYTES = 16;

interface Identity {
  headers: Record<string, string>;
}

const subtle = (): SubtleCrypto | null => globalThis.crypto?.subtle ?? null;

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** SHA-256 of `bytes` in one call: Web Crypto's where the page has it (a secure context), else common/sha256.ts. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const c = subtle();
  return c ? new Uint8Array(await c.digest('SHA-256', bytes)) : new Sha256().update(bytes).digest();
}

/** resume-record.ts's sourceTag, in the page: SHA-256("lftp tag" 0 ‖ size ‖ mtime ‖ first and last 64 KiB)[0..16]. */
async function sourceTag(file: File): Promise<string> {
  const fixed = new DataView(new ArrayBuffer(16));
  fixed.setBigUint64(0, BigInt(file.size));
  fixed.setBigUint64(8, BigInt(Math.max(0, Math.floor(file.lastModified))));
  const head = Math.min(file.size, TAG_EDGE_BYTES);
  const tailAt = Math.max(head, file.size - TAG_EDGE_BYTES);
  const parts = [new TextEncoder().encode('lftp tag\0'), new Uint8Array(fixed.buffer)];
  parts.push(new Uint8Array(await file.slice(0, head).arrayBuffer()));
  parts.push(new Uint8Array(await file.slice(tailAt).arrayBuffer()));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = (await sha256(all)).subarray(0, TAG_BYTES);
  return base64(digest).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The file's SHA-256; `progress` is told the bytes hashed so far, as a file is read a piece at a time (one over
 * DIGEST_LIMIT, or any without Web Crypto).
 */
async function fileDigest(file: File, progress: (bytes: number) => void): Promise<Uint8Array> {
  const c = subtle();
  if (c && file.size <= DIGEST_LIMIT) return new Uint8Array(await c.digest('SHA-256', await file.arrayBuffer()));
  const h = new Sha256();
  for (let at = 0; at < file.size; at += HASH_PIECE) {
    h.update(new Uint8Array(await file.slice(at, at + HASH_PIECE).arrayBuffer()));
    progress(Math.min(file.size, at + HASH_PIECE));
  }
  return h.digest();
}

async function identify(file: File, progress: (bytes: number) => void): Promise<Identity> {
  const headers: Record<string, string> = {
    'Upload-Length': String(file.size),
    'Upload-Mtime': String(Math.floor(file.lastModified)),
    'Upload-Tag': await sourceTag(file),
  };
  headers['Repr-Digest'] = `sha-256=:${base64(await fileDigest(file, progress))}:`;
  return { headers };
}

/** Why a try ended: stored, to be tried again (after `wait` ms), or failed for good. */
type Outcome = { kind: 'stored' } | { kind: 'again'; wait: number; why: string } | { kind: 'failed'; why: string };

export class PageUpload {
  private tries = 0;
  private readonly backoff = new Backoff();
  private readonly identity: Promise<Identity | null>;
  private readonly bar: HTMLProgressElement;
  private readonly label: HTMLSpanElement;
  private readonly row: HTMLDivElement;

  constructor(
    private readonly file: File,
    private readonly name: string,
    private readonly log: ChatLog,
    /** Asks for a fresh ticket: its TICKET comes back to attempt(). */
    private readonly askTicket: () => void,
  ) {
    this.bar = el('progress', { max: String(file.size || 1), value: '0' });
    this.label = el('span', { class: 'small' }, `${name}: reading`);
    this.row = el('div', { class: 'transfer' }, this.label, this.bar);
    byId('transfers').append(this.row);
    // Hashing a big file takes a moment before any byte is sent: the bar says so meanwhile.
    const hashed = (bytes: number) => setText(this.label, `${name}: reading ${Math.floor((100 * bytes) / file.size)}%`);
    this.identity = identify(file, hashed)
      .catch(() => null)
      .finally(() => setText(this.label, `${name}: 0%`));
  }

  /** One try with a ticket's URL; the next one is asked for by itself when this one is cut. */
  async attempt(url: string): Promise<void> {
    this.tries++;
    const id = await this.identity;
    let from = 0;
    let outcome: Outcome;
    try {
      if (id) from = await this.offset(url, id);
      if (from > 0) this.log.line(`* resuming the upload of ${this.name} at ${formatBytes(from)}`, 'muted');
      outcome = await this.post(url, id, from);
    } catch (err) {
      outcome = { kind: 'again', wait: this.backoff.next(), why: (err as Error).message };
    }
    if (outcome.kind === 'stored') return this.row.remove(); // the room's "shared" notice says the rest
    if (outcome.kind === 'again' && id && this.tries < MAX_TRIES) {
      this.log.line(`* the upload of ${this.name} was cut (${outcome.why}); trying again`, 'muted');
      setTimeout(() => this.askTicket(), outcome.wait);
      return;
    }
    this.row.remove();
    this.log.line(`! upload of ${this.name} failed: ${outcome.why}`, 'error');
  }

  /**
   * The ticket could not be had: the upload ends, unless it was cut and the refusal may pass (BUSY, or NO_SPACE
   * while the cut try is still counted whole, until the server has put it away): then it asks again, in turn.
   */
  refused(code: string, message: string): void {
    if (this.tries > 0 && this.tries < MAX_TRIES && (code === 'BUSY' || code === 'NO_SPACE')) {
      this.tries++;
      this.log.line(`* the upload of ${this.name} waits: ${message}`, 'muted');
      setTimeout(() => this.askTicket(), this.backoff.next());
      return;
    }
    this.row.remove();
    this.log.line(`! upload of ${this.name} refused: ${code}: ${message}`, 'error');
  }

  private async offset(url: string, id: Identity): Promise<number> {
    const res = await fetch(url, { method: 'HEAD', headers: id.headers, cache: 'no-store' });
    if (res.status !== 204) throw new Error(`HTTP ${res.status} asking what the server holds`);
    const n = Number(res.headers.get('Upload-Offset'));
    return Number.isSafeInteger(n) && n >= 0 && n <= this.file.size ? n : 0;
  }

  /** XMLHttpRequest rather than fetch: it reports upload progress. The body is streamed from the file. */
  private post(url: string, id: Identity | null, from: number): Promise<Outcome> {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    for (const [k, v] of Object.entries(id?.headers ?? {})) xhr.setRequestHeader(k, v);
    if (id) xhr.setRequestHeader('Upload-Offset', String(from));
    const size = this.file.size;
    xhr.upload.onprogress = (e) => {
      this.bar.value = from + e.loaded;
      setText(this.label, `${this.name}: ${size ? Math.floor((100 * (from + e.loaded)) / size) : 100}%`);
    };
    return new Promise((resolve) => {
      xhr.onload = () => resolve(this.answer(xhr));
      xhr.onerror = () => resolve({ kind: 'again', wait: this.backoff.next(), why: 'the connection broke' });
      xhr.send(from > 0 ? this.file.slice(from) : this.file);
    });
  }

  private answer(xhr: XMLHttpRequest): Outcome {
    if (xhr.status === 201) return { kind: 'stored' };
    let code = `HTTP ${xhr.status}`;
    let why = code;
    try {
      const body = JSON.parse(xhr.responseText) as { code?: string; message?: string };
      code = body.code ?? code;
      why = `${code}: ${body.message ?? ''}`;
    } catch {
      /* not JSON: keep the status */
    }
    // The server still finishing the cut try, or holding less than asked: ask again, it says where to go on. A
    // spent ticket (AUTH): the browser resent a cut request by itself; a fresh ticket goes on from the partial.
    if (code === 'UPLOAD_BUSY' || code === 'OFFSET' || code === 'INCOMPLETE' || code === 'AUTH')
      return { kind: 'again', wait: this.backoff.next(), why };
    return { kind: 'failed', why };
  }
}
