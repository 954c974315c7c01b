import { commands, runText, type Rule } from '../types.ts';

export const relativeWorkdir: Rule = {
  id: 'BL011',
  name: 'relative-workdir',
  severity: 'warning',
  buildkit: 'WorkdirRelativePath',
  summary: 'A relative WORKDIR',
  why: "A relative WORKDIR depends on every WORKDIR before it (and on the base image's): moving one line silently changes where files land.",
  fix: 'Use an absolute path: `WORKDIR /app`.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) =>
        inst.kind === 'workdir' && !/^["']?[/$]/.test(inst.value) ? [{ inst, message: `WORKDIR ${inst.value} is relative` }] : [],
      ),
    );
  },
};

export const cdInRun: Rule = {
  id: 'BL012',
  name: 'cd-in-run',
  severity: 'info',
  summary: 'A RUN that starts with `cd` where WORKDIR fits',
  why: '`cd` lasts for one RUN only: the next instruction starts back in the old directory, which is easy to forget.',
  fix: 'Set the directory with `WORKDIR /path` before the RUN.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) => {
        if (inst.kind !== 'run' || inst.json) return [];
        const first = commands(runText(inst))[0] ?? '';
        return /^cd\s+\/\S*$/.test(first) ? [{ inst, message: `"${first}" at the start of RUN: use WORKDIR` }] : [];
      }),
    );
  },
};
