/** SARIF 2.1.0 output, for code-scanning UIs. */
import type { Finding, Rule } from './types.ts';

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

export function toSarif(file: string, findings: readonly Finding[], rules: readonly Rule[]): Record<string, unknown> {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'berth-lint',
            informationUri: 'https://github.com/berth/berth/blob/main/docs/lint-rules.md',
            version: '0.1.0',
            rules: rules.map((r) => ({
              id: r.id,
              name: r.name,
              shortDescription: { text: r.summary },
              fullDescription: { text: r.why },
              help: { text: r.fix },
              ...(r.url ? { helpUri: r.url } : {}),
              defaultConfiguration: { level: LEVEL[r.severity] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: rules.findIndex((r) => r.id === f.ruleId),
          level: LEVEL[f.severity],
          message: { text: `${f.message}. ${f.fix}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: file }, region: { startLine: f.line, startColumn: f.column, endLine: f.endLine } } }],
        })),
      },
    ],
  };
}
