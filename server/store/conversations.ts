/** Which conversation a message belongs to: rooms by key (history.ts roomConversation), pairs of users here. */
import { foldCase } from '../../common/unicode/text-policy.js';

/** A direct conversation is the pair's, whoever writes first: the folded nicks, in order. */
export function directConversation(a: string, b: string): string {
  return `dm:${[foldCase(a), foldCase(b)].sort().join('\n')}`;
}
