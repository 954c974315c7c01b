/**
 * Differential for the device flags: plain `--device` (node numbers, cgroup permissions, a
 * missing host path) and `--gpus` where neither engine has a GPU (a bad value is refused
 * before anything runs; `all` fails at create) give docker's exit codes and output.
 * berth reads its CDI specs from an empty dir, as this machine has no GPU.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase } from '../helpers/cli-diff.ts';
import { docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const t = tempRoot('berth-diff-cdi-');
const noSpecs = mkdtempSync(join(tmpdir(), 'berth-diff-cdi-specs-'));
before(async () => {
  await startDockerd();
  assert.equal(docker(['import', busyboxTar(), 'bbdiff:1']).code, 0);
  assert.equal(t.run(['import', busyboxTar(), 'bbdiff:1']).code, 0);
});
after(() => {
  stopDockerd();
  t.cleanup();
  rmSync(noSpecs, { recursive: true, force: true });
});

const RUN = ['run', '--rm', '--network', 'none'];
const cases: DiffCase[] = [
  { name: 'device renamed: its numbers', args: [...RUN, '--device', '/dev/zero:/dev/myzero', 'bbdiff:1', 'stat', '-c', '%F %t:%T', '/dev/myzero'] },
  {
    name: 'device read-only in the cgroup',
    args: [
      ...RUN,
      '--device',
      '/dev/loop-control:/dev/lc:r',
      'bbdiff:1',
      'sh',
      '-c',
      '(exec 3</dev/lc) && echo read; (exec 3>/dev/lc) 2>/dev/null || echo write-refused',
    ],
  },
  {
    name: 'device mode only',
    args: [...RUN, '--device', '/dev/loop-control:rw', 'bbdiff:1', 'sh', '-c', 'ls /dev/loop-control && (exec 3<>/dev/loop-control) && echo rw'],
  },
  { name: 'device missing on the host', args: [...RUN, '--device', '/dev/does-not-exist', 'bbdiff:1', 'true'] },
  { name: 'device bad mode', args: [...RUN, '--device', '/dev/zero:/dev/z:rwx', 'bbdiff:1', 'true'] },
  { name: 'gpus bad count', args: [...RUN, '--gpus', 'lots', 'bbdiff:1', 'true'] },
  { name: 'gpus unknown key', args: [...RUN, '--gpus', 'colour=red', 'bbdiff:1', 'true'] },
  { name: 'gpus all without a GPU', args: [...RUN, '--gpus', 'all', 'bbdiff:1', 'true'] },
];

describe('device flags: berth and docker agree', () => {
  for (const c of cases) {
    it(c.name, () => assertSameAsDocker(c, (args, input) => t.run(args, { input, env: { BERTH_CDI_SPEC_DIRS: noSpecs } })));
  }
});
