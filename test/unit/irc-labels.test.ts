import { describe, expect, it } from 'vitest';
import type { Capability } from '../../server/irc/caps.js';
import { labelOf, labeled } from '../../server/irc/labels.js';
import { parseLine, serialize } from '../../server/irc/message.js';

const caps = (...c: Capability[]) => ({ has: (x: Capability) => c.includes(x) });
const line = (l: string) => parseLine(l);

describe('labeled-response', () => {
  it('reads the label of a command, ignoring an empty or over-long one', () => {
    expect(labelOf(line('@label=pQraCjj82e PRIVMSG #lab :hi'))).toBe('pQraCjj82e');
    expect(labelOf(line('@label= PING x'))).toBeUndefined();
    expect(labelOf(line(`@label=${'x'.repeat(65)} PING x`))).toBeUndefined();
    expect(labelOf(line('PING x'))).toBeUndefined();
  });

  it('no answer is ACK; one line carries the label', () => {
    const c = caps('labeled-response', 'batch');
    expect(labeled('irc.chat', c, 'L1', [], 'b1').map(serialize)).toEqual(['@label=L1 :irc.chat ACK']);
    expect(labeled('irc.chat', c, 'L2', [line(':irc.chat PONG irc.chat :x')], 'b1').map(serialize)).toEqual([
      '@label=L2 :irc.chat PONG irc.chat :x',
    ]);
  });

  it('several lines go in a labeled-response batch; lines of a nested batch stay in theirs', () => {
    const answer = [
      line(':irc.chat BATCH +h chathistory #lab'),
      line('@batch=h :a!chat@irc.chat PRIVMSG #lab :old'),
      line(':irc.chat BATCH -h'),
    ];
    expect(labeled('irc.chat', caps('labeled-response', 'batch'), 'L3', answer, 'r').map(serialize)).toEqual([
      '@label=L3 :irc.chat BATCH +r :labeled-response',
      '@batch=r :irc.chat BATCH +h chathistory :#lab',
      '@batch=h :a!chat@irc.chat PRIVMSG #lab :old',
      '@batch=r :irc.chat BATCH -h',
      ':irc.chat BATCH -r',
    ]);
  });

  it('nothing changes without the capability or a label; several lines without batch go unlabeled', () => {
    const two = [line(':irc.chat 331 bob #lab :No topic is set'), line(':irc.chat 366 bob #lab :End of /NAMES list')];
    expect(labeled('irc.chat', caps(), 'L', two, 'r')).toEqual(two);
    expect(labeled('irc.chat', caps('labeled-response', 'batch'), undefined, two, 'r')).toEqual(two);
    expect(labeled('irc.chat', caps('labeled-response'), 'L', two, 'r')).toEqual(two);
  });
});
