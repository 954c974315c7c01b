/**
 * The bounded fuzz run (the long one is scripts/fuzz.sh): a fixed seed and a few hundred to
 * a few thousand mutated inputs per target, each of which must succeed or fail with a
 * typed error (a Dockerfile's with its line), within the hang limit. And the harness's own
 * check: a target that hangs, crashes and breaks an invariant on purpose is caught.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selftestOutcome } from '../fuzz/all-targets.ts';
import { fuzzTarget, inputOf, type Summary } from '../fuzz/runner.ts';
import { hasCorpus } from '../fuzz/seeds.ts';
import { CORPUS_ABSENT } from '../helpers/corpus.ts';

const SEED = 20261207;

function describeFindings(s: Summary): string {
  return s.findings
    .map(
      (f) =>
        `#${f.index} ${f.kind} ${f.name}: ${f.message.slice(0, 200)} at ${f.where}\n  input ${typeof f.input === 'string' ? JSON.stringify(f.input.slice(0, 300)) : f.input.toString('base64').slice(0, 300)}`,
    )
    .join('\n');
}

describe('fuzz (bounded run)', () => {
  const runs: Array<{ target: string; count: number; outcomes: string[] }> = [
    { target: 'dockerfile', count: 800, outcomes: ['ok', 'SYNTAX'] },
    { target: 'shell', count: 500, outcomes: ['ok'] },
    { target: 'dockerignore', count: 800, outcomes: ['ok', 'INVALID_ARGUMENT'] },
    { target: 'reference', count: 2000, outcomes: ['ok', 'INVALID_ARGUMENT'] },
    { target: 'tar', count: 400, outcomes: ['ok', 'DATA_CORRUPT', 'UNSAFE_PATH'] },
  ];
  for (const r of runs) {
    it(`${r.target}: ${r.count} cases, only typed errors`, async (t) => {
      // The run needs no corpus: without it, the built-in seeds alone are mutated, and it says so in one line.
      if (!hasCorpus()) t.diagnostic(`${CORPUS_ABSENT}: seeded from the built-in inputs only`);
      const s = await fuzzTarget({ target: r.target, count: r.count, seed: SEED, timeoutMs: 10_000 });
      assert.equal(s.findings.length, 0, describeFindings(s));
      assert.equal(s.cases, r.count);
      // Both sides of each parser are reached: the mutations are neither all fatal nor all harmless.
      for (const o of r.outcomes) assert.ok((s.outcomes[o] ?? 0) > 0, `no "${o}" outcome in ${JSON.stringify(s.outcomes)}`);
    });
  }
});

describe('fuzz harness', () => {
  it('reports a hang, a crash and a broken invariant, each at a case that has them, and goes on', async () => {
    const count = 150;
    const want: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      const o = selftestOutcome(Number(inputOf('selftest', SEED, i)));
      want[o] = (want[o] ?? 0) + 1;
    }
    assert.ok(want.hang && want.TypeError && want.Violation, `seed ${SEED} gives no case of each kind: ${JSON.stringify(want)}`);
    const s = await fuzzTarget({ target: 'selftest', count, seed: SEED, timeoutMs: 1000 });
    assert.equal(s.cases, count);
    // A hang ends its worker: the outcomes it had not reported yet are counted as such.
    const unreported = s.outcomes.unreported ?? 0;
    assert.ok(s.outcomes.ok! <= want.ok! && s.outcomes.ok! + unreported >= want.ok!, JSON.stringify({ want, got: s.outcomes }));
    assert.ok(s.outcomes.INVALID_ARGUMENT! <= want.INVALID_ARGUMENT! && s.outcomes.INVALID_ARGUMENT! + unreported >= want.INVALID_ARGUMENT!);
    const byKind = Object.fromEntries(s.findings.map((f) => [f.kind === 'error' ? f.name : f.kind, f]));
    assert.deepEqual(Object.keys(byKind).sort(), ['TypeError', 'hang', 'violation']);
    assert.equal(byKind.hang!.count, want.hang);
    assert.equal(byKind.TypeError!.count, want.TypeError);
    assert.equal(byKind.violation!.count, want.Violation);
    assert.equal(selftestOutcome(Number(byKind.hang!.input)), 'hang');
  });
});
