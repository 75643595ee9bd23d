/** chat-client command-line options. */
import { parseOptions } from '../common/cli.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../common/errors.js';
import { parseDuration, parseInteger } from '../common/units.js';
import { defaultKnownHosts } from './known-hosts.js';
import { parseHostPort } from '../common/lftp/node/address.js';
import type { ClientTls } from './secure-connect.js';

export interface ClientOptions {
  /** The server connected to first (servers[0]). */
  host: string;
  port: number;
  /** Every server given (--host repeated: a cluster's nodes), tried in turn after a lost connection. */
  servers: Array<{ host: string; port: number }>;
  nick: string | undefined;
  verbose: boolean;
  connectTimeoutMs: number;
  /** Silence from the server after which it is presumed gone; undefined = the server's heartbeat timeout. */
  serverTimeoutMs: number | undefined;
  downloadsDir: string;
  /** /get and /post also write a qlog file per transfer here (--qlog), or null. */
  qlogDir: string | null;
  /** /get and /post go to this address instead of the server's LFTP port (--lftp-via: a fault relay), or null. */
  lftpVia: { host: string; port: number } | null;
  /** On a terminal: colours (off with --no-color or NO_COLOR). */
  color: boolean;
  /** On a terminal: [HH:MM] before each line (off with --no-timestamps). */
  timestamps: boolean;
  /** Come back after a lost connection (off with --no-reconnect: exit 3 instead). */
  reconnect: boolean;
  /** TLS (the default; null: --no-tls). */
  tls: ClientTls | null;
  /** A private server's password (--server-password or CHAT_SERVER_PASSWORD). */
  serverPassword: string | null;
  /** The nick's password, when it is registered (--password or CHAT_PASSWORD). */
  nickPassword: string | null;
  /** --allow-plain-passwords: passwords may go over --no-tls. */
  allowPlainPasswords: boolean;
}

export const CLIENT_USAGE = `Usage: chat-client [options]

Terminal client for chat-server. Type to chat; /help lists the commands.
Lines can also come from a pipe: printf 'hi\\n/quit\\n' | chat-client --nick bot

Options:
  --host ADDR[:PORT]       server address (default 127.0.0.1); again for another node of the
                           same chat: after a lost connection the next one is tried, in turn
  --port N                 server TCP port, for a --host without one (default 9000)
  --nick NAME              your nick: 1-32 letters or digits (any script) and _ - . [ ] { } | ^ \`
                           (asked for when missing and stdin is a terminal)
  --connect-timeout DUR    give up connecting after DUR (default 10s)
  --server-timeout DUR     presume the server gone after DUR without a frame
                           (default: the heartbeat timeout the server announces)
  --downloads DIR          where /get saves files (default ./downloads)
  --qlog DIR               each /get and /post as a qlog file in DIR (chat-client trace report draws it)
  --lftp-via HOST:PORT     send /get and /post through this address (a fault relay in front
                           of the server's LFTP port: npm run relay), to watch loss in the chat
  --verbose                also show heartbeats as they are answered, and the
                           LFTP steps of /get and /post (handshake, losses, ...)
  --no-color               no colours on a terminal (NO_COLOR does the same)
  --no-timestamps          no [HH:MM] before the lines on a terminal
  --no-reconnect           end (exit 3) when the connection is lost, instead of
                           reconnecting (0.5 s, doubling to 30 s) until /quit
  --tls                    TLS (the default): the server's certificate is checked against
                           the system's CAs (or --ca); one no CA vouches for is trusted on
                           first use, its SHA-256 remembered, and refused if it changes
  --no-tls                 plain TCP (the server must run with --no-tls too)
  --ca FILE                trust only certificates these CAs (PEM) signed
  --known-hosts FILE       where first-use fingerprints are kept
                           (default $XDG_STATE_HOME/heartbeat-chat/known_hosts)
  --keylog FILE            write TLS secrets to FILE for Wireshark (SSLKEYLOGFILE)
  --server-password PASS   a private server's password (better: CHAT_SERVER_PASSWORD);
                           never sent over --no-tls unless --allow-plain-passwords
  --password PASS          your registered nick's password (better: CHAT_PASSWORD);
                           the same rule for --no-tls
  -h, --help               show this help
  -v, --version            show the version

File transfer without chat: chat-client lftp --help

Exit codes: 0 quit, 1 cannot connect, 2 bad usage, 3 connection lost or closed
by the server, 4 refused by the server (nick taken or invalid, server full).`;

const SPEC = {
  host: { type: 'string', multiple: true },
  port: { type: 'string' },
  nick: { type: 'string' },
  'connect-timeout': { type: 'string' },
  'server-timeout': { type: 'string' },
  downloads: { type: 'string' },
  qlog: { type: 'string' },
  'lftp-via': { type: 'string' },
  verbose: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  'no-timestamps': { type: 'boolean' },
  'no-reconnect': { type: 'boolean' },
  tls: { type: 'boolean' },
  'no-tls': { type: 'boolean' },
  ca: { type: 'string' },
  'known-hosts': { type: 'string' },
  keylog: { type: 'string' },
  'server-password': { type: 'string' },
  password: { type: 'string' },
  'allow-plain-passwords': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export type ParsedClientArgs = { help: true } | { version: true } | { options: ClientOptions };

export function parseClientArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ParsedClientArgs {
  const { values: v } = parseOptions(args, SPEC);
  if (v.help) return { help: true };
  if (v.version) return { version: true };
  const port = v.port !== undefined ? parseInteger(v.port, '--port', 1, 65535) : 9000;
  const servers = (v.host ?? ['127.0.0.1']).map((h) => serverAddress(h, port));
  return {
    options: {
      ...servers[0]!,
      servers,
      nick: v.nick,
      verbose: v.verbose ?? false,
      connectTimeoutMs:
        v['connect-timeout'] !== undefined ? parseDuration(v['connect-timeout'], '--connect-timeout') : 10_000,
      serverTimeoutMs:
        v['server-timeout'] !== undefined ? parseDuration(v['server-timeout'], '--server-timeout') : undefined,
      downloadsDir: v.downloads ?? 'downloads',
      qlogDir: v.qlog !== undefined ? resolve(v.qlog) : null,
      lftpVia: v['lftp-via'] !== undefined ? parseHostPort(v['lftp-via'], '--lftp-via') : null,
      // https://no-color.org: present and not empty.
      color: !v['no-color'] && !env['NO_COLOR'],
      timestamps: !v['no-timestamps'],
      reconnect: !v['no-reconnect'],
      tls: clientTls(v, env),
      serverPassword: secret(v['server-password'] ?? (env['CHAT_SERVER_PASSWORD'] || null), v),
      nickPassword: secret(v.password ?? (env['CHAT_PASSWORD'] || null), v),
      allowPlainPasswords: v['allow-plain-passwords'] ?? false,
    },
  };
}

function clientTls(
  v: { tls?: boolean; 'no-tls'?: boolean; ca?: string; 'known-hosts'?: string; keylog?: string },
  env: NodeJS.ProcessEnv,
): ClientTls | null {
  if (v['no-tls'] && v.tls) throw new UsageError('--tls and --no-tls: choose one');
  if (v['no-tls']) {
    if (v.ca !== undefined || v['known-hosts'] !== undefined || v.keylog !== undefined)
      throw new UsageError('--no-tls is plain TCP: --ca, --known-hosts and --keylog do not apply');
    return null;
  }
  let ca: string | null = null;
  if (v.ca !== undefined) {
    try {
      ca = readFileSync(v.ca, 'utf8');
    } catch (err) {
      throw new UsageError(
        `--ca: cannot read ${v.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  return {
    ca,
    caFile: v.ca ?? null,
    knownHosts: v['known-hosts'] !== undefined ? resolve(v['known-hosts']) : defaultKnownHosts(env),
    keylog: v.keylog !== undefined ? resolve(v.keylog) : null,
  };
}

function secret(password: string | null, v: { 'no-tls'?: boolean; 'allow-plain-passwords'?: boolean }): string | null {
  if (password !== null && v['no-tls'] && !v['allow-plain-passwords']) {
    throw new UsageError(
      'a password over plain TCP can be read by anyone on the network: keep TLS (drop --no-tls), or say --allow-plain-passwords',
    );
  }
  return password;
}

/** A --host: HOST (the --port), HOST:PORT, [IPv6] or [IPv6]:PORT; a bare IPv6 address takes the --port. */
function serverAddress(value: string, port: number): { host: string; port: number } {
  if (/^\[[^\]]+\]:\d+$/.test(value) || /^[^:]+:\d+$/.test(value)) return parseHostPort(value, '--host');
  const host = /^\[([^\]]+)\]$/.exec(value)?.[1] ?? value;
  if (host === '' || /\s/.test(host))
    throw new UsageError(`--host must be an address or a name, got ${JSON.stringify(value)}`);
  return { host, port };
}
