import { commands, runText, type Rule } from '../types.ts';

export const aptUpdateAlone: Rule = {
  id: 'BL003',
  name: 'apt-update-without-install',
  severity: 'warning',
  summary: '`apt-get update` in a RUN without `apt-get install` in the same RUN',
  why: 'The update is cached as its own layer; a later install then uses stale package lists and fails or installs old versions.',
  fix: 'Run `apt-get update && apt-get install -y …` in one RUN.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) => {
        const cmds = commands(runText(inst));
        const update = cmds.some((c) => /(^|\s)(apt-get|apt)\s+(-\S+\s+)*update\b/.test(c));
        const install = cmds.some((c) => /(^|\s)(apt-get|apt)\s+(\S+\s+)*install\b/.test(c));
        return update && !install ? [{ inst, message: 'apt-get update is not followed by apt-get install in the same RUN' }] : [];
      }),
    );
  },
};
