import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../common/cli.js';
import { UsageError } from '../../common/errors.js';

const spec = {
  ticket: { type: 'string' },
  'ticket-key': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

describe('parseOptions: values that start with a dash', () => {
  it('takes a base64url ticket or key that starts with "-" as the value, as it came from TICKET', () => {
    const { values } = parseOptions(['--ticket', '-Ab_9', '--ticket-key', '--xyz-'], spec);
    expect(values.ticket).toBe('-Ab_9');
    expect(values['ticket-key']).toBe('--xyz-');
  });

  it('takes a value that starts with one of our short options ("-vK3…") as the value too', () => {
    // CI once drew a key starting with the letter of a short option: the client refused its own ticket.
    const { values } = parseOptions(['--ticket-key', '-vK3_x', '--ticket', '-v-'], spec);
    expect(values['ticket-key']).toBe('-vK3_x');
    expect(values.ticket).toBe('-v-');
  });

  it('still refuses an option where a value should be, with the usual one-line usage error', () => {
    expect(() => parseOptions(['--ticket', '-v'], spec)).toThrow(UsageError);
    expect(() => parseOptions(['--ticket', '--verbose'], spec)).toThrow(/argument is ambiguous/);
  });

  it('leaves everything after "--" alone', () => {
    const { positionals } = parseOptions(['--', '--ticket', '-x'], spec, true);
    expect(positionals).toEqual(['--ticket', '-x']);
  });
});
