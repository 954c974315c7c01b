import { runText, type Rule } from '../types.ts';

export const singleAmpersand: Rule = {
  id: 'BL005',
  name: 'background-ampersand',
  severity: 'error',
  summary: 'A single `&` between two commands where `&&` was almost certainly meant',
  why: '`a & b` runs `a` in the background and `b` at once: `apt-get update & apt-get install …` installs from stale lists, and a failure of `a` does not fail the build.',
  fix: 'Use `&&` to run the next command only after the first succeeded.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) => {
        if (inst.kind !== 'run' || inst.json) return [];
        // Quoted text, redirections (&>, >&, 2>&1) and `&&` are not a lone `&`.
        const text = runText(inst).replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, '""');
        const m = /(?<![&>|])&(?![&>])\s*(?=[A-Za-z_./$])/.exec(text.replace(/\d?>&\d?/g, ''));
        if (!m) return [];
        const before = text.slice(0, m.index).trim().split(/\s+/).slice(-3).join(' ');
        return [{ inst, message: `"${before} & …" runs the first command in the background; did you mean "&&"?` }];
      }),
    );
  },
};
