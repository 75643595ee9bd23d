/**
 * A listener that could not be opened, with the component it belongs to, so
 * that the supervisor can say which option to change without reading the
 * message. Crosses from a worker to the supervisor as plain fields.
 */
import { HeartbeatChatError } from '../common/errors.js';

export type ListenComponent = 'tcp' | 'lftp' | 'web' | 'irc';

/** The option that moves each component to another port. */
const PORT_OPTION: Record<ListenComponent, string> = {
  tcp: '--port',
  lftp: '--lftp-port',
  web: '--http-port or turn it off with --no-web',
  irc: '--irc-port or turn it off with --no-irc',
};
const WHAT: Record<ListenComponent, string> = { tcp: 'chat', lftp: 'LFTP', web: 'web', irc: 'IRC' };

export interface ListenFailure {
  component: ListenComponent;
  /** errno code (EADDRINUSE, EACCES, ...) or UNKNOWN. */
  code: string;
  host: string;
  port: number;
  /** The system's own words. */
  detail: string;
  /** The option that chooses this port, where it is not the chat server's usual one. */
  portOption?: string;
}

/** Its code is the system's (EADDRINUSE, EACCES, ...), or UNKNOWN. */
export class ListenError extends HeartbeatChatError {
  readonly component: ListenComponent;
  readonly port: number;

  constructor(readonly failure: ListenFailure) {
    super(failure.code, describeListenFailure(failure));
    this.component = failure.component;
    this.port = failure.port;
  }

  static from(component: ListenComponent, host: string, port: number, err: unknown, portOption?: string): ListenError {
    const e = err as NodeJS.ErrnoException;
    return new ListenError({
      component,
      code: e.code ?? 'UNKNOWN',
      host,
      port,
      detail: e.message,
      ...(portOption ? { portOption } : {}),
    });
  }
}

export function describeListenFailure(f: ListenFailure): string {
  if (f.code !== 'EADDRINUSE') return `cannot listen for ${WHAT[f.component]} on ${f.host}:${f.port}: ${f.detail}`;
  const where = `port ${f.port} is already in use on ${f.host}`;
  return f.component === 'tcp'
    ? where
    : `${where} (${WHAT[f.component]}; choose another with ${f.portOption ?? PORT_OPTION[f.component]})`;
}
