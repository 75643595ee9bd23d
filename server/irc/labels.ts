/**
 * labeled-response (IRCv3): a command sent with a `label` tag gets its
 * answer marked with the same label, so a client matches answers to what it
 * asked. No answer is `ACK`; one line carries the label; several go in a
 * `labeled-response` batch whose opening line carries it (lines already in
 * a batch of their own, a chathistory answer's, stay in it: that batch's
 * opening line is the one inside ours). Without the batch capability a
 * several-line answer goes unlabeled (there is no way to mark it), and a
 * label over 64 bytes (the spec's bound) is ignored.
 */
import type { Capability } from './caps.js';
import { type IrcMessage, byteLength } from './message.js';

export const MAX_LABEL_BYTES = 64;

export function labelOf(msg: IrcMessage): string | undefined {
  const label = msg.tags?.label;
  return label !== undefined && label !== '' && byteLength(label) <= MAX_LABEL_BYTES ? label : undefined;
}

export function labeled(
  server: string,
  caps: { has(cap: Capability): boolean },
  label: string | undefined,
  lines: readonly IrcMessage[],
  batchRef: string,
): IrcMessage[] {
  if (label === undefined || !caps.has('labeled-response')) return [...lines];
  if (lines.length === 0) return [{ tags: { label }, source: server, command: 'ACK', params: [] }];
  if (lines.length === 1) return [{ ...lines[0]!, tags: { ...lines[0]!.tags, label } }];
  if (!caps.has('batch')) return [...lines];
  return [
    { tags: { label }, source: server, command: 'BATCH', params: [`+${batchRef}`, 'labeled-response'] },
    ...lines.map((l) => (l.tags?.batch !== undefined ? l : { ...l, tags: { ...l.tags, batch: batchRef } })),
    { source: server, command: 'BATCH', params: [`-${batchRef}`] },
  ];
}
