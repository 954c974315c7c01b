import type { Instruction } from '../../dockerfile/index.ts';
import type { Rule, RuleHit } from '../types.ts';

export const consecutiveRuns: Rule = {
  id: 'BL008',
  name: 'consecutive-runs',
  severity: 'info',
  summary: 'Three or more consecutive RUN instructions that could be one layer',
  why: 'Each RUN is a layer: files deleted by a later RUN still ship in the earlier one, and many small layers slow pulls.',
  fix: 'Join related commands into one RUN with `&&` (and `\\` line continuations), or a heredoc.',
  check({ dockerfile }) {
    const out: RuleHit[] = [];
    for (const s of dockerfile.stages) {
      let run: Instruction[] = [];
      const flush = () => {
        if (run.length >= 3)
          out.push({
            inst: run[0],
            message: `${run.length} consecutive RUN instructions (lines ${run[0]!.node.startLine}-${run.at(-1)!.node.endLine}) could be one layer`,
          });
        run = [];
      };
      for (const inst of s.instructions) {
        if (inst.kind === 'run' && !(inst.flags.mount ?? []).length)
          run.push(inst); // not copied: 10 000 RUNs in a row are linear
        else flush();
      }
      flush();
    }
    return out;
  },
};
