/** The command line's TLS options (server/process/options.ts takes the rest). */
import { resolve } from 'node:path';
import { UsageError } from '../../common/errors.js';
import { parseDuration } from '../../common/units.js';
import type { TlsChoice } from '../tls/certificate.js';
import { HANDSHAKE_TIMEOUT_MS } from '../tls/listeners.js';

export interface TlsOptions {
  choice: TlsChoice;
  /** Where --tls auto keeps its certificate (the data folder, even with --no-history). */
  dir: string;
  /** --keylog: TLS secrets for Wireshark (SSLKEYLOGFILE format). */
  keylog: string | null;
  /** --tls-handshake-timeout: a connection that has not finished its TLS handshake by then is closed. */
  handshakeTimeoutMs: number;
}

export function tlsOptions(v: {
  tls?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'no-tls'?: boolean;
  keylog?: string;
  'tls-handshake-timeout'?: string;
  data?: string;
}): TlsOptions {
  const files = v['tls-cert'] !== undefined || v['tls-key'] !== undefined;
  if (
    v['no-tls'] &&
    (files || v.tls !== undefined || v.keylog !== undefined || v['tls-handshake-timeout'] !== undefined)
  )
    throw new UsageError(
      '--no-tls serves plain TCP and HTTP: --tls, --tls-cert, --tls-key, --keylog and --tls-handshake-timeout do not apply',
    );
  if (v.tls !== undefined && v.tls !== 'auto')
    throw new UsageError(
      `--tls: ${JSON.stringify(v.tls)} is not "auto" (a certificate of its own); for yours use --tls-cert FILE --tls-key FILE`,
    );
  if (files && v.tls !== undefined)
    throw new UsageError('--tls auto makes its own certificate: give it, or --tls-cert and --tls-key, not both');
  if (files && (v['tls-cert'] === undefined || v['tls-key'] === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  const choice: TlsChoice = v['no-tls']
    ? { mode: 'off' }
    : files
      ? { mode: 'files', cert: resolve(v['tls-cert']!), key: resolve(v['tls-key']!) }
      : { mode: 'auto' };
  const timeout = v['tls-handshake-timeout'];
  const handshakeTimeoutMs =
    timeout !== undefined ? parseDuration(timeout, '--tls-handshake-timeout') : HANDSHAKE_TIMEOUT_MS;
  if (handshakeTimeoutMs < 100 || handshakeTimeoutMs > 120_000)
    throw new UsageError('--tls-handshake-timeout must be between 100ms and 120s');
  return {
    choice,
    dir: resolve(v.data ?? 'data'),
    keylog: v.keylog !== undefined ? resolve(v.keylog) : null,
    handshakeTimeoutMs,
  };
}
