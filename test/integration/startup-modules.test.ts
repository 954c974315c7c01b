/**
 * What a command loads: bin/berth.cjs hands the bundle child_process and crypto as stand-ins
 * that load at first use (1.5 ms of every command each otherwise), so a build whose RUN steps
 * need no tool (runc is started through berth's addon, which also hashes) loads neither, and
 * one that starts a tool loads child_process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-modules-');
const ctx = mkdtempSync(join(tmpdir(), 'berth-modules-ctx-'));
after(() => {
  t.cleanup();
  rmSync(ctx, { recursive: true, force: true });
});

/**
 * The built-ins a berth command loaded, and its result. bin/berth drops NODE_OPTIONS, so the
 * reporter is preloaded by starting Node on bin/berth.cjs as bin/berth does, plus `--require`.
 */
function modulesOf(args: readonly string[]) {
  const report = join(ctx, 'modules.txt');
  const entry = join(REPO, 'bin', 'berth.cjs');
  const r = spawnSync(process.execPath, ['--require', join(REPO, 'test', 'fixtures', 'report-modules.cjs'), '--', entry, '--root', t.root, ...args], {
    env: { ...process.env, BERTH_TEST_MODULES: report },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return new Set(readFileSync(report, 'utf8').split('\n'));
}

describe('built-ins loaded at first use', () => {
  assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nRUN echo one > /one\nCOPY f /f\nRUN cat /f > /g\n');
  writeFileSync(join(ctx, 'f'), 'data\n');

  it('a build with RUN and COPY steps on no network loads neither child_process nor crypto', () => {
    const mods = modulesOf(['build', '-q', '--no-cache', '--network', 'none', '-t', 'm:1', ctx]);
    assert.ok(mods.has('NativeModule fs'), 'the report lists what was loaded');
    assert.ok(!mods.has('NativeModule child_process'), 'child_process was loaded');
    assert.ok(!mods.has('NativeModule crypto'), 'crypto was loaded (berth hashes through its addon)');
  });

  it('a command that starts a tool loads it when it does', () => {
    // On the default bridge network, each RUN step's namespace is made with `ip netns`.
    assert.ok(modulesOf(['build', '-q', '--no-cache', '-t', 'm:2', ctx]).has('NativeModule child_process'));
  });
});
