import { describe, expect, it } from 'vitest';
import { fromIrc } from '../../server/irc/from-irc.js';
import { heartbeatPing, pongAck } from '../../server/irc/heartbeat-ping.js';
import { parseLine, serialize } from '../../server/irc/message.js';

describe('heartbeats as PING and PONG', () => {
  it("the chat's HEARTBEAT is a PING whose text comes back as its ACK, as a client's PONG echoes it", () => {
    const ping = serialize(heartbeatPing('irc.chat', 17, 1765094400123.5));
    expect(ping).toBe(':irc.chat PING 17.1765094400123.5');
    const token = parseLine(ping).params[0]!;
    // irssi and WeeChat answer "PONG <server> :<text>"; some clients "PONG :<text>": the text is the last parameter.
    for (const pong of [`PONG irc.chat :${token}`, `PONG :${token}`]) {
      const local = fromIrc(
        {
          server: 'irc.chat',
          host: 'irc.chat',
          nickMode: 'utf8',
          me: 'bob',
          rooms: [],
          ctcp: { version: 'v', source: 's', now: () => 0 },
        },
        parseLine(pong),
      ).local;
      expect(local).toEqual([{ kind: 'pong', token }]);
      expect(pongAck(token)).toEqual({ type: 'HEARTBEAT_ACK', seq: 17, ts: 1765094400123.5 });
    }
  });

  it('a PONG that is not ours is nothing', () => {
    for (const t of ['', 'irc.chat', '17', '17.', 'a.b', '1.2.3.4', '99999999999999999.1'])
      expect(pongAck(t)).toBeNull();
  });
});
