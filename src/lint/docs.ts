import { RULES } from './rules/index.ts';

/** docs/lint-rules.md, generated from the rule values. */
export function renderLintDocs(): string {
  const head = [
    '# berth lint rules',
    '',
    'Generated from `src/lint/rules/` by `npm run docs:lint`; do not edit by hand.',
    'Silence a rule for a file with `# check=skip=BL001,BL008` as the first line, for one',
    'instruction with `# berth-ignore BL005` on the line above it, or with `--ignore BL005`.',
    "The rules with BuildKit names are BuildKit's check ruleset (`docker build --check`), at its",
    'level (warning); `# check=error=true` makes every warning an error, and `build --check` runs',
    'the checks without building and exits 1 when any is found.',
    '',
    '| id | name | severity | finds |',
    '|---|---|---|---|',
    ...RULES.map((r) => `| ${r.id} | ${r.name} | ${r.severity} | ${r.summary.replace(/\|/g, '\\|')} |`),
    '',
  ];
  const body = RULES.flatMap((r) => [
    `## ${r.id} ${r.name}`,
    '',
    `**${r.severity}**: ${r.summary}.`,
    '',
    `Why: ${r.why}`,
    '',
    `Fix: ${r.fix}`,
    '',
    ...(r.url ? [`BuildKit's page: ${r.url}`, ''] : []),
    ...(r.buildkit ? [`Covers BuildKit's ${r.buildkit} where both would report a line.`, ''] : []),
  ]);
  return [...head, ...body].join('\n');
}
