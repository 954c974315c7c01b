import type { Rule } from '../types.ts';

export const copyIgnoredSource: Rule = {
  id: 'BL018',
  name: 'copy-ignored-source',
  severity: 'error',
  buildkit: 'CopyIgnoredFile',
  summary: 'A COPY source that .dockerignore excludes',
  why: 'The build fails with "not found" after the slow steps before it, or copies less than you think.',
  fix: 'Remove the path from .dockerignore (or add a `!path` exception), or stop copying it.',
  check({ dockerfile, context }) {
    if (!context) return [];
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) => {
        if ((inst.kind !== 'copy' && inst.kind !== 'add') || inst.flags.from) return [];
        const ignored = inst.sources.filter(
          (src) =>
            !src.includes('$') && !/[*?[]/.test(src) && src !== '.' && !/^https?:/.test(src) && context.isIgnored(src.replace(/^\.?\//, '').replace(/\/$/, '')),
        );
        return ignored.length ? [{ inst, message: `${ignored.join(', ')} ${ignored.length > 1 ? 'are' : 'is'} excluded by .dockerignore` }] : [];
      }),
    );
  },
};

const LIMIT = 100 * 1000 * 1000;

export const largeContext: Rule = {
  id: 'BL019',
  name: 'large-context-without-dockerignore',
  severity: 'warning',
  summary: 'A build context over 100 MB with no .dockerignore',
  why: 'Datasets and checkpoints in the project folder are read (and hashed) on every build, and a `COPY . .` ships them in the image.',
  fix: 'Add a .dockerignore listing data/, checkpoints, *.ckpt, .git and the like.',
  async check({ dockerfile, context }) {
    if (!context || context.hasDockerignore) return [];
    const size = await context.sizeBytes();
    return size > LIMIT
      ? [{ inst: dockerfile.stages[0]!.from, line: 1, column: 1, message: `the build context is ${(size / 1e6).toFixed(0)} MB and there is no .dockerignore` }]
      : [];
  },
};
