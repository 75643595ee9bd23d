#!/usr/bin/env node
/**
 * The LFTP engine's own CPU per data packet, with no sockets and no files:
 *   node engine.js MSS BYTES
 * A sending and a receiving LftpConnection exchange encoded datagrams in memory
 * (header + payload joined, decoded and CRC-checked as the edge does); the
 * receiver copies into 1 MiB staging buffers and hashes them as FileSink does.
 * Each side's time is measured around its own calls only, so the figure is
 * what the protocol costs per packet on top of Node's socket I/O. Prints one
 * JSON line.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LftpConnection, type HashedSource, type SizedSink } from '../../common/lftp/engine/connection.js';
import { decodePacket, encodeHeader, type Packet } from '../../common/lftp/engine/packet.js';

const mss = Number(process.argv[2] ?? 1448);
const size = Number(process.argv[3] ?? 128 << 20);
const data = randomBytes(size);

/** One in-memory transfer of data[0, bytes); returns each side's milliseconds. */
async function transfer(bytes: number): Promise<{ senderMs: number; receiverMs: number; packets: number }> {
  const file = data.subarray(0, bytes);
  const digest = createHash('sha256').update(file).digest();
  const total = Math.ceil(bytes / mss);
  const source: HashedSource = {
    totalPackets: total,
    size: bytes,
    ready: (i) => i < total,
    chunk: (i) => (i < total ? file.subarray(i * mss, Math.min((i + 1) * mss, bytes)) : null),
    release: () => undefined,
    sha256: () => digest,
  };

  const STAGING = 1 << 20;
  const staging = Buffer.allocUnsafe(STAGING);
  let fill = 0;
  const hash = createHash('sha256');
  const sink: SizedSink = {
    backlogPackets: 0,
    setExpectedSize: () => undefined,
    push(_i, d) {
      for (let from = 0; from < d.length; ) {
        const n = d.copy(staging, fill, from);
        fill += n;
        from += n;
        if (fill === STAGING) {
          hash.update(staging);
          fill = 0;
        }
      }
    },
  };

  const toReceiver: Buffer[] = [];
  const toSender: Buffer[] = [];
  // Joining header and payload stands in for the kernel's gather of the two iovecs: not the sender's cost.
  let joinMs = 0;
  const wire = (queue: Buffer[]) => (p: Packet) => {
    const header = encodeHeader(p);
    const t = performance.now();
    queue.push(Buffer.concat([header, p.payload]));
    joinMs += performance.now() - t;
  };
  const common = { receiveCapacity: 2048, maxWindow: 2048, idleTimeoutMs: 30_000, handshakeTries: 5, closeTries: 5 };
  const request = { op: 'get' as const, name: 'f', mss };
  let now = 1000;
  const receiver: LftpConnection = new LftpConnection(
    { ...common, side: 'client', conn: 7, isn: 100, request },
    {
      send: wire(toSender),
      event: () => undefined,
      finishSink: (exp) => queueMicrotask(() => receiver.sinkFinished(now, { ok: true, size: exp.size, sha256: '' })),
    },
    now,
  );
  receiver.attachSink(sink);
  const sender = new LftpConnection(
    { ...common, side: 'server', conn: 7, isn: 5000, request },
    { send: wire(toReceiver), event: () => undefined },
    now,
  );
  sender.attachSource(source);

  let senderMs = 0;
  let receiverMs = 0;
  let accepted = false;
  receiver.open(now);
  for (let rounds = 0; !(receiver.finished && sender.finished) && rounds < 10_000_000; rounds++) {
    now += 0.01;
    if (toSender.length > 0) {
      const batch = toSender.splice(0);
      joinMs = 0;
      const t = performance.now();
      for (const b of batch) {
        const p = decodePacket(b);
        if (typeof p === 'string') throw new Error(`sender got a bad datagram: ${p}`);
        if (!accepted) {
          accepted = true;
          sender.accept(now, p.seq, bytes, mss);
        } else sender.onPacket(p, now);
      }
      sender.flush(now);
      sender.nextDeadline();
      senderMs += performance.now() - t - joinMs;
    }
    if (toReceiver.length > 0) {
      // At most 32 per turn, as libuv reads them.
      const batch = toReceiver.splice(0, 32);
      joinMs = 0;
      const t = performance.now();
      for (const b of batch) {
        const p = decodePacket(b);
        if (typeof p === 'string') throw new Error(`receiver got a bad datagram: ${p}`);
        receiver.onPacket(p, now);
        receiver.nextDeadline();
      }
      receiver.flush(now);
      receiverMs += performance.now() - t - joinMs;
    }
    if (toSender.length === 0 && toReceiver.length === 0) {
      await new Promise((r) => setImmediate(r));
      now += 1;
      receiver.tick(now);
      sender.tick(now);
    }
  }
  if (fill > 0) hash.update(staging.subarray(0, fill));
  if (!receiver.succeeded || !hash.digest().equals(digest))
    throw new Error(`the in-memory transfer did not complete intact (${receiver.state}/${sender.state})`);
  return { senderMs, receiverMs, packets: total };
}

await transfer(Math.min(size, 16 << 20)); // warm-up: let the JIT settle first
const r = await transfer(size);
process.stdout.write(
  JSON.stringify({
    mss,
    packets: r.packets,
    senderUsPerPacket: (r.senderMs * 1000) / r.packets,
    receiverUsPerPacket: (r.receiverMs * 1000) / r.packets,
  }) + '\n',
);
