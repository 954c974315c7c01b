/** Every fuzz target by name, in the order a run visits them. */
import { tarTarget } from './tar-target.ts';
import { dockerfileTarget, dockerignoreTarget, referenceTarget, shellTarget, type Target } from './targets.ts';

export const TARGETS: Readonly<Record<string, Target>> = {
  dockerfile: dockerfileTarget as Target,
  shell: shellTarget as Target,
  dockerignore: dockerignoreTarget as Target,
  reference: referenceTarget as Target,
  tar: tarTarget as Target,
};
