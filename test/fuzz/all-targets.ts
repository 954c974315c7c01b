/** Every fuzz target by name, in the order a run visits them. */
import { tarTarget } from './tar-target.ts';
import { BerthError } from '../../src/errors/index.ts';
import { dockerfileTarget, dockerignoreTarget, referenceTarget, shellTarget, Violation, type Target } from './targets.ts';

/**
 * The harness's own check, not part of a fuzz run: by the case's number v (0-999), a hang
 * (v < 8), a TypeError (< 30), a broken invariant (< 50), a typed error (< 300), else success.
 */
export function selftestOutcome(v: number): 'hang' | 'TypeError' | 'Violation' | 'INVALID_ARGUMENT' | 'ok' {
  return v < 8 ? 'hang' : v < 30 ? 'TypeError' : v < 50 ? 'Violation' : v < 300 ? 'INVALID_ARGUMENT' : 'ok';
}

const selftestTarget: Target<string> = {
  name: 'selftest',
  generate: (rng) => String(rng.int(1000)),
  run(input) {
    const what = selftestOutcome(Number(input));
    if (what === 'hang') for (;;);
    if (what === 'TypeError') return (undefined as unknown as { x: string }).x;
    if (what === 'Violation') throw new Violation(`case ${input} broke it`);
    if (what === 'INVALID_ARGUMENT') throw new BerthError('INVALID_ARGUMENT', 'typed');
    return 'ok';
  },
  expected: (e) => (e instanceof BerthError ? e.code : undefined),
};

export const FUZZ_TARGETS: Readonly<Record<string, Target>> = {
  dockerfile: dockerfileTarget as Target,
  shell: shellTarget as Target,
  dockerignore: dockerignoreTarget as Target,
  reference: referenceTarget as Target,
  tar: tarTarget as Target,
};

export const TARGETS: Readonly<Record<string, Target>> = { ...FUZZ_TARGETS, selftest: selftestTarget as Target };
