/**
 * `berth lint`: berth's rules in rules/ and BuildKit's check ruleset in buildkit/ over a parsed
 * Dockerfile. The `# check=skip=ID,…;error=true` directive at the top (BuildKit's syntax, with
 * `skip=all`), the same `# check=skip=…` comment on the line above an instruction, and
 * `# berth-ignore ID` (or `# berth-ignore` for all) there silence findings; `--ignore` does so
 * from the command line. With `error=true`, every warning is an error, as BuildKit makes it.
 */
import type { Dockerfile } from '../dockerfile/index.ts';
import { RULES } from './rules/index.ts';
import type { Finding, LintInput, Rule, Severity } from './types.ts';

export { RULES } from './rules/index.ts';
export type { Finding, LintInput, Rule, Severity } from './types.ts';
export { toSarif } from './sarif.ts';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** What a `check` directive says. */
export interface CheckOptions {
  /** Rule ids or names to skip, upper-cased; `ALL` skips every rule. */
  readonly skip: ReadonlySet<string>;
  /** `error=true`: warnings fail the build. */
  readonly error: boolean;
}

/** Parses a `check` directive's value (`skip=A,B;error=true`); an unknown key is ignored here, as a malformed directive is by BuildKit's parser for lint purposes. */
export function parseCheckValue(value: string): CheckOptions {
  const skip = new Set<string>();
  let error = false;
  for (const part of value.trim().split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const key = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (key === 'skip') for (const id of v.split(',')) id.trim() && skip.add(id.trim().toUpperCase());
    else if (key === 'error') error = /^(1|t|true)$/i.test(v);
  }
  return { skip, error };
}

/** The file's `# check=` directive (the first one counts, as in BuildKit). */
export function checkOptions(df: Dockerfile): CheckOptions {
  const d = df.parsed.directives.find((x) => x.name === 'check');
  return d ? parseCheckValue(d.value) : { skip: new Set(), error: false };
}

function ignoredInline(comments: readonly string[], ids: readonly string[]): boolean {
  return comments.some((c) => {
    const text = c.trim();
    const check = /^check\s*=\s*(.*)$/i.exec(text);
    if (check) {
      const { skip } = parseCheckValue(check[1]!);
      return skip.has('ALL') || ids.some((id) => skip.has(id));
    }
    const m = /^berth-ignore(?:\s+(.*))?$/.exec(text);
    return (
      !!m &&
      (!m[1] ||
        m[1]
          .split(/[\s,]+/)
          .map((x) => x.toUpperCase())
          .some((x) => ids.includes(x)))
    );
  });
}

/** The names a rule answers to in skip lists: its id, its name, and the BuildKit rule it covers. */
function ruleNames(rule: Rule): string[] {
  return [rule.id, rule.name, ...(rule.buildkit ? [rule.buildkit] : [])].map((x) => x.toUpperCase());
}

export async function lint(input: LintInput, opts: { ignore?: readonly string[]; rules?: readonly Rule[] } = {}): Promise<Finding[]> {
  const directive = checkOptions(input.dockerfile);
  const skip = new Set([...directive.skip, ...(opts.ignore ?? []).map((i) => i.toUpperCase())]);
  if (skip.has('ALL')) return [];
  const rules = opts.rules ?? RULES;
  const findings: Finding[] = [];
  for (const rule of rules) {
    const names = ruleNames(rule);
    if (names.some((n) => skip.has(n))) continue;
    for (const hit of await rule.check(input)) {
      if (hit.inst && ignoredInline(hit.inst.node.comments, names)) continue;
      const line = hit.line ?? hit.inst?.node.startLine ?? 1;
      const text = input.dockerfile.parsed.lines[line - 1] ?? '';
      findings.push({
        ruleId: rule.id,
        severity: directive.error && rule.severity === 'warning' ? 'error' : rule.severity,
        message: hit.message,
        line,
        column: hit.column ?? text.length - text.trimStart().length + 1,
        endLine: hit.inst?.node.endLine ?? line,
        fix: rule.fix,
        ...(rule.url ? { url: rule.url } : {}),
      });
    }
  }
  // A berth rule that covers a BuildKit rule speaks for both where both fire on a line.
  const covered = new Set(rules.flatMap((r) => (r.buildkit ? findings.filter((f) => f.ruleId === r.id).map((f) => `${r.buildkit}@${f.line}`) : [])));
  const kept = findings.filter((f) => !covered.has(`${f.ruleId}@${f.line}`));
  // Bytewise, not localeCompare: its first call loads ICU's collator, which every build would pay for.
  return kept.sort((a, b) => a.line - b.line || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
}

export function formatText(file: string, findings: readonly Finding[]): string {
  return findings.map((f) => `${file}:${f.line}:${f.column}: ${f.severity} ${f.ruleId}: ${f.message}\n  fix: ${f.fix}\n`).join('');
}
