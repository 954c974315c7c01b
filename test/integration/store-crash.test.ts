/**
 * kill -9 at a random moment never leaves the store inconsistent, prune removes what it
 * leaves, and the same command then succeeds. A bounded sample here (one run of each of pull,
 * build, push, load and run -d, or BERTH_CRASH_RUNS); `scripts/crash-harness.sh` runs 100.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { CRASH_KINDS, CrashHarness, seeded } from '../helpers/crash.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const RUNS = Number(process.env.BERTH_CRASH_RUNS ?? CRASH_KINDS.length);
const SEED = Number(process.env.BERTH_CRASH_SEED ?? Date.now() % 1e9);

describe(`crash harness (${RUNS} runs, seed ${SEED})`, () => {
  const t = tempRoot('berth-crash-');
  let reg: TestRegistry;
  let harness: CrashHarness;
  before(async () => {
    reg = await startRegistry();
    harness = new CrashHarness(t, reg);
    harness.prepare();
  });
  after(() => {
    for (const id of t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) t.run(['rm', '-f', id]);
    reg?.stop();
    t.cleanup();
  });

  it('each killed command leaves only leftovers that prune removes, and succeeds when run again', async () => {
    const random = seeded(SEED);
    let killed = 0;
    let partials = 0;
    for (let i = 0; i < RUNS; i++) {
      const run = await harness.once(CRASH_KINDS[i % CRASH_KINDS.length]!, i, random);
      if (run.killed) killed++;
      // once() has checked that prune removed it and the retry succeeded.
      if (run.midDownload && run.leftovers.some((l) => /partial download|unfinished write/.test(l))) partials++;
    }
    assert.ok(RUNS < 5 || killed > 0, 'no run was killed before it ended');
    assert.ok(RUNS < 1 || partials > 0, 'no pull was killed mid-download with a partial download left');
  });
});
