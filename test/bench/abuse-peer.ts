/**
 * One chat user for the abuse suite, speaking either the project's protocol
 * or IRC (for ngircd), so that each scenario runs unchanged against both.
 * It answers heartbeats (PING), joins the room (#bench on IRC), timestamps
 * what it says and measures, for every line from another peer, the time
 * from its send to its arrival here (one process, one clock). Every peer
 * talks to 127.0.0.1 only, from the source address it is given.
 */
import net from 'node:net';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType, type ServerMessage } from '../../common/protocol.js';

export type Proto = 'chat' | 'irc';

const STAMP = /^t:(\d+(?:\.\d+)?) /;

export class BenchPeer {
  joined = false;
  closed = false;
  /** The server's reason when it refused or dropped this peer (an ERROR code, or IRC's ERROR text). */
  error: string | null = null;
  /** Milliseconds from another peer's send to this peer's receipt, per stamped line. */
  readonly latencies: Array<{ at: number; ms: number }> = [];
  /** Lines heard, by sender. */
  readonly heard = new Map<string, number>();
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  private ircRest = '';
  /** Every frame from a chat server, for scenarios that look at more than the room's lines. */
  onFrame: ((msg: ServerMessage) => void) | null = null;
  private onJoined: () => void = () => undefined;

  private constructor(
    readonly proto: Proto,
    readonly nick: string,
    readonly socket: net.Socket,
  ) {
    socket.on('data', (chunk: Buffer) => (proto === 'chat' ? this.onChatData(chunk) : this.onIrcData(chunk)));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.onJoined();
    });
  }

  /** Connects and joins; resolves once joined, refused or closed (see `joined`, `error`), or after timeoutMs. */
  static async join(
    proto: Proto,
    port: number,
    nick: string,
    o: { from: string; timeoutMs?: number },
  ): Promise<BenchPeer> {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: o.from });
    const peer = new BenchPeer(proto, nick, socket);
    const joined = new Promise<void>((resolve) => {
      peer.onJoined = resolve;
      setTimeout(resolve, o.timeoutMs ?? 10_000).unref();
    });
    socket.once('connect', () =>
      socket.write(
        proto === 'chat'
          ? encodeMessage({ type: 'HELLO', version: 1, nick })
          : `NICK ${nick}\r\nUSER ${nick} 0 * :bench\r\n`,
      ),
    );
    await joined;
    return peer;
  }

  /** Says a stamped line to the room. */
  say(text: string): void {
    if (!this.closed) this.socket.write(this.line(`t:${performance.now().toFixed(3)} ${text}`));
  }

  /** The bytes one room message takes on the wire (the flooder writes them as fast as it can). */
  line(text: string): Buffer | string {
    return this.proto === 'chat' ? encodeMessage({ type: 'CHAT', text, action: false }) : `PRIVMSG #bench :${text}\r\n`;
  }

  close(): void {
    this.socket.destroy();
  }

  private heardLine(from: string, text: string): void {
    this.heard.set(from, (this.heard.get(from) ?? 0) + 1);
    const m = STAMP.exec(text);
    if (m && from !== this.nick) this.latencies.push({ at: performance.now(), ms: performance.now() - Number(m[1]) });
  }

  private onChatData(chunk: Buffer): void {
    for (const f of this.decoder.push(chunk)) this.onChat(decodeServerMessage(f));
  }

  private onChat(msg: ServerMessage): void {
    this.onFrame?.(msg);
    if (msg.type === 'WELCOME') {
      this.joined = true;
      this.onJoined();
    } else if (msg.type === 'HEARTBEAT')
      this.socket.write(encodeMessage({ type: 'HEARTBEAT_ACK', seq: msg.seq, ts: msg.ts }));
    else if (msg.type === 'ERROR') {
      this.error ??= msg.code;
      this.onJoined();
    } else if (msg.type === 'CHAT') this.heardLine(msg.from, msg.text);
  }

  private onIrcData(chunk: Buffer): void {
    const lines = (this.ircRest + chunk.toString('utf8')).split('\r\n');
    this.ircRest = lines.pop() ?? '';
    for (const line of lines) this.onIrc(line);
  }

  private onIrc(line: string): void {
    if (line.startsWith('PING ')) return void this.socket.write(`PONG ${line.slice(5)}\r\n`);
    if (line.startsWith('ERROR ')) {
      this.error ??= line.slice(6).replace(/^:/, '');
      return this.onJoined();
    }
    const m = /^:([^! ]+)\S* (\S+) (\S+)(?: :?(.*))?$/.exec(line);
    if (!m) return;
    const [, from, command, target, rest] = m;
    if (command === '001') this.socket.write('JOIN #bench\r\n');
    else if (command === 'JOIN' && from === this.nick) {
      this.joined = true;
      this.onJoined();
    } else if (command === 'PRIVMSG' && target === '#bench') this.heardLine(from!, rest ?? '');
  }
}

/** The i-th of many loopback source addresses in 127.<net>.0.0/16, so that each peer is its own "machine". */
export function sourceAddress(net8: number, i: number): string {
  return `127.${net8}.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`;
}
