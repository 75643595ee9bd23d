/**
 * chat-client trace report FILE… -o report.html: the qlog files --qlog wrote
 * (either side's, or both: traces of one transfer are merged by connection
 * id) drawn into one self-contained HTML file (report-html.ts). Every
 * header is read first (a file that is not a trace fails before anything is
 * drawn); then each transfer's files are read streaming, one transfer at a
 * time, into a model whose size does not grow with the transfer.
 */
import { writeFileSync } from 'node:fs';
import { ExitCode, UsageError } from '../../common/errors.js';
import { parseOptions } from '../../common/cli.js';
import { writeLineSync } from '../../common/sync-output.js';
import { openQlog, type QlogTrace } from './qlog-file.js';
import { buildModel } from './transfer-model.js';
import { reportHtml, type ReportItem } from './report-html.js';
import { sessionView } from './heartbeat-timeline.js';

export const TRACE_USAGE = `Usage: chat-client trace report FILE... -o REPORT.html

Draws LFTP transfers and chat sessions from the qlog files --qlog DIR wrote
(chat-client lftp, chat-client's /get and /post, chat-server and chat-server
lftp). For a chat session (chat-server --qlog): its heartbeats, their RTT,
the timeout windows and the moment of a drop with the numbers behind it. For each
transfer a summary (goodput, losses, retransmissions, RTO fires, RTT), the
handshake and teardown as a sequence diagram with flags, seq and ack on every
arrow and both sides' states, a time-sequence graph (data, ACKs, SACK ranges,
retransmissions, losses) and the congestion window, ssthresh, packets in
flight and RTT over time with the controller's phases. Give both sides' files
of a transfer and they are merged (then a datagram sent and never received
shows as lost). The HTML needs no network: open it anywhere.

Options:
  -o, --output FILE   where the report goes (required; an existing file is replaced)
  -h, --help          this help`;

export async function runTrace(args: string[]): Promise<number> {
  const { values: v, positionals } = parseOptions(
    args,
    { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (v.help) {
    writeLineSync(1, TRACE_USAGE);
    return ExitCode.OK;
  }
  const [command, ...files] = positionals;
  if (command !== 'report')
    throw new UsageError(`expected 'report', got ${command === undefined ? 'nothing' : JSON.stringify(command)}`);
  if (files.length === 0) throw new UsageError('give the qlog files to draw (chat-client lftp --qlog DIR writes them)');
  if (v.output === undefined) throw new UsageError("give the report's file with -o REPORT.html");
  const groups = new Map<string, QlogTrace[]>();
  for (const f of files) {
    const t = await openQlog(f);
    groups.set(t.group || f, [...(groups.get(t.group || f) ?? []), t]);
  }
  const drawn: ReportItem[] = [];
  for (const traces of groups.values())
    drawn.push(
      traces[0]!.protocol === 'lftp'
        ? { traces, model: await buildModel(traces) }
        : { traces, model: null, session: await sessionView(traces[0]!) },
    );
  // Drawn first: a failure in drawing is not a failure to write.
  const html = reportHtml(drawn);
  try {
    writeFileSync(v.output, html);
  } catch (err) {
    throw new UsageError(`cannot write ${v.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const transfers = drawn.filter((d) => d.model).length;
  const sessions = drawn.length - transfers;
  const what = [
    transfers ? `${transfers} transfer${transfers === 1 ? '' : 's'}` : '',
    sessions ? `${sessions} chat session${sessions === 1 ? '' : 's'}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  writeLineSync(1, `report: ${v.output} (${what} from ${files.length} file${files.length === 1 ? '' : 's'})`);
  return ExitCode.OK;
}
