/**
 * progress/timing.ts: with BERTH_TIMING set, each boundary (and each build step, through
 * markSteps) prints one `berth-timing` line; unset, nothing; a bad value fails once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/berth.ts';

const SCRIPT = `
import { mark, markSteps } from './src/progress/timing.ts';
const seen = [];
try { mark('cli loaded'); } catch (e) { console.log('threw: ' + e.message); }
mark('engine open', 'detail');
const sink = markSteps({ emit: (ev) => seen.push(ev.kind) });
sink.emit({ kind: 'step-start', step: 1, name: 'RUN true' });
sink.emit({ kind: 'step-log', step: 1, stream: 'stdout', text: 'x' });
sink.emit({ kind: 'step-done', step: 1, seconds: 0 });
sink.emit({ kind: 'step-cached', step: 2 });
console.log('emitted: ' + seen.join(','));
`;

function run(timing: string | undefined) {
  const env = { ...process.env };
  if (timing === undefined) delete env.BERTH_TIMING;
  else env.BERTH_TIMING = timing;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: REPO, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return {
    stdout: r.stdout,
    marks: r.stderr
      .split('\n')
      .filter((l) => l.startsWith('berth-timing '))
      .map((l) => l.replace(/^berth-timing [\d.]+ms /, '')),
  };
}

describe('timing marks', () => {
  it('print each boundary and each step when BERTH_TIMING=1, and pass every event on', () => {
    const r = run('1');
    assert.deepEqual(r.marks, ['cli loaded', 'engine open (detail)', 'step start (1)', 'step done (1)', 'step cached (2)']);
    assert.match(r.stdout, /emitted: step-start,step-log,step-done,step-cached/);
  });

  it('print nothing when it is unset or off', () => {
    for (const value of [undefined, '0']) {
      const r = run(value);
      assert.deepEqual(r.marks, []);
      assert.match(r.stdout, /emitted: step-start,step-log,step-done,step-cached/);
    }
  });

  it('report a bad value once, at the first mark, then stay quiet', () => {
    const r = run('loud');
    assert.match(r.stdout, /threw: BERTH_TIMING="loud" is not/);
    assert.deepEqual(r.marks, []);
  });
});
