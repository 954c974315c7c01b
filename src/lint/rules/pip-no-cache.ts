import { commands, hasCacheMount, runText, type Rule } from '../types.ts';

export const pipNoCache: Rule = {
  id: 'BL006',
  name: 'pip-cache-in-layer',
  severity: 'warning',
  summary: '`pip install` without `--no-cache-dir` and without a cache mount',
  why: 'pip keeps every downloaded wheel in ~/.cache/pip: for torch and friends that is gigabytes baked into the layer that nobody will ever read.',
  fix: 'Add `--no-cache-dir`, or better, `RUN --mount=type=cache,target=/root/.cache/pip pip install …` to keep the cache across builds and out of the image.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) => {
        const pips = commands(runText(inst)).filter((c) => /^(\S*\/)?(pip3?|python3?\s+-m\s+pip)\s+install\b/.test(c));
        if (!pips.length || hasCacheMount(inst) || pips.every((c) => /--no-cache-dir/.test(c))) return [];
        if (
          /PIP_NO_CACHE_DIR/.test(
            JSON.stringify(dockerfile.stages.flatMap((x) => x.instructions.filter((i) => i.kind === 'env').map((i) => (i.kind === 'env' ? i.pairs : [])))),
          )
        )
          return [];
        return [{ inst, message: 'pip install keeps its download cache in the layer' }];
      }),
    );
  },
};
