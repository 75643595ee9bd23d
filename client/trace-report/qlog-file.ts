/**
 * A qlog file as --qlog writes it (common/lftp/node/qlog.ts): JSON Text
 * Sequences (RFC 7464), a header record, then events. Read whole, checked
 * record by record: a truncated last record (the writer was killed) is left
 * out and said so, anything else that is not a qlog event (an object with a
 * finite number time, a string name, an object data) is an error that names
 * the file and the record. What an event's data holds is checked where it
 * becomes the report's model (transfer-model.ts, heartbeat-timeline.ts).
 */
import { readFileSync } from 'node:fs';
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
  events: QlogEvent[];
  /** A last record cut short (the program was killed while writing), left out. */
  truncated: boolean;
}

/** The largest trace file read (a 1 GiB transfer at 1448 B makes about 300 MB of qlog per side). */
export const MAX_TRACE_BYTES = 512 * 1024 * 1024;

export function readQlog(file: string): QlogTrace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.length > MAX_TRACE_BYTES)
    throw new UsageError(`${file} is over ${MAX_TRACE_BYTES / 2 ** 20} MiB; trace a smaller transfer`);
  const records = text.split('\x1e').filter((r) => r.trim() !== '');
  if (records.length === 0) throw new UsageError(`${file} is empty: not a qlog file`);
  const parsed = parse(records[0]!, file, 1);
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
  const events: QlogEvent[] = [];
  let truncated = false;
  for (let i = 1; i < records.length; i++) {
    const last = i === records.length - 1;
    let e: unknown;
    try {
      e = JSON.parse(records[i]!);
    } catch {
      if (last) {
        truncated = true;
        break;
      }
      throw new UsageError(`${file}: record ${i + 1} is not JSON`);
    }
    const ev = (isObject(e) ? e : {}) as Partial<Record<keyof QlogEvent, unknown>>;
    if (!Number.isFinite(ev.time) || typeof ev.name !== 'string' || !isObject(ev.data))
      throw new UsageError(`${file}: record ${i + 1} is not a qlog event (time, name, data)`);
    events.push({ time: ev.time as number, name: ev.name, data: ev.data });
  }
  const types = header.trace?.common_fields?.protocol_types;
  const referenceTime = header.trace?.common_fields?.reference_time ?? 0;
  if (!Number.isFinite(referenceTime))
    throw new UsageError(`${file}: the header's reference_time is not a number (epoch ms)`);
  const configuration = header.trace?.configuration;
  return {
    file,
    protocol: Array.isArray(types) && types.includes('chat') ? 'chat' : 'lftp',
    configuration: isObject(configuration) ? configuration : {},
    title: typeof header.title === 'string' ? header.title : file,
    side,
    group: scalarText(header.trace?.common_fields?.group_id),
    referenceTime: referenceTime as number,
    events,
    truncated,
  };
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
