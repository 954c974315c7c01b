import { runText, type Rule } from '../types.ts';

export const curlPipeSh: Rule = {
  id: 'BL015',
  name: 'pipe-without-pipefail',
  severity: 'warning',
  summary: '`curl … | sh` (or wget) without `set -o pipefail`',
  why: "A pipeline's status is the last command's: if the download fails, `sh` runs an empty script, succeeds, and the build goes on without the tool.",
  fix: 'Start the RUN with `set -o pipefail &&` (bash) or set `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) => {
      let pipefailShell = false;
      return s.instructions.flatMap((inst) => {
        if (inst.kind === 'shell') pipefailShell = inst.args.includes('pipefail');
        if (inst.kind !== 'run' || inst.json) return [];
        const text = runText(inst);
        if (!/\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da)?sh\b/.test(text) || pipefailShell || /pipefail/.test(text)) return [];
        return [{ inst, message: 'a download is piped into a shell without pipefail: a failed download would pass' }];
      });
    });
  },
};
