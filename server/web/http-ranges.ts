/**
 * Range requests on a download (RFC 9110 §14), pure: which bytes a `Range` asks for, and whether an `If-Range`
 * still names the file being served. One range only: a request for several is answered with the whole file
 * (a server may ignore Range), which no downloader that resumes asks for anyway.
 */

/** The file's validators, as the download's answer carries them. */
export interface Validators {
  /** A strong entity tag, quoted: it changes whenever the file's bytes may have. */
  etag: string;
  /** The file's modification time as an HTTP-date. */
  lastModified: string;
  mtimeMs: number;
}

export type RangeAnswer = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * The entity tag of a file, from what changes whenever its bytes may: the inode, the size, and the modification
 * and change times in ns (ctime cannot be set back by a user, so a same-size edit under a restored mtime still
 * changes it). Only the server compares it; a stale one costs a whole download, never a spliced file.
 */
export function strongEtag(st: { ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `"${[st.ino, st.size, st.mtimeNs, st.ctimeNs].map((n) => n.toString(36)).join('-')}"`;
}

/**
 * What a GET with `range` (and `ifRange`) gets of a file of `size` bytes. A Range that does not parse, asks for
 * several ranges or for another unit is ignored (the whole file); If-Range that does not match (RFC 9110 §13.1.5:
 * a strong tag compared exactly, or a date equal to Last-Modified that is itself at least a second old) too.
 */
export function planRange(
  range: string | undefined,
  ifRange: string | undefined,
  size: number,
  v: Validators,
  now: number,
): RangeAnswer {
  if (range === undefined) return { kind: 'whole' };
  if (ifRange !== undefined && !ifRangeHolds(ifRange.trim(), v, now)) return { kind: 'whole' };
  const m = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(range.replace(/\s+/g, ''));
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    // A suffix: the last N bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const last = m[2] === '' ? size - 1 : Number(m[2]);
  return { kind: 'part', start, end: Math.min(last, size - 1) };
}

function ifRangeHolds(value: string, v: Validators, now: number): boolean {
  if (value.startsWith('W/')) return false;
  if (value.startsWith('"')) return value === v.etag;
  // A date is a strong validator only when the file had not changed in the second it names.
  return value === v.lastModified && now - v.mtimeMs >= 1000;
}
