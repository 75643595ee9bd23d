/** What the terminal client says when it cannot connect: the cause in words, not Node's. */
import { describe, expect, it } from 'vitest';
import { connectErrorText } from '../../client/render.js';

const error = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

describe('connectErrorText', () => {
  it('names a refusal, an unknown host and a server that closed before TLS began', () => {
    expect(connectErrorText(error('ECONNREFUSED', 'connect ECONNREFUSED'))).toMatch(/is chat-server running/);
    expect(connectErrorText(error('ENOTFOUND', 'getaddrinfo ENOTFOUND x'))).toBe('unknown host');
    expect(
      connectErrorText(
        error('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'),
      ),
    ).toMatch(/^the server closed the connection before TLS began \(it is full, or has as many connections/);
    expect(connectErrorText(error('EHOSTUNREACH', 'connect EHOSTUNREACH'))).toBe('connect EHOSTUNREACH');
  });
});
