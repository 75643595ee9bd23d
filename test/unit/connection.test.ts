/**
 * A chat session (server/chat/connection.ts) in-process, as ws tests its
 * receiver: a stand-in transport and host, the real session table in its
 * SharedArrayBuffer, and a bus that records what was posted.
 */
import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import pino from 'pino';
import { decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from '../../common/protocol.js';
import type { RawFrame } from '../../common/frame.js';
import { ClientConnection } from '../../server/chat/connection.js';
import type { ConnectionHost, GroupMember } from '../../server/chat/session-host.js';
import type { ChatTransport, TransportEvents } from '../../server/chat/transport.js';
import type { RoomBus, SessionAddress } from '../../server/bus/room-bus.js';
import type { SequencerPort } from '../../server/store/store-link.js';
import type { ToStore } from '../../server/store/store-messages.js';
import { LocalNickRegistry } from '../../server/bus/nick-registry.js';
import { SessionTable } from '../../server/shm/session-table.js';
import { AddressTable } from '../../server/shm/address-table.js';
import { Admission, DEFAULT_ADMISSION, type AdmissionPolicy } from '../../server/chat/admission.js';

const decode = (frame: Buffer): ServerMessage => decodeServerMessage({ type: frame[4]!, body: frame.subarray(5) });
const raw = (m: ClientMessage): RawFrame => {
  const f = encodeMessage(m);
  return { type: f[4]!, body: f.subarray(5) };
};

class FakeTransport implements ChatTransport {
  readonly kind = 'tcp' as const;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort: number;
  destroyed = false;
  ended = false;
  queuedBytes = 0;
  readonly output = { accepted: 0, taken: 0 };
  readonly rawSocket = {} as Socket;
  readonly written: ServerMessage[] = [];
  events: TransportEvents | null = null;
  /** Set: what is written waits (counts in queuedBytes) until the client reads it (read()). */
  holds = false;
  constructor(port: number) {
    this.remotePort = port;
  }
  start(events: TransportEvents): void {
    this.events = events;
  }
  write(frame: Buffer): void {
    this.written.push(decode(frame));
    if (this.holds) this.queuedBytes += frame.length;
  }
  /** The client reads all that waits, and the flush that follows says so. */
  read(): void {
    this.queuedBytes = 0;
    this.events!.backlog(0);
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  discardQueued(): void {
    this.queuedBytes = 0;
  }
  /** The client sends. */
  send(...msgs: ClientMessage[]): void {
    this.events!.frames(msgs.map(raw), 10);
  }
}

class RecordingBus implements RoomBus {
  readonly room: ServerMessage[] = [];
  readonly direct: Array<{ to: SessionAddress; msg: ServerMessage }> = [];
  readonly kicks: SessionAddress[] = [];
  post(frame: Buffer): void {
    this.room.push(decode(frame));
  }
  postTo(to: SessionAddress, frame: Buffer): void {
    this.direct.push({ to, msg: decode(frame) });
  }
  kick(to: SessionAddress): void {
    this.kicks.push(to);
  }
  postToRooms(): void {}
  membership(): void {}
  replay(): void {}
  close(): void {}
}

/** What sessions handed to the store thread, in order (its sequencer is tested on its own). */
class RecordingSequencer implements SequencerPort {
  readonly sent: ToStore[] = [];
  send(msg: ToStore): void {
    this.sent.push(msg);
  }
  get said() {
    return this.sent.flatMap((m) =>
      m.k === 'say' ? [{ from: m.from, text: m.text, action: m.action, sender: m.sender }] : [],
    );
  }
  get directs() {
    return this.sent.flatMap((m) =>
      m.k === 'direct' ? [{ from: m.from, to: m.to, text: m.text, sender: m.sender, target: m.target }] : [],
    );
  }
  /** The notices the sessions asked to be posted (leave, rename), decoded. */
  get notices(): ServerMessage[] {
    return this.sent.flatMap((m) =>
      (m.k === 'leave' || m.k === 'rename') && m.notice ? [decode(Buffer.from(m.notice))] : [],
    );
  }
}

/** Time that passes only when a test says so. */
class FakeTimer {
  now = 0;
  private pending: Array<{ at: number; fn: () => void }> = [];
  readonly timer = {
    now: () => this.now,
    after: (ms: number, fn: () => void) => {
      const entry = { at: this.now + ms, fn };
      this.pending.push(entry);
      return () => (this.pending = this.pending.filter((p) => p !== entry));
    },
  };
  advance(ms: number): void {
    this.now += ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= this.now).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.pending = this.pending.filter((p) => p !== due);
      due.fn();
    }
  }
}

/** The NickRegistry's answers (promises) are in. */
const settle = () => new Promise((r) => setImmediate(r));

function world(limits: Partial<ConnectionHost['limits']> = {}, admission: Partial<AdmissionPolicy> = {}) {
  const table = SessionTable.create(8);
  const time = new FakeTimer();
  const addresses = AddressTable.create(64, 1);
  const bus = new RecordingBus();
  const history = new RecordingSequencer();
  const events: string[] = [];
  const registered = new Set<GroupMember>();
  const host: ConnectionHost = {
    workerIndex: 0,
    node: 'n1',
    serverName: 'test',
    limits: {
      intervalMs: 1000,
      timeoutMs: 3000,
      maxFrame: 65536,
      maxText: 100,
      helloTimeoutMs: 10_000,
      maxSendQueue: 1000,
      maxOutputBytes: 100_000,
      flood: { burst: 1000, perSecond: 1000, backlogFrames: 4, backlogBytes: 100_000 },
      ...limits,
    },
    timer: time.timer,
    admission: new Admission(addresses, 0, {
      ...DEFAULT_ADMISSION,
      maxSessionsPerAddress: 100,
      maxPendingPerAddress: 100,
      ...admission,
    }),
    log: pino({ level: 'silent' }),
    totals: { msgsIn: 0, bytesIn: 0, bytesOut: 0, framesOut: 0 },
    clock: { wallNow: () => 1_000_000, awakeNow: () => 1_000_000 },
    table,
    nicks: new LocalNickRegistry(table, 'n1'),
    bus,
    sequencer: history,
    defaultRoom: '#lobby',
    resumeWindowMs: 0,
    serverPassword: null,
    accounts: null,
    sessions: { registered: (c) => registered.add(c), unregistered: (c) => registered.delete(c) },
    qlogDir: null,
    files: {
      lftpPort: 9000,
      list: async () => ({ type: 'FILES_REPLY', files: [], total: 0 }),
      ticket: async () => ({ type: 'BYE', reason: '' }),
    },
    event: (t) => events.push(t),
  };
  let port = 40000;
  /** The worker's output budget, as far as held history goes. */
  const budget = { bytes: 0, charge: (b: number) => void (budget.bytes += b) };
  const connect = () => {
    const t = new FakeTransport(port++);
    return { t, conn: new ClientConnection(t, host, budget) };
  };
  /** A session after its HELLO's claim came back from the registry. */
  const join = async (nick: string) => {
    const c = connect();
    c.t.send({ type: 'HELLO', version: 1, nick });
    await settle();
    return c;
  };
  return { table, bus, history, events, registered, host, connect, join, time, addresses, budget };
}

describe('a chat session on the server', () => {
  it('HELLO claims the nick, answers WELCOME, registers, and tells the room', async () => {
    const w = world();
    const { t, conn } = await w.join('alice');
    expect(t.written[0]).toMatchObject({
      type: 'WELCOME',
      version: 1,
      nick: 'alice',
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 3000,
      maxText: 100,
      users: 1,
      lftpPort: 9000,
    });
    expect(conn.active).toBe(true);
    expect(w.registered.has(conn)).toBe(true);
    expect(w.table.lookup('ALICE')?.nick).toBe('alice');
    // Into the default room through the sequencer (which posts the notice, in the room's order).
    const ref = conn.ref!;
    expect(w.history.sent).toEqual([
      {
        k: 'enter',
        session: { node: 'n1', slot: ref.slot, generation: ref.generation, owner: 0 },
        nick: 'alice',
        version: 1,
        token: null,
        account: false,
      },
    ]);
    expect(w.events[0]).toMatch(/^\* alice joined \(tcp 127\.0\.0\.1:\d+, worker 0\)$/);
  });

  it('refuses anything before HELLO, a wrong version, and a taken nick, each fatally with its code', async () => {
    const w = world();
    const early = w.connect();
    early.t.send({ type: 'CHAT', text: 'hi', action: false });
    expect(early.t.written).toEqual([
      { type: 'ERROR', code: 'HELLO_REQUIRED', message: 'CHAT before HELLO', fatal: true },
    ]);
    expect(early.t.ended).toBe(true);

    const old = w.connect();
    old.t.send({ type: 'HELLO', version: 99, nick: 'bob' });
    expect(old.t.written[0]).toMatchObject({ type: 'ERROR', code: 'VERSION_UNSUPPORTED', fatal: true });

    await w.join('carol');
    const twin = await w.join('Carol');
    expect(twin.t.written[0]).toMatchObject({ type: 'ERROR', code: 'NICK_TAKEN', fatal: true });
    expect(w.table.activeCount()).toBe(1);
  });

  it('CHAT goes to the room with the sender and server time; empty and oversized text are refused, the session stays', async () => {
    const w = world();
    const { t, conn } = await w.join('alice');
    t.send(
      { type: 'CHAT', text: 'hello', action: false },
      { type: 'CHAT', text: '   ', action: false },
      { type: 'CHAT', text: 'x'.repeat(101), action: false },
    );
    expect(w.history.said.at(-1)).toEqual({
      from: 'alice',
      text: 'hello',
      action: false,
      sender: { node: 'n1', slot: conn.ref!.slot, generation: conn.ref!.generation, owner: 0 },
    });
    expect(t.written.slice(1).map((m) => m.type === 'ERROR' && [m.code, m.fatal])).toEqual([
      ['TEXT_INVALID', false],
      ['TEXT_INVALID', false],
    ]);
    expect(conn.active).toBe(true);
    expect(conn.counters.msgsIn).toBe(1);
  });

  it("DIRECT goes to the store with the target wherever it lives (the sender's copy comes from there); an unknown nick is NO_SUCH_NICK", async () => {
    const w = world();
    const alice = await w.join('alice');
    await w.join('bob');
    alice.t.send({ type: 'DIRECT', to: 'BOB', text: 'psst' });
    // The target is asked of the NickRegistry; what the session sent after waits for the answer.
    expect(w.history.directs).toEqual([]);
    await settle();
    const ref = w.table.lookup('bob')!;
    const me = alice.conn.ref!;
    expect(w.history.directs).toEqual([
      {
        from: 'alice',
        to: 'bob',
        text: 'psst',
        sender: { node: 'n1', slot: me.slot, generation: me.generation, owner: 0 },
        target: { node: 'n1', slot: ref.slot, generation: ref.generation, owner: 0, nick: 'bob' },
      },
    ]);
    alice.t.send({ type: 'DIRECT', to: 'nobody', text: 'x' });
    await settle();
    expect(alice.t.written.at(-1)).toMatchObject({ type: 'ERROR', code: 'NO_SUCH_NICK', fatal: false });
    // What follows a DIRECT waits for its lookup: the store gets them in the order sent.
    alice.t.send({ type: 'DIRECT', to: 'bob', text: 'first' }, { type: 'CHAT', text: 'second', action: false });
    await settle();
    expect(w.history.sent.slice(-2).map((m) => m.k)).toEqual(['direct', 'say']);
  });

  it('NICK renames in the table and tells the room; a taken or invalid nick is refused', async () => {
    const w = world();
    const alice = await w.join('alice');
    await w.join('bob');
    alice.t.send({ type: 'NICK', nick: 'alicia' });
    await settle();
    expect(w.history.notices.at(-1)).toEqual({ type: 'NOTICE', event: 'nick', nick: 'alice', newNick: 'alicia' });
    expect(w.table.lookup('alicia')).not.toBeNull();
    expect(w.table.lookup('alice')).toBeNull();
    alice.t.send({ type: 'NICK', nick: 'BOB' }, { type: 'NICK', nick: 'has space' });
    await settle();
    expect(alice.t.written.slice(-2).map((m) => m.type === 'ERROR' && m.code)).toEqual(['NICK_TAKEN', 'NICK_INVALID']);
    alice.t.send({ type: 'CHAT', text: 'still me', action: false });
    expect(w.history.said.at(-1)).toMatchObject({ from: 'alicia' });
  });

  it("WHO asks the NickRegistry (cluster-wide when there are nodes), not this node's table, and answers in turn", async () => {
    const w = world();
    const alice = await w.join('alice');
    const local = w.host.nicks;
    const elsewhere = { ...(await local.who())[0]!, nick: 'zed', slot: 5, away: true, awaySince: 1 };
    Object.assign(w.host, { nicks: { ...local, who: async () => [...(await local.who()), elsewhere] } });
    alice.t.send({ type: 'WHO' });
    await new Promise((r) => setImmediate(r));
    expect(alice.t.written.at(-1)).toMatchObject({
      type: 'WHO_REPLY',
      users: [{ nick: 'alice' }, { nick: 'zed', away: true }],
      total: 2,
    });
  });

  it('every way out frees the slot once and tells the room the right notice', async () => {
    const w = world();
    const bye = await w.join('quitter');
    bye.t.send({ type: 'BYE', reason: 'off to lunch' });
    expect(bye.t.written.at(-1)).toEqual({ type: 'BYE', reason: 'goodbye' });
    expect(w.history.notices.at(-1)).toEqual({
      type: 'NOTICE',
      event: 'left',
      nick: 'quitter',
      reason: 'off to lunch',
    });
    expect(w.events.at(-1)).toBe('* quitter left (quit: off to lunch)');

    const kicked = await w.join('spammer');
    kicked.conn.kick('spam');
    expect(kicked.t.written.at(-1)).toEqual({ type: 'BYE', reason: 'kicked: spam' });
    expect(w.history.notices.at(-1)).toEqual({ type: 'NOTICE', event: 'kicked', nick: 'spammer', reason: 'spam' });

    const gone = await w.join('dropped');
    gone.t.events!.closed('ECONNRESET');
    gone.t.events!.ended();
    expect(
      w.history.notices.filter((m) => m.type === 'NOTICE' && m.nick === 'dropped' && m.event === 'left'),
    ).toHaveLength(1);

    const shut = await w.join('late');
    const before = w.history.notices.length;
    shut.conn.shutdown('server shutting down');
    expect(w.history.notices.length).toBe(before); // no notices into a closing room
    expect(w.history.sent.at(-1)).toMatchObject({ k: 'leave', notice: null }); // but out of its rooms
    expect(w.table.activeCount()).toBe(0);
    expect(w.registered.size).toBe(0);
  });

  it('a client that stops reading is dropped with SEND_QUEUE_FULL once what it has not taken after a flush passes the cap', async () => {
    const w = world({ maxSendQueue: 1000 });
    const { t, conn } = await w.join('slow');
    expect(conn.send(encodeMessage({ type: 'BROADCAST', text: 'a', ts: 1 }))).toBe(true);
    t.events!.backlog(1000); // at the cap: still served
    expect(conn.closed).toBe(false);
    t.queuedBytes = 1500; // within one turn the queue may pass the cap...
    expect(conn.send(encodeMessage({ type: 'BROADCAST', text: 'b', ts: 2 }))).toBe(true);
    t.events!.backlog(1001); // ...but not once offered everything
    expect(t.written.at(-1)).toMatchObject({ type: 'ERROR', code: 'SEND_QUEUE_FULL', fatal: true });
    expect(conn.closed).toBe(true);
    expect(w.history.notices.at(-1)).toEqual({ type: 'NOTICE', event: 'left', nick: 'slow' });
    expect(conn.send(encodeMessage({ type: 'BROADCAST', text: 'c', ts: 3 }))).toBe(false);
  });

  it('history far past the cap goes as the client reads, never a reason to drop it; live frames wait behind it and count', async () => {
    const w = world({ maxSendQueue: 1000 });
    const { t, conn } = await w.join('reader');
    t.holds = true;
    t.read();
    const page = (id: number) =>
      encodeMessage({
        type: 'HISTORY',
        room: '#lobby',
        entries: [{ id, ts: 1, from: 'x', text: 'y'.repeat(400), action: false }],
        done: id === 10,
        more: false,
      });
    for (let id = 1; id <= 10; id++) conn.inbox.deliver(page(id)); // 5 KB: five times the cap
    conn.inbox.deliver(encodeMessage({ type: 'BROADCAST', text: 'after the history', ts: 2 }));
    expect(conn.queuedBytes).toBeGreaterThan(5 * 1000); // the budget's view: held history included
    expect(w.budget.bytes).toBe(conn.queuedBytes - t.queuedBytes);
    for (let reads = 0; reads < 20 && t.queuedBytes > 0; reads++) {
      expect(t.queuedBytes).toBeLessThanOrEqual(1000); // never past the cap in the output
      t.read();
    }
    expect(conn.closed).toBe(false);
    const sent = t.written.filter((m) => m.type === 'HISTORY' || m.type === 'BROADCAST');
    expect(sent.map((m) => (m.type === 'HISTORY' ? m.entries[0]!.id : m.type))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i + 1),
      'BROADCAST',
    ]);
    expect(w.budget.bytes).toBe(0);
    // It stops reading: the live frames held behind what it asked for again pass the cap, and it is dropped.
    for (let id = 1; id <= 10; id++) conn.inbox.deliver(page(id));
    for (let i = 0; i < 20 && !conn.closed; i++)
      conn.inbox.deliver(encodeMessage({ type: 'BROADCAST', text: 'z'.repeat(100), ts: 3 }));
    expect(t.written.at(-1)).toMatchObject({ type: 'ERROR', code: 'SEND_QUEUE_FULL', fatal: true });
    expect(w.budget.bytes).toBe(0); // what was held is let go
  });

  it('within one turn, a queue of twice the cap is refused at once', async () => {
    const w = world({ maxSendQueue: 1000 });
    const { t, conn } = await w.join('slow');
    t.queuedBytes = 2001;
    expect(conn.send(encodeMessage({ type: 'BROADCAST', text: 'b', ts: 2 }))).toBe(false);
    expect(t.written.at(-1)).toMatchObject({ type: 'ERROR', code: 'SEND_QUEUE_FULL', fatal: true });
  });

  it('flood control: a burst passes, the rest waits its credits in order, heartbeat answers never wait, a backlog past its bound is FLOOD', async () => {
    const w = world({ flood: { burst: 5, perSecond: 2, backlogFrames: 4, backlogBytes: 100_000 } });
    const bob = await w.join('bob');
    const alice = await w.join('alice');
    const say = (text: string) => alice.t.send({ type: 'CHAT', text, action: false });
    for (let i = 1; i <= 7; i++) say(`m${i}`);
    const heard = () => w.history.said.map((m) => m.text);
    expect(heard()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    const hb = bob.t.written.length;
    alice.t.send({ type: 'HEARTBEAT_ACK', seq: 1, ts: 1 }); // not held behind m6, m7
    expect(alice.conn.closed).toBe(false);
    expect(bob.t.written.length).toBe(hb);
    w.time.advance(499);
    expect(heard()).toHaveLength(5);
    w.time.advance(1);
    expect(heard()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    w.time.advance(500);
    expect(heard()).toHaveLength(7);
    // Keeps exceeding: 5 more spend the credits earned meanwhile... and 4 wait; the fifth waiting one is one too many.
    w.time.advance(10_000);
    for (let i = 8; i <= 16; i++) say(`m${i}`);
    expect(alice.conn.closed).toBe(false);
    say('m17');
    expect(alice.conn.closed).toBe(true);
    expect(alice.t.written.at(-1)).toMatchObject({
      type: 'ERROR',
      code: 'FLOOD',
      fatal: true,
      message: expect.stringContaining('faster than 2 a second'),
    });
    w.time.advance(10_000);
    expect(heard()).not.toContain('m13'); // what waited is dropped with the client
    expect(heard()).toHaveLength(12);
  });

  it('per address: sessions beyond the limit are refused with ADDRESS_LIMIT; places are given back at the end', async () => {
    const w = world({}, { maxSessionsPerAddress: 2 });
    const a = await w.join('a1');
    await w.join('a2');
    const third = await w.join('a3');
    expect(third.t.written[0]).toMatchObject({
      type: 'ERROR',
      code: 'ADDRESS_LIMIT',
      fatal: true,
      message: expect.stringContaining('already has 2 sessions'),
    });
    expect(w.addresses.count('127.0.0.1', 'session')).toBe(2);
    expect(w.addresses.count('127.0.0.1', 'pending')).toBe(0);
    a.t.events!.closed('gone');
    expect(w.addresses.count('127.0.0.1', 'session')).toBe(1);
    expect((await w.join('a4')).conn.active).toBe(true);
    const waiting = w.connect(); // no HELLO yet
    expect(w.addresses.count('127.0.0.1', 'pending')).toBe(0); // counted by the client group, which admitted it
    waiting.t.events!.closed('gone');
  });

  it('a connection that ends while its HELLO claim is out gets nothing: the nick and its place are given back', async () => {
    const w = world();
    const quick = w.connect();
    quick.t.send({ type: 'HELLO', version: 1, nick: 'quick' });
    quick.t.events!.closed('gone');
    await settle();
    expect(quick.t.written).toEqual([]);
    expect(w.table.lookup('quick')).toBeNull();
    expect(w.addresses.count('127.0.0.1', 'session')).toBe(0);
    expect(w.history.sent).toEqual([]);
    expect((await w.join('quick')).conn.active).toBe(true);
  });

  it('a resume whose connection ends while its claim is out: the store moves the member there, then hears it is away', async () => {
    const w = world();
    (w.host as { resumeWindowMs: number }).resumeWindowMs = 60_000;
    const first = w.connect();
    first.t.send({ type: 'HELLO', version: 2, nick: 'rosa' });
    await settle();
    const welcome = first.t.written.find((m) => m.type === 'WELCOME') as { resume?: string } | undefined;
    expect(welcome?.resume).toBeTruthy();
    first.t.events!.closed('gone');
    const again = w.connect();
    // The connection ends while the registry's answer is on its way (as a cluster's takes a round trip).
    const nicks = w.host.nicks;
    (w.host as { nicks: typeof nicks }).nicks = {
      ...nicks,
      resume: async (...args: Parameters<typeof nicks.resume>) => {
        again.t.events!.closed('gone too');
        return nicks.resume(...args);
      },
    };
    again.t.send({ type: 'HELLO', version: 2, nick: 'rosa', resume: welcome!.resume!, last: [] });
    await settle();
    expect(again.t.written).toEqual([]);
    const tail = w.history.sent.slice(-2);
    expect(tail.map((m) => m.k)).toEqual(['resume', 'away']);
    const [resume, away] = tail as [Extract<ToStore, { k: 'resume' }>, Extract<ToStore, { k: 'away' }>];
    expect(resume.previous.generation).not.toBe(resume.session.generation);
    expect(away.session).toEqual(resume.session);
    // Away at its new place, which the window's end can free.
    expect(w.table.releaseAway(resume.session)).toBe(true);
  });

  it('no HELLO within the limit: HELLO_TIMEOUT', async () => {
    let awake = 0;
    const w = world({ helloTimeoutMs: 5000 });
    w.host.clock.awakeNow = () => awake;
    const { t, conn } = w.connect();
    conn.tick(4000, 4000);
    expect(conn.closed).toBe(false);
    awake = 5001;
    conn.tick(5001, 5001);
    expect(t.written).toEqual([
      { type: 'ERROR', code: 'HELLO_TIMEOUT', message: 'no HELLO within 5000ms', fatal: true },
    ]);
  });
});
