/**
 * What every web response says of itself to the browser: a
 * Content-Security-Policy that allows only the server's own scripts, styles
 * and connections (and, on a cluster's node, connections to the other
 * nodes' web sides, where the chat page goes on when its own node is lost),
 * no inline script or style, no framing; and the web side's origin as the
 * other nodes list it.
 */

/** The policy; `peers`: the cluster's other nodes' web origins, which the chat page may connect to when its own is lost. */
export function contentSecurityPolicy(peers: readonly string[] = []): string {
  const others = peers.flatMap((o) => [o, o.replace(/^http/, 'ws')]);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    ["connect-src 'self'", ...others].join(' '),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
} as const;

/** A web side's origin as a browser names it: http(s)://HOST:PORT, an IPv6 address in brackets. */
export function webOrigin(tls: boolean, host: string, port: number): string {
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
