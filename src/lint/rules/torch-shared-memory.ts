import { commands, runText, type Rule } from '../types.ts';

/** A command that installs PyTorch (torch, pytorch, torchvision, torchaudio, Debian's python3-torch), also inside an `if` or a loop. */
const INSTALLS_TORCH =
  /^(?:(?:then|do|else|sudo|exec)\s+)*(\S*\/)?(pip3?|python3?\s+-m\s+pip|uv\s+pip|conda|mamba|micromamba|apt-get|apt)\s+(install|add)\b.*(^|[\s"'=])(torch|pytorch|torchvision|torchaudio|python3-torch)([\s"'=<>~!@[]|$)/;

/** A base image that ships PyTorch already. */
const TORCH_BASE = /(^|\/)(pytorch\/pytorch|nvidia\/pytorch|pytorch)(:|$)/;

export const torchSharedMemory: Rule = {
  id: 'BL020',
  name: 'torch-needs-shared-memory',
  severity: 'info',
  summary: 'The image has PyTorch, whose DataLoader workers need more /dev/shm than the default 64 MB',
  why: 'DataLoader workers pass batches to the main process through shared memory in /dev/shm; in a container that is a 64 MB tmpfs by default, and a worker that fills it dies with "bus error" or "DataLoader worker is killed by signal".',
  fix: 'Run the image with `berth run --shm-size auto` (half the memory limit, or of the host memory), or `--ipc host` to share the host’s /dev/shm.',
  check({ dockerfile }) {
    for (const s of dockerfile.stages) {
      if (TORCH_BASE.test(s.from.image.toLowerCase()))
        return [{ inst: s.from, message: `base image "${s.from.image}" has PyTorch: run it with --shm-size auto or --ipc host` }];
      for (const inst of s.instructions) {
        if (commands(runText(inst)).some((c) => INSTALLS_TORCH.test(c))) {
          return [{ inst, message: 'this RUN installs PyTorch: run the image with --shm-size auto or --ipc host' }];
        }
      }
    }
    return [];
  },
};
