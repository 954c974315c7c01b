import type { Rule } from '../types.ts';

export const maintainerDeprecated: Rule = {
  id: 'BL014',
  name: 'maintainer-deprecated',
  severity: 'warning',
  buildkit: 'MaintainerDeprecated',
  summary: 'MAINTAINER is deprecated',
  why: 'MAINTAINER has been deprecated since Docker 1.13; tools read the standard label instead.',
  fix: 'Use `LABEL org.opencontainers.image.authors="name <email>"`.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) => (inst.kind === 'maintainer' ? [{ inst, message: 'MAINTAINER is deprecated' }] : [])),
    );
  },
};
