// A node:test reporter that prints, after the whole run, one line per failed test with its file and
// the first line of its error. CI keeps only the tail of a long log; this puts the failures there.
export default async function* failureSummary(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    if (details?.type === 'suite') continue;
    const error = details?.error;
    const cause = error?.cause ?? error;
    const message = String(cause?.message ?? cause ?? '')
      .split('\n')[0]
      .slice(0, 300);
    failed.push(`# FAILED ${file ?? '?'} :: ${name} :: ${message}`);
  }
  if (failed.length > 0) yield `\n# ${failed.length} failed test(s):\n${failed.join('\n')}\n`;
}
