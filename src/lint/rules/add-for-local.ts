import type { Rule } from '../types.ts';

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst)$/i;

export const addForLocal: Rule = {
  id: 'BL009',
  name: 'add-instead-of-copy',
  severity: 'warning',
  summary: 'ADD used for a local file or directory where COPY fits',
  why: 'ADD also extracts archives and fetches URLs: using it for plain files hides intent and can surprise when a file happens to be an archive.',
  fix: 'Use COPY for local files; keep ADD for URLs and archives you want extracted.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) => {
        if (inst.kind !== 'add' || inst.heredocs.length) return [];
        const local = inst.sources.filter((x) => !/^(https?|git):\/\//.test(x) && !/^git@/.test(x) && !ARCHIVE.test(x));
        return local.length ? [{ inst, message: `ADD of local ${local.join(', ')}: use COPY` }] : [];
      }),
    );
  },
};
