/** BuildKit's casing checks: stage names, `AS` against `FROM`, and one case for every keyword. */
import type { Instruction } from '../../dockerfile/index.ts';
import type { RuleHit } from '../types.ts';
import { buildkitRule, keywordAsWritten } from './common.ts';

export const stageNameCasing = buildkitRule({
  id: 'StageNameCasing',
  slug: 'stage-name-casing',
  summary: 'Stage names should be lowercase',
  why: 'Stage names are matched without regard to case, so a mixed-case name reads as if it were distinct when it is not.',
  fix: 'Write the stage name in lowercase.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) => {
      const name = s.from.node.next[2];
      return s.from.node.next.length === 3 && name !== undefined && name !== name.toLowerCase()
        ? [{ inst: s.from, message: `Stage name '${name}' should be lowercase` }]
        : [];
    });
  },
});

export const fromAsCasing = buildkitRule({
  id: 'FromAsCasing',
  slug: 'from-as-casing',
  summary: "The 'as' keyword should match the case of the 'from' keyword",
  why: 'A Dockerfile that mixes `FROM` with `as` reads as two styles; BuildKit warns so the file keeps one.',
  fix: 'Write `FROM image AS name` (or `from image as name`).',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) => {
      const from = keywordAsWritten(s.from);
      const as = s.from.node.next[1];
      if (s.from.node.next.length < 3 || as === undefined) return [];
      const lower = from === from.toLowerCase();
      const upper = from === from.toUpperCase();
      if (!lower && !upper) return []; // ConsistentInstructionCasing reports it
      const ok = lower ? as === as.toLowerCase() : as === as.toUpperCase();
      return ok ? [] : [{ inst: s.from, message: `'${as}' and '${from}' keywords' casing do not match` }];
    });
  },
});

export const consistentInstructionCasing = buildkitRule({
  id: 'ConsistentInstructionCasing',
  slug: 'consistent-instruction-casing',
  summary: 'All commands within the Dockerfile should use the same casing (either upper or lower)',
  why: 'Keywords are case-insensitive, but a file that mixes cases is harder to read and to search.',
  fix: 'Write every instruction keyword in the case most of the file uses (uppercase by convention).',
  check({ dockerfile }) {
    const insts: Instruction[] = dockerfile.stages.flatMap((s) => [s.from, ...s.instructions]);
    let lower = 0;
    let upper = 0;
    for (const inst of insts) {
      const k = keywordAsWritten(inst);
      if (k === k.toLowerCase()) lower++;
      else if (k === k.toUpperCase()) upper++;
    }
    const majorityLower = lower > upper;
    return insts.flatMap((inst): RuleHit[] => {
      const k = keywordAsWritten(inst);
      const want = majorityLower && k !== k.toLowerCase() ? 'lowercase' : !majorityLower && k !== k.toUpperCase() ? 'uppercase' : '';
      return want ? [{ inst, message: `Command '${k}' should match the case of the command majority (${want})` }] : [];
    });
  },
});
