/**
 * Differential for issue 22's last gaps, through docker CLI 28 against a private dockerd and
 * through berth (cli-diff.ts): inspect of several names where some are missing, the space
 * `container prune` reports, `--log-opt` per log driver, and restart-policy edge cases.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase } from '../helpers/cli-diff.ts';
import { DOCKER_CLI_28, docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

process.env.BERTH_TEST_DOCKER_CLI = DOCKER_CLI_28;

const t = tempRoot('berth-diff-gaps-');
const engines = [docker, (a: readonly string[]) => t.run(a)];
before(async () => {
  await startDockerd();
  for (const run of engines) {
    assert.equal(run(['import', busyboxTar(), 'bbdiff:1']).code, 0);
    assert.equal(run(['volume', 'create', 'gv1']).code, 0);
    assert.equal(run(['network', 'create', 'gn1']).code, 0);
  }
});
after(() => {
  for (const run of engines) {
    for (const id of run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) run(['rm', '-f', id]);
  }
  stopDockerd();
  t.cleanup();
});

const berth = (a: readonly string[], input?: string) => t.run(a, { input });

describe('inspect of several names, some missing: the found ones printed, an error for each missing one, exit 1', () => {
  const cases: DiffCase[] = [
    { name: 'image inspect: one found, two missing', args: ['image', 'inspect', '-f', '{{.RepoTags}}', 'bbdiff:1', 'nosuch:1', 'nope'] },
    { name: 'image inspect: only missing names print []', args: ['image', 'inspect', 'nosuch:1'] },
    { name: 'image inspect: missing first, found last', args: ['image', 'inspect', '-f', '{{.Os}}', 'nosuch:1', 'bbdiff:1'] },
    { name: 'volume inspect: one found, two missing', args: ['volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'gv1', 'nosuch', 'nope'], stderr: true },
    { name: 'volume inspect: only missing names print []', args: ['volume', 'inspect', 'nosuch'], stderr: true },
    { name: 'network inspect: one found, one missing', args: ['network', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'gn1', 'nosuch'], stderr: true },
    { name: 'network inspect: missing first, found last', args: ['network', 'inspect', '-f', '{{.Name}}', 'nosuch', 'gn1'], stderr: true },
    { name: 'network inspect: only missing names print []', args: ['network', 'inspect', 'nosuch'], stderr: true },
  ];
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, berth));

  it('every missing name has its own error line', () => {
    for (const [args, n] of [
      [['volume', 'inspect', 'gv1', 'nosuch', 'nope'], 2],
      [['network', 'inspect', 'nosuch', 'gn1', 'nope'], 2],
      [['image', 'inspect', 'nosuch:1', 'bbdiff:1', 'nope'], 2],
    ] as const) {
      const got = t.run(args);
      const want = docker(args);
      const errors = (s: string) => s.split('\n').filter((l) => /rror/.test(l)).length;
      assert.equal(errors(want.stderr), n, want.stderr);
      assert.equal(errors(got.stderr), n, got.stderr);
      assert.equal(JSON.parse(got.stdout).length, 1);
    }
  });
});

describe('container prune reports the space of the writable layers it removed', () => {
  it('15kB for two containers, one of which wrote 15000 bytes (exactly as docker prints it)', () => {
    const outputs = engines.map((run) => {
      const write = ['sh', '-c', 'head -c 10000 /dev/zero > /f; mkdir /d; head -c 5000 /dev/zero > /d/g'];
      assert.equal(run(['run', '-l', 'prune=1', '--network', 'none', 'bbdiff:1', ...write]).code, 0);
      assert.equal(run(['run', '-l', 'prune=1', '--network', 'none', 'bbdiff:1', 'true']).code, 0);
      const r = run(['container', 'prune', '-f', '--filter', 'label=prune=1']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.replace(/\b[0-9a-f]{64}\b/g, '<id>');
    });
    assert.match(outputs[0]!, /Total reclaimed space: 15kB\n$/);
    assert.equal(outputs[1], outputs[0]);
  });
  it('0B when nothing is removed', () => assertSameAsDocker({ name: 'prune none', args: ['container', 'prune', '-f', '--filter', 'label=none=1'] }, berth));
});
