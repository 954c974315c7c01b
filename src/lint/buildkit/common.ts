/**
 * What BuildKit's check rules share: every rule of its ruleset reports at warning level
 * (`# check=error=true` makes any of them fail the build), names itself in BuildKit's words
 * and links to its page on docs.docker.com.
 */
import { editDistance } from '../../dockerfile/edit-distance.ts';
import type { Dockerfile, Instruction } from '../../dockerfile/index.ts';
import type { Rule } from '../types.ts';

export const DOCS = 'https://docs.docker.com/go/dockerfile/rule/';

/** A BuildKit rule: id is BuildKit's rule name, `name` its docs slug. */
export function buildkitRule(r: Omit<Rule, 'severity' | 'url' | 'name'> & { slug: string }): Rule {
  const { slug, ...rest } = r;
  return { ...rest, name: slug, severity: 'warning', url: `${DOCS}${slug}/` };
}

/** Every instruction of every stage, the global ARGs first. */
export function allInstructions(df: Dockerfile): Instruction[] {
  return [...df.globalArgs, ...df.stages.flatMap((s) => [s.from, ...s.instructions])];
}

/** The keyword as written (`from`, `FROM`, `From`). */
export function keywordAsWritten(inst: Instruction): string {
  return /^\s*(\S+)/.exec(inst.node.original)?.[1] ?? inst.node.value;
}

/** The closest option within an edit distance of 2, as BuildKit suggests; none on an exact match. */
export function suggest(value: string, options: Iterable<string>): string | undefined {
  let best: string | undefined;
  let min = 3;
  for (const o of options) {
    if (o === value) return undefined;
    const d = editDistance(value, o);
    if (d < min) {
      best = o;
      min = d;
    }
  }
  return best;
}
