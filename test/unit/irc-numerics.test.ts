import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, byteLength, serialize } from '../../server/irc/message.js';
import { fitLine } from '../../server/irc/words.js';
import { IrcError } from '../../server/irc/irc-error.js';
import { isupportReplies, isupportTokens, writeToken } from '../../server/irc/isupport.js';
import {
  awayReplies,
  endOfWho,
  listReplies,
  lusersReplies,
  motdReplies,
  namesReplies,
  parseWhox,
  topicReplies,
  type UserView,
  welcomeReplies,
  whoReply,
  whoisReplies,
  whoxReply,
} from '../../server/irc/numerics.js';
import { ERRORS, chatRefusal, errorReply, lineRefusal } from '../../server/irc/numeric-errors.js';

const S = { name: 'irc.chat', network: 'Heartbeat', version: 'heartbeat-chat-0.1.0', createdAt: 'Mon Dec 7 2026' };
const lines = (ms: Parameters<typeof serialize>[0][]) => ms.map(serialize);
const limits = { network: 'Heartbeat', roomsPerUser: 20, historyMax: 200, topicLen: 300, awayLen: 200 };
const alice: UserView = {
  nick: 'alice',
  user: 'chat',
  host: 'irc.chat',
  realname: 'Alice L',
  idleSeconds: 42,
  signonSeconds: 1765094400,
  rooms: ['#lobby', '#lab'],
};

describe('registration numerics', () => {
  it('001-004', () => {
    expect(lines(welcomeReplies(S, 'bob', 'bob!~bob@irc.chat'))).toEqual([
      ':irc.chat 001 bob :Welcome to the Heartbeat Network, bob!~bob@irc.chat',
      ':irc.chat 002 bob :Your host is irc.chat, running version heartbeat-chat-0.1.0',
      ':irc.chat 003 bob :This server was created Mon Dec 7 2026',
      ':irc.chat 004 bob irc.chat heartbeat-chat-0.1.0 i :n',
    ]);
  });

  it('005: the tokens, at most 13 a line, each line within 512 bytes', () => {
    const replies = lines(isupportReplies('irc.chat', 'bob', isupportTokens(limits)));
    expect(replies).toEqual([
      ':irc.chat 005 bob AWAYLEN=200 CASEMAPPING=ascii CHANLIMIT=#:20 CHANMODES=,,,n CHANNELLEN=33 CHANTYPES=# CHATHISTORY=200 draft/CHATHISTORY=200 ELIST MSGREFTYPES=msgid,timestamp NETWORK=Heartbeat NICKLEN=32 PREFIX=(o)@ :are supported by this server',
      ':irc.chat 005 bob SAFELIST TARGMAX=JOIN:,PART:,NAMES:1,LIST:1,WHOIS:1,PRIVMSG:1,NOTICE:1,TAGMSG:1 TOPICLEN=300 UTF8ONLY WHOX :are supported by this server',
    ]);
    const many = Array.from({ length: 40 }, (_, i) => [`T${i}`, 'x'.repeat(30)] as [string, string]);
    for (const r of isupportReplies('irc.chat', 'bob', many)) {
      expect(r.params.length - 2).toBeLessThanOrEqual(13);
      expect(Buffer.byteLength(serialize(r))).toBeLessThanOrEqual(MAX_BODY_BYTES);
    }
    expect(isupportTokens({ ...limits, historyMax: 0 }).map(([k]) => k)).not.toContain('CHATHISTORY');
    expect(isupportTokens({ ...limits, historyMax: 0 }).map(([k]) => k)).not.toContain('MSGREFTYPES');
  });

  it('005 escapes a space, = and a backslash in a value', () => {
    expect(writeToken(['NETWORK', 'My Net=\\'])).toBe('NETWORK=My\\x20Net\\x3D\\x5C');
  });

  it('MOTD 375/372/376, or 422', () => {
    expect(lines(motdReplies('irc.chat', 'bob', ['Be kind.', '']))).toEqual([
      ':irc.chat 375 bob :- irc.chat Message of the day - ',
      ':irc.chat 372 bob :- Be kind.',
      ':irc.chat 372 bob :- ',
      ':irc.chat 376 bob :End of /MOTD command.',
    ]);
    expect(lines(motdReplies('irc.chat', 'bob', null))).toEqual([':irc.chat 422 bob :MOTD File is missing']);
  });

  it('LUSERS 251-255, 265, 266', () => {
    const c = { users: 12, servers: 1, rooms: 3, unknown: 2, local: 12, localMax: 20, globalMax: 20 };
    expect(lines(lusersReplies('irc.chat', 'bob', c))).toEqual([
      ':irc.chat 251 bob :There are 12 users and 0 invisible on 1 servers',
      ':irc.chat 252 bob 0 :operator(s) online',
      ':irc.chat 253 bob 2 :unknown connection(s)',
      ':irc.chat 254 bob 3 :channels formed',
      ':irc.chat 255 bob :I have 12 clients and 0 servers',
      ':irc.chat 265 bob 12 20 :Current local users 12, max 20',
      ':irc.chat 266 bob 12 20 :Current global users 12, max 20',
    ]);
  });
});

describe('room and user numerics', () => {
  it('NAMES 353 then 366, cut into lines that fit', () => {
    expect(lines(namesReplies('irc.chat', 'bob', '#lobby', ['alice', 'bob', '小明']))).toEqual([
      ':irc.chat 353 bob = #lobby :alice bob 小明',
      ':irc.chat 366 bob #lobby :End of /NAMES list',
    ]);
    const nicks = Array.from({ length: 200 }, (_, i) => `user${i}_${'x'.repeat(20)}`);
    const replies = namesReplies('irc.chat', 'bob', '#lobby', nicks);
    expect(replies.length).toBeGreaterThan(10);
    expect(replies.slice(0, -1).flatMap((r) => r.params[3]!.split(' '))).toEqual(nicks);
    for (const r of replies) expect(Buffer.byteLength(serialize(r))).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(lines(namesReplies('irc.chat', 'bob', '#empty', []))).toEqual([
      ':irc.chat 366 bob #empty :End of /NAMES list',
    ]);
  });

  it('TOPIC 331, or 332 and 333', () => {
    expect(lines(topicReplies('irc.chat', 'bob', '#lobby', ''))).toEqual([':irc.chat 331 bob #lobby :No topic is set']);
    expect(
      lines(topicReplies('irc.chat', 'bob', '#lobby', 'Week 3: TCP', { nick: 'alice', atMs: 1765094400999 })),
    ).toEqual([':irc.chat 332 bob #lobby :Week 3: TCP', ':irc.chat 333 bob #lobby alice :1765094400']);
  });

  it('WHO 352 and 315; away is G', () => {
    expect(serialize(whoReply('irc.chat', 'bob', '#lobby', alice))).toBe(
      ':irc.chat 352 bob #lobby chat irc.chat irc.chat alice H :0 Alice L',
    );
    expect(serialize(whoReply('irc.chat', 'bob', '*', { ...alice, away: 'lunch' }))).toBe(
      ':irc.chat 352 bob * chat irc.chat irc.chat alice G :0 Alice L',
    );
    expect(serialize(endOfWho('irc.chat', 'bob', '#lobby'))).toBe(':irc.chat 315 bob #lobby :End of WHO list');
  });

  it('WHOX 354: the asked fields in the fixed order, with the token, never the address', () => {
    const req = parseWhox('%nafuhtcir,152')!;
    expect(serialize(whoxReply('irc.chat', 'bob', '#lobby', { ...alice, account: 'alice' }, req))).toBe(
      ':irc.chat 354 bob 152 #lobby chat 255.255.255.255 irc.chat alice H alice :Alice L',
    );
    expect(serialize(whoxReply('irc.chat', 'bob', '#lobby', alice, parseWhox('%na')!))).toBe(
      ':irc.chat 354 bob alice :0',
    );
    expect(parseWhox('#lobby')).toBeNull();
    expect(parseWhox(undefined)).toBeNull();
    expect(parseWhox('%n,abcd')!.token).toBe('0');
  });

  it('WHOIS 311, 319, 312, 301, 330, 317, 318', () => {
    expect(lines(whoisReplies(S, 'bob', { ...alice, away: 'lunch', account: 'alice' }))).toEqual([
      ':irc.chat 311 bob alice chat irc.chat * :Alice L',
      ':irc.chat 319 bob alice :#lobby #lab',
      ':irc.chat 312 bob alice irc.chat :Heartbeat',
      ':irc.chat 301 bob alice :lunch',
      ':irc.chat 330 bob alice alice :is logged in as',
      ':irc.chat 317 bob alice 42 1765094400 :seconds idle, signon time',
      ':irc.chat 318 bob alice :End of /WHOIS list',
    ]);
    expect(lines(whoisReplies(S, 'bob', { ...alice, rooms: [] })).map((l) => l.split(' ')[1])).toEqual([
      '311',
      '312',
      '317',
      '318',
    ]);
  });

  it('LIST 321, 322, 323', () => {
    expect(lines(listReplies('irc.chat', 'bob', [{ room: '#lobby', members: 3, topic: '' }]))).toEqual([
      ':irc.chat 321 bob Channel :Users  Name',
      ':irc.chat 322 bob #lobby 3 :',
      ':irc.chat 323 bob :End of /LIST',
    ]);
  });

  it('AWAY 301, 305, 306', () => {
    const a = awayReplies('irc.chat', 'bob');
    expect(serialize(a.away('alice', 'back at 3'))).toBe(':irc.chat 301 bob alice :back at 3');
    expect(serialize(a.unaway())).toBe(':irc.chat 305 bob :You are no longer marked as being away');
    expect(serialize(a.nowAway())).toBe(':irc.chat 306 bob :You have been marked as being away');
  });
});

describe('error numerics', () => {
  const shapes: Array<[keyof typeof ERRORS, string[], string]> = [
    ['ERR_NOSUCHNICK', ['carol'], ':irc.chat 401 bob carol :No such nick/channel'],
    ['ERR_NOSUCHCHANNEL', ['#nope'], ':irc.chat 403 bob #nope :No such channel'],
    ['ERR_CANNOTSENDTOCHAN', ['#lab'], ':irc.chat 404 bob #lab :Cannot send to channel'],
    ['ERR_TOOMANYCHANNELS', ['#x'], ':irc.chat 405 bob #x :You have joined too many channels'],
    ['ERR_TOOMANYTARGETS', ['a,b'], ':irc.chat 407 bob a,b :Too many targets: one at a time'],
    ['ERR_INVALIDCAPCMD', ['FOO'], ':irc.chat 410 bob FOO :Invalid CAP command'],
    ['ERR_NORECIPIENT', [], ':irc.chat 411 bob :No recipient given'],
    ['ERR_NOTEXTTOSEND', [], ':irc.chat 412 bob :No text to send'],
    ['ERR_INPUTTOOLONG', [], ':irc.chat 417 bob :Input line was too long'],
    ['ERR_UNKNOWNCOMMAND', ['FOO'], ':irc.chat 421 bob FOO :Unknown command'],
    ['ERR_NONICKNAMEGIVEN', [], ':irc.chat 431 bob :No nickname given'],
    ['ERR_ERRONEUSNICKNAME', ['a_b'], ':irc.chat 432 bob a_b :Erroneous nickname'],
    ['ERR_NICKNAMEINUSE', ['alice'], ':irc.chat 433 bob alice :Nickname is already in use'],
    ['ERR_NICKCOLLISION', ['alice'], ':irc.chat 436 bob alice :Nickname collision KILL'],
    ['ERR_USERNOTINCHANNEL', ['carol', '#lab'], ":irc.chat 441 bob carol #lab :They aren't on that channel"],
    ['ERR_NOTONCHANNEL', ['#lab'], ":irc.chat 442 bob #lab :You're not on that channel"],
    ['ERR_NOTREGISTERED', [], ':irc.chat 451 bob :You have not registered'],
    ['ERR_NEEDMOREPARAMS', ['JOIN'], ':irc.chat 461 bob JOIN :Not enough parameters'],
    ['ERR_ALREADYREGISTERED', [], ':irc.chat 462 bob :You may not reregister'],
    ['ERR_PASSWDMISMATCH', [], ':irc.chat 464 bob :Password incorrect'],
    ['ERR_YOUREBANNEDCREEP', [], ':irc.chat 465 bob :You are banned from this server'],
    ['ERR_CHANNELISFULL', ['#lab'], ':irc.chat 471 bob #lab :Cannot join channel (+l)'],
    ['ERR_INVITEONLYCHAN', ['#lab'], ':irc.chat 473 bob #lab :Cannot join channel (+i)'],
    ['ERR_NEEDREGGEDNICK', ['#lab'], ':irc.chat 477 bob #lab :You need a registered nick to join that channel'],
    ['ERR_CHANOPRIVSNEEDED', ['#lab'], ":irc.chat 482 bob #lab :You're not channel operator"],
    ['RPL_LOGGEDIN', ['bob!~bob@irc.chat', 'bob'], ':irc.chat 900 bob bob!~bob@irc.chat bob :You are now logged in'],
    ['RPL_LOGGEDOUT', ['bob!~bob@irc.chat'], ':irc.chat 901 bob bob!~bob@irc.chat :You are now logged out'],
    ['ERR_NICKLOCKED', [], ':irc.chat 902 bob :You must use a nick assigned to you'],
    ['RPL_SASLSUCCESS', [], ':irc.chat 903 bob :SASL authentication successful'],
    ['ERR_SASLFAIL', [], ':irc.chat 904 bob :SASL authentication failed'],
    ['ERR_SASLTOOLONG', [], ':irc.chat 905 bob :SASL message too long'],
    ['ERR_SASLABORTED', [], ':irc.chat 906 bob :SASL authentication aborted'],
    ['ERR_SASLALREADY', [], ':irc.chat 907 bob :You have already authenticated using SASL'],
    ['RPL_SASLMECHS', ['PLAIN'], ':irc.chat 908 bob PLAIN :are available SASL mechanisms'],
  ];
  it.each(shapes)('%s', (name, args, line) => {
    expect(serialize(errorReply('irc.chat', 'bob', name, args))).toBe(line);
  });

  it("a name the client sent as one word's place is made one word: the reply never fails to serialize", () => {
    expect(serialize(errorReply('irc.chat', '*', 'ERR_ERRONEUSNICKNAME', [' two words'], 'no space'))).toBe(
      ':irc.chat 432 * _two_words :no space',
    );
    expect(serialize(errorReply('irc.chat', '*', 'ERR_UNKNOWNCOMMAND', [':x']))).toBe(
      ':irc.chat 421 * x :Unknown command',
    );
    expect(serialize(errorReply('irc.chat', '*', 'ERR_NOSUCHNICK', ['']))).toBe(
      ':irc.chat 401 * * :No such nick/channel',
    );
  });

  it('every error is covered above, and a wrong count of parameters is refused', () => {
    expect(new Set(shapes.map(([n]) => n))).toEqual(new Set(Object.keys(ERRORS)));
    expect(() => errorReply('irc.chat', 'bob', 'ERR_NOSUCHNICK')).toThrow(IrcError);
  });

  it('the chat reason replaces the usual text; before registration the client is *', () => {
    expect(
      serialize(
        errorReply(
          'irc.chat',
          '*',
          'ERR_NICKNAMEINUSE',
          ['аре'],
          'nick аре is taken: it looks like ape, who is online',
        ),
      ),
    ).toBe(':irc.chat 433 * аре :nick аре is taken: it looks like ape, who is online');
  });

  it('chat refusals as IRC says them', () => {
    const r = (code: Parameters<typeof chatRefusal>[2], command: string, target?: string) =>
      serialize(chatRefusal('irc.chat', 'bob', code, 'why', target === undefined ? { command } : { command, target }));
    expect(r('NICK_INVALID', 'NICK', 'a\\b')).toBe(':irc.chat 432 bob a\\b :why');
    expect(r('NICK_TAKEN', 'NICK', 'alice')).toBe(':irc.chat 433 bob alice :why');
    expect(r('NICK_REGISTERED', 'NICK', 'alice')).toBe(':irc.chat 433 bob alice :why');
    expect(r('NO_SUCH_NICK', 'PRIVMSG', 'carol')).toBe(':irc.chat 401 bob carol :why');
    expect(r('ROOM_INVALID', 'JOIN', '#а')).toBe(':irc.chat 403 bob #а :why');
    expect(r('NOT_IN_ROOM', 'PRIVMSG', '#lab')).toBe(':irc.chat 404 bob #lab :why');
    expect(r('NOT_IN_ROOM', 'TOPIC', '#lab')).toBe(':irc.chat 442 bob #lab :why');
    expect(r('ROOM_LIMIT', 'JOIN', '#lab')).toBe(':irc.chat 405 bob #lab :why');
    expect(r('TEXT_INVALID', 'PRIVMSG', '#lab')).toBe(':irc.chat 412 bob :why');
    expect(r('NOT_STORED', 'PRIVMSG', '#lab')).toBe(':irc.chat 404 bob #lab :why');
    expect(r('NOT_STORED', 'PRIVMSG', 'carol')).toBe(':irc.chat FAIL PRIVMSG NOT_STORED :why');
    expect(r('PASSWORD_WRONG', 'PASS')).toBe(':irc.chat 464 bob :why');
    expect(r('PASSWORD_LOCKED', 'PASS')).toBe(':irc.chat 465 bob :why');
    expect(r('FLOOD', 'PRIVMSG')).toBe('ERROR :Closing link: why');
    expect(r('INBOX_FULL', 'PRIVMSG', 'carol')).toBe(':irc.chat FAIL PRIVMSG INBOX_FULL :why');
  });

  it('a refused line is answered: 417, FAIL INVALID_UTF8, FAIL INVALID_LINE', () => {
    expect(serialize(lineRefusal('irc.chat', 'bob', new IrcError('IRC_INPUT_TOO_LONG', 'x', 'PRIVMSG'))!)).toBe(
      ':irc.chat 417 bob :Input line was too long',
    );
    expect(serialize(lineRefusal('irc.chat', 'bob', new IrcError('IRC_INVALID_UTF8', 'x', 'PRIVMSG'))!)).toBe(
      ':irc.chat FAIL PRIVMSG INVALID_UTF8 :Message rejected: this network takes UTF-8 only',
    );
    expect(serialize(lineRefusal('irc.chat', 'bob', new IrcError('IRC_BAD_LINE', 'no command'))!)).toBe(
      ':irc.chat FAIL * INVALID_LINE :no command',
    );
  });

  it('a reply echoing a name too long for anyone is cut to the 512-byte line, one-word parts first', () => {
    const long = '小'.repeat(160); // 480 bytes: a line may carry it, no nick or room can be it
    const reply = errorReply('irc.chat', 'bob', 'ERR_NOSUCHCHANNEL', [`#${long}`], `#${long} is not a room`);
    const fitted = fitLine({ tags: { label: 'l1' }, ...reply });
    const body = serialize({ ...fitted, tags: {} });
    expect(byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(body).toMatch(/^:irc\.chat 403 bob #小{43} :#小+$/); // 1 + 43 * 3 = 130 bytes of the name kept whole
    expect(fitted.tags).toEqual({ label: 'l1' });
    const short = errorReply('irc.chat', 'bob', 'ERR_NOSUCHNICK', ['carol']);
    expect(fitLine(short)).toBe(short);
  });
});
