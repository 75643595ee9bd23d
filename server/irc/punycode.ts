/**
 * Punycode (RFC 3492), the bootstring encoding IDNA uses for domain names:
 * any Unicode string as letters, digits and '-'. Written out because
 * Node's punycode module is deprecated (DEP0040) and url.domainToASCII
 * applies IDNA's mapping (it lowercases and folds), so it would not give a
 * nick back as it was. The digits decode in either case, so an IRC client
 * that lowercases a name still names the same nick (nick-map.ts).
 */
import { IrcError, IrcErrorCode } from './irc-error.js';

const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;
/** Far above any nick's length: a guard against overflow in a hostile decode. */
const MAX_CODE_POINTS = 256;

function adapt(delta: number, points: number, first: boolean): number {
  let d = first ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / points);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

const digit = (d: number) => String.fromCharCode(d < 26 ? 97 + d : 22 + d);

function digitValue(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 22;
  if (ch >= 65 && ch <= 90) return ch - 65;
  if (ch >= 97 && ch <= 122) return ch - 97;
  return BASE;
}

const threshold = (k: number, bias: number) => (k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias);

export function encode(input: string): string {
  const points = [...input].map((c) => c.codePointAt(0)!);
  let out = points
    .filter((c) => c < 0x80)
    .map((c) => String.fromCharCode(c))
    .join('');
  const basic = out.length;
  let handled = basic;
  if (basic > 0) out += '-';
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (handled < points.length) {
    const m = Math.min(...points.filter((c) => c >= n));
    delta += (m - n) * (handled + 1);
    n = m;
    for (const c of points) {
      if (c < n) delta++;
      if (c !== n) continue;
      let q = delta;
      for (let k = BASE; ; k += BASE) {
        const t = threshold(k, bias);
        if (q < t) break;
        out += digit(t + ((q - t) % (BASE - t)));
        q = Math.floor((q - t) / (BASE - t));
      }
      out += digit(q);
      bias = adapt(delta, handled + 1, handled === basic);
      delta = 0;
      handled++;
    }
    delta++;
    n++;
  }
  return out;
}

/** The string a Punycode label stands for; BAD_LINE when it is not one. */
export function decode(input: string): string {
  const bad = () => new IrcError(IrcErrorCode.BAD_LINE, `not Punycode: ${JSON.stringify(input)}`);
  const cut = input.lastIndexOf('-');
  const out = cut > 0 ? [...input.slice(0, cut)].map((c) => c.codePointAt(0)!) : [];
  if (out.some((c) => c >= 0x80)) throw bad();
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let i = 0;
  for (let pos = cut > 0 ? cut + 1 : 0; pos < input.length; ) {
    const old = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos >= input.length) throw bad();
      const d = digitValue(input.charCodeAt(pos++));
      if (d >= BASE) throw bad();
      i += d * w;
      const t = threshold(k, bias);
      if (d < t) break;
      w *= BASE - t;
      if (i > 0x10ffff * MAX_CODE_POINTS) throw bad();
    }
    bias = adapt(i - old, out.length + 1, old === 0);
    n += Math.floor(i / (out.length + 1));
    i %= out.length + 1;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) || out.length >= MAX_CODE_POINTS) throw bad();
    out.splice(i++, 0, n);
  }
  return String.fromCodePoint(...out);
}
