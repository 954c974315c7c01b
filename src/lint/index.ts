/**
 * `berth lint`: the rules in rules/ over a parsed Dockerfile. `# check=skip=ID,…` at the top
 * and `# berth-ignore ID` (or `# berth-ignore` for all) on the line above an instruction
 * silence findings; `--ignore` does so from the command line.
 */
import type { Dockerfile } from '../dockerfile/index.ts';
import { RULES } from './rules/index.ts';
import type { Finding, LintInput, Rule, Severity } from './types.ts';

export { RULES } from './rules/index.ts';
export type { Finding, LintInput, Rule, Severity } from './types.ts';
export { toSarif } from './sarif.ts';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

function skippedByDirective(df: Dockerfile): Set<string> {
  const out = new Set<string>();
  for (const d of df.parsed.directives) {
    if (d.name !== 'check') continue;
    const m = /skip=([^;]+)/.exec(d.value);
    for (const id of m?.[1]?.split(',') ?? []) out.add(id.trim().toUpperCase());
  }
  return out;
}

function ignoredInline(comments: readonly string[], id: string): boolean {
  return comments.some((c) => {
    const m = /^berth-ignore(?:\s+(.*))?$/.exec(c.trim());
    return (
      !!m &&
      (!m[1] ||
        m[1]
          .split(/[\s,]+/)
          .map((x) => x.toUpperCase())
          .includes(id))
    );
  });
}

export async function lint(input: LintInput, opts: { ignore?: readonly string[]; rules?: readonly Rule[] } = {}): Promise<Finding[]> {
  const skip = new Set([...skippedByDirective(input.dockerfile), ...(opts.ignore ?? []).map((i) => i.toUpperCase())]);
  if (skip.has('ALL')) return [];
  const findings: Finding[] = [];
  for (const rule of opts.rules ?? RULES) {
    if (skip.has(rule.id) || skip.has(rule.name.toUpperCase())) continue;
    for (const hit of await rule.check(input)) {
      if (hit.inst && ignoredInline(hit.inst.node.comments, rule.id)) continue;
      const line = hit.line ?? hit.inst?.node.startLine ?? 1;
      const text = input.dockerfile.parsed.lines[line - 1] ?? '';
      findings.push({
        ruleId: rule.id,
        severity: rule.severity,
        message: hit.message,
        line,
        column: hit.column ?? text.length - text.trimStart().length + 1,
        endLine: hit.inst?.node.endLine ?? line,
        fix: rule.fix,
      });
    }
  }
  // Bytewise, not localeCompare: its first call loads ICU's collator, which every build would pay for.
  return findings.sort((a, b) => a.line - b.line || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
}

export function formatText(file: string, findings: readonly Finding[]): string {
  return findings.map((f) => `${file}:${f.line}:${f.column}: ${f.severity} ${f.ruleId}: ${f.message}\n  fix: ${f.fix}\n`).join('');
}
