/**
 * A qlog file as --qlog writes it (common/lftp/node/qlog.ts): JSON Text
 * Sequences (RFC 7464), a header record, then events. Read streaming, record
 * by record, never whole: openQlog reads the header (the trace's side,
 * group, reference time), and the trace's events are read from the file as
 * they are iterated, so a trace of any size takes the memory of a chunk and
 * a record. A truncated last record (the writer was killed) is left out and
 * said so; anything else that is not a qlog event (an object with a finite
 * number time, a string name, an object data) is an error that names the
 * file and the record. What an event's data holds is checked where it
 * becomes the report's model (transfer-model.ts, heartbeat-timeline.ts).
 */
import { createReadStream } from 'node:fs';
import { UsageError } from '../../common/errors.js';

export interface QlogEvent {
  /** ms since the trace's reference time. */
  time: number;
  name: string;
  data: Record<string, unknown>;
}

export interface QlogTrace {
  file: string;
  /** An LFTP transfer's trace, or a chat session's (chat-server --qlog). */
  protocol: 'lftp' | 'chat';
  /** The header's configuration (a chat trace: the heartbeat interval and timeout). */
  configuration: Record<string, unknown>;
  title: string;
  side: 'client' | 'server';
  /** The transfer's connection id (hex): a client's and a server's trace of one transfer share it. */
  group: string;
  /** Epoch ms the event times count from. */
  referenceTime: number;
  /** The events in the file's order: read from the file as they are iterated (openQlog), or given (tests). */
  events: AsyncIterable<QlogEvent> | Iterable<QlogEvent>;
  /** A last record cut short (the program was killed while writing), left out; known once the events were read. */
  truncated: boolean;
}

/** The longest record read (an event is well under 1 KiB): a file with no record separators is not read whole. */
export const MAX_RECORD_CHARS = 1 << 20;
const CHUNK_BYTES = 1 << 20;

/** The file's records (the text between record separators), with their numbers from 1, read a chunk at a time. */
async function* records(file: string): AsyncGenerator<[text: string, n: number]> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  let rest = '';
  let n = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const parts = (rest + chunk).split('\x1e');
      rest = parts.pop()!;
      for (const p of parts) if (p.trim() !== '') yield [p, ++n];
      if (rest.length > MAX_RECORD_CHARS)
        throw new UsageError(
          `${file}: record ${n + 1} is longer than ${MAX_RECORD_CHARS} characters: not a qlog event`,
        );
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    stream.destroy();
  }
  if (rest.trim() !== '') yield [rest, ++n];
}

/** A trace's header, checked; its events are read when they are iterated. */
export async function openQlog(file: string): Promise<QlogTrace> {
  let first: string | undefined;
  for await (const [text] of records(file)) {
    first = text;
    break;
  }
  if (first === undefined) throw new UsageError(`${file} is empty: not a qlog file`);
  const parsed = parse(first, file, 1);
  const header = (isObject(parsed) ? parsed : {}) as {
    qlog_format?: unknown;
    title?: unknown;
    trace?: {
      vantage_point?: { type?: unknown };
      common_fields?: { group_id?: unknown; reference_time?: unknown; protocol_types?: unknown };
      configuration?: Record<string, unknown>;
    };
  };
  const side = header.trace?.vantage_point?.type;
  if (header.qlog_format !== 'JSON-SEQ' || (side !== 'client' && side !== 'server'))
    throw new UsageError(
      `${file} is not a qlog trace from chat-server or chat-client --qlog (its first record has no JSON-SEQ header with a client or server vantage point)`,
    );
  const types = header.trace?.common_fields?.protocol_types;
  const referenceTime = header.trace?.common_fields?.reference_time ?? 0;
  if (!Number.isFinite(referenceTime))
    throw new UsageError(`${file}: the header's reference_time is not a number (epoch ms)`);
  const configuration = header.trace?.configuration;
  const trace: QlogTrace = {
    file,
    protocol: Array.isArray(types) && types.includes('chat') ? 'chat' : 'lftp',
    configuration: isObject(configuration) ? configuration : {},
    title: typeof header.title === 'string' ? header.title : file,
    side,
    group: scalarText(header.trace?.common_fields?.group_id),
    referenceTime: referenceTime as number,
    events: [],
    truncated: false,
  };
  trace.events = { [Symbol.asyncIterator]: () => events(trace) };
  return trace;
}

/** The events after the header, each checked; a record that is not JSON is an error unless it is the last. */
async function* events(trace: QlogTrace): AsyncGenerator<QlogEvent> {
  let unparsed = 0;
  for await (const [text, n] of records(trace.file)) {
    if (n === 1) continue;
    if (unparsed) throw new UsageError(`${trace.file}: record ${unparsed} is not JSON`);
    let e: unknown;
    try {
      e = JSON.parse(text);
    } catch {
      unparsed = n;
      continue;
    }
    const ev = (isObject(e) ? e : {}) as Partial<Record<keyof QlogEvent, unknown>>;
    if (!Number.isFinite(ev.time) || typeof ev.name !== 'string' || !isObject(ev.data))
      throw new UsageError(`${trace.file}: record ${n} is not a qlog event (time, name, data)`);
    yield { time: ev.time as number, name: ev.name, data: ev.data };
  }
  trace.truncated = unparsed > 0;
}

/** A trace read whole into memory: for small traces (tests); the report streams (openQlog). */
export async function readQlog(file: string): Promise<QlogTrace & { events: QlogEvent[] }> {
  const t = await openQlog(file);
  const all: QlogEvent[] = [];
  for await (const e of t.events as AsyncIterable<QlogEvent>) all.push(e);
  return { ...t, events: all, truncated: t.truncated };
}

/** A JSON object (not null, not an array). */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parse(record: string, file: string, n: number): unknown {
  try {
    return JSON.parse(record);
  } catch {
    throw new UsageError(`${file}: record ${n} is not JSON`);
  }
}

/** A header field meant to be a string or a number, as text; anything else (an object, an array) is no group. */
function scalarText(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}
