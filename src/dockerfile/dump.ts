/** BuildKit's parser dump format: one S-expression per instruction (see the corpus README). */
import type { Node, ParseResult } from './ast.ts';

/** Go's strconv.Quote: escapes quotes, backslashes and control bytes; keeps printable Unicode. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

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
