import { commands, runText, type Rule } from '../types.ts';

const INSTALL =
  /^(\S*\/)?(pip3?\s+install|python3?\s+-m\s+pip\s+install|conda\s+(env\s+)?(install|create|update)|mamba\s+install|npm\s+(ci|install)|yarn(\s+install)?$|poetry\s+install|uv\s+(pip\s+install|sync)|pipenv\s+install|apt-get\s+.*install)/;

export const cacheBustingOrder: Rule = {
  id: 'BL007',
  name: 'deps-after-full-copy',
  severity: 'warning',
  summary: 'Dependencies installed after a COPY of the whole context',
  why: 'Layers are cached in order: when all source code is copied before installing dependencies, every code edit invalidates the install step and reinstalls every package.',
  fix: 'Copy only the requirement or lock files first (`COPY requirements.txt .`), install, and then `COPY . .`.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) => {
      const out = [];
      let fullCopy: number | undefined;
      for (const inst of s.instructions) {
        if ((inst.kind === 'copy' || inst.kind === 'add') && !inst.flags.from && inst.sources.some((x) => x === '.' || x === './' || x === '*'))
          fullCopy ??= inst.node.startLine;
        if (inst.kind === 'run' && fullCopy !== undefined && commands(runText(inst)).some((c) => INSTALL.test(c))) {
          out.push({ inst, message: `dependencies are installed after the whole context was copied (line ${fullCopy}), so every code change reinstalls them` });
          break;
        }
      }
      return out;
    });
  },
};
