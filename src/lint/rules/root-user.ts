import { finalStage, type Rule } from '../types.ts';

export const rootUser: Rule = {
  id: 'BL002',
  name: 'runs-as-root',
  severity: 'warning',
  summary: 'The final stage runs as root (no USER, or USER root/0)',
  why: 'A process running as root in the container is root on the files it can reach: a bug or a malicious model file gets more than it needs.',
  fix: 'Create a user (`RUN useradd --create-home app`) and switch to it with `USER app` before CMD/ENTRYPOINT.',
  check({ dockerfile }) {
    const stage = finalStage(dockerfile);
    const users = stage.instructions.filter((i) => i.kind === 'user');
    const last = users.at(-1);
    if (!last) return [{ inst: stage.from, message: 'the image runs as root: the final stage sets no USER' }];
    if (last.kind === 'user' && /^(root|0)(:.*)?$/.test(last.value)) return [{ inst: last, message: `the image runs as root: USER ${last.value}` }];
    return [];
  },
};
