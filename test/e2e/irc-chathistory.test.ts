/**
 * draft/chathistory on the IRC door (docs/IRC.md, "CHATHISTORY") with a raw
 * client, over a room's history written by a chat-client and a direct
 * conversation: LATEST, LATEST after a msgid, BEFORE a msgid, AFTER a msgid
 * and AFTER a timestamp, each a chathistory batch of PRIVMSGs in time order
 * with their msgid and time; the msgids are the ones history on join gave.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawIrc, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, startClient, startServer, stopAll } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

interface Entry {
  msgid: string;
  time: string;
  text: string;
}

const tagOf = (line: string, key: string) => new RegExp(`[@;]${key}=([^; ]+)`).exec(line)?.[1];

/** The PRIVMSGs of the chathistory batch the request gets: sent with a label, read once its batch ends. */
async function page(raw: RawIrc, request: string, label: string): Promise<Entry[]> {
  const from = raw.lines.length;
  raw.send(`@label=${label} ${request}`);
  const open = await raw.line(/ BATCH \+\S+ chathistory /, 10_000, from);
  const ref = /BATCH \+(\S+)/.exec(open)![1]!;
  await raw.line(new RegExp(` BATCH -${ref}$`), 10_000, from);
  return raw.lines
    .slice(from)
    .filter((l) => tagOf(l, 'batch') === ref && / PRIVMSG /.test(l))
    .map((l) => ({ msgid: tagOf(l, 'msgid')!, time: tagOf(l, 'time')!, text: l.slice(l.lastIndexOf(' :') + 2) }));
}

describe('CHATHISTORY on the IRC door', () => {
  it('pages a room and a direct conversation by msgid and by time', async () => {
    const server = await startServer(['--workers', '2']);
    procs.push(server);
    const xm = await startClient(server.port, 'xm');
    procs.push(xm);
    for (let i = 1; i <= 5; i++) {
      xm.send(`m${i}`);
      await xm.waitFor(`<xm> m${i}`);
    }
    const raw = new RawIrc(server.ircPort!);
    raw.send('CAP LS 302');
    raw.send('CAP REQ :batch message-tags server-time draft/chathistory labeled-response');
    raw.send('CAP END');
    await raw.register('hist');
    await raw.line(/ 366 hist #lobby /);
    const joined = raw.lines.filter((l) => / PRIVMSG #lobby :m\d$/.test(l));
    const m = joined.map((l) => ({ msgid: tagOf(l, 'msgid')!, time: tagOf(l, 'time')!, text: l.slice(-2) }));
    expect(m.map((e) => e.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    const texts = (entries: Entry[]) => entries.map((e) => e.text);

    expect(texts(await page(raw, 'CHATHISTORY LATEST #lobby * 3', 'a'))).toEqual(['m3', 'm4', 'm5']);
    expect(texts(await page(raw, `CHATHISTORY LATEST #lobby msgid=${m[2]!.msgid} 10`, 'b'))).toEqual(['m4', 'm5']);
    expect(texts(await page(raw, `CHATHISTORY BEFORE #lobby msgid=${m[2]!.msgid} 2`, 'c'))).toEqual(['m1', 'm2']);
    expect(texts(await page(raw, `CHATHISTORY AFTER #lobby msgid=${m[1]!.msgid} 2`, 'd'))).toEqual(['m3', 'm4']);
    const after = await page(raw, `CHATHISTORY AFTER #lobby timestamp=${m[3]!.time} 5`, 'e');
    expect(after).toEqual([m[4]]); // the same msgid and time as on join

    // A direct conversation: the target is the other party's nick.
    xm.send('/msg hist just between us');
    await raw.line(/^\S+ :xm!\S+ PRIVMSG hist :just between us$/);
    raw.send('PRIVMSG xm :and back');
    await xm.waitFor('*hist* and back');
    expect(texts(await page(raw, 'CHATHISTORY LATEST xm * 10', 'f'))).toEqual(['just between us', 'and back']);
  });
});
