/**
 * The Dockerfile lines around a failing or flagged instruction, as BuildKit prints them:
 * `Dockerfile:3`, a rule of dashes, numbered lines with `>>>` on the instruction's own, and two
 * lines of context either side of a one-line instruction (one of a longer one).
 */
export function sourceSnippet(filename: string, source: string, startLine: number, endLine = startLine): string {
  const lines = source.split('\n');
  if (startLine < 1 || startLine > lines.length) return '';
  const first = startLine;
  const last = Math.min(Math.max(endLine, startLine), lines.length);
  const pad = first === last ? 2 : 1;
  const from = Math.max(1, first - pad);
  const to = Math.min(lines.length, last + pad);
  const out = [`${filename}:${first}`, '--------------------'];
  for (let i = from; i <= to; i++) out.push(` ${String(i).padStart(3)} | ${i >= first && i <= last ? '>>>' : '   '} ${lines[i - 1]}`);
  out.push('--------------------');
  return `${out.join('\n')}\n`;
}
