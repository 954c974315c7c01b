/** BuildKit's parser dump format: one S-expression per instruction (see the corpus README). */
// Strings are written as Go's strconv.Quote writes them.
import { goQuoteString as goQuote } from '../template/fmt.ts';
import type { Node, ParseResult } from './ast.ts';

export function dumpNode(n: Node): string {
  let s = n.value;
  if (n.flags.length) s += ` [${n.flags.map(goQuote).join(' ')}]`;
  if (n.child) s += ` (${dumpNode(n.child)})`;
  for (const a of n.next) s += ` ${goQuote(a)}`;
  return s.trim();
}

export function dump(result: ParseResult): string {
  return result.children.map((c) => `(${dumpNode(c)})\n`).join('');
}
