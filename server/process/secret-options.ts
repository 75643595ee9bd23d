/** The command line's passwords (server/process/options.ts takes the rest). */
import { UsageError } from '../../common/errors.js';

export interface SecretOptions {
  /** --server-password (or CHAT_SERVER_PASSWORD): every HELLO must carry it; null: the server is open. */
  serverPassword: string | null;
  /** --allow-plain-passwords: passwords may cross plain connections (--no-tls), readable by anyone on the way. */
  allowPlainPasswords: boolean;
}

export const MAX_PASSWORD_BYTES = 256;

export function secretOptions(
  v: { 'server-password'?: string; 'allow-plain-passwords'?: boolean; 'no-tls'?: boolean },
  env: NodeJS.ProcessEnv,
): SecretOptions {
  const serverPassword = v['server-password'] ?? (env['CHAT_SERVER_PASSWORD'] || null);
  if (
    serverPassword !== null &&
    (serverPassword.length === 0 || Buffer.byteLength(serverPassword) > MAX_PASSWORD_BYTES)
  ) {
    throw new UsageError(`the server password must be 1-${MAX_PASSWORD_BYTES} bytes`);
  }
  const allowPlainPasswords = v['allow-plain-passwords'] ?? false;
  if (serverPassword !== null && v['no-tls'] && !allowPlainPasswords) {
    throw new UsageError(
      'a server password over plain TCP can be read by anyone on the network: keep TLS (drop --no-tls), or say --allow-plain-passwords',
    );
  }
  return { serverPassword, allowPlainPasswords };
}
