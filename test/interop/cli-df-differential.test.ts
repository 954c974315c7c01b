/**
 * Differential (issue 24): `system df`, `system df -v`, their `--format` forms and `builder
 * prune` through docker CLI 28 against a private dockerd and through berth, on the same
 * imported busybox, one created and one running container and a volume. Sizes, ids and
 * times are masked; the layout, counts and words must match.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase } from '../helpers/cli-diff.ts';
import { DOCKER_CLI_28, docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

process.env.BERTH_TEST_DOCKER_CLI = DOCKER_CLI_28;

const t = tempRoot('berth-diff-df-');
before(async () => {
  await startDockerd();
  for (const run of [docker, (a: readonly string[]) => t.run(a)]) {
    assert.equal(run(['import', busyboxTar(), 'bbdiff:1']).code, 0);
    assert.equal(run(['volume', 'create', 'dfvol']).code, 0);
    assert.equal(run(['create', '--name', 'dfc', '--network', 'none', '-v', 'dfvol:/v', 'bbdiff:1', 'true']).code, 0);
    assert.equal(run(['run', '-d', '--name', 'dfr', '--network', 'none', 'bbdiff:1', 'sleep', '300']).code, 0);
  }
});
after(() => {
  for (const run of [docker, (a: readonly string[]) => t.run(a)]) run(['rm', '-f', 'dfr', 'dfc']);
  stopDockerd();
  t.cleanup();
});

/**
 * berth's sizes are `du -sb`'s, which counts a directory's own entry: an empty volume or
 * writable layer is 4 kB where docker says 0B, and docker prints no share of a 0B total.
 */
const noShare = (out: string) => out.replace(/<size> \(\d+%\)/g, '<size>');

const cases: DiffCase[] = [
  { name: 'system df', args: ['system', 'df'], mask: noShare },
  { name: 'system df --format json', args: ['system', 'df', '--format', 'json'], mask: noShare },
  { name: 'system df --format with counts', args: ['system', 'df', '--format', '{{.Type}}: {{.TotalCount}} total, {{.Active}} active'] },
  { name: 'system df --format table', args: ['system', 'df', '--format', 'table {{.Type}}\t{{.Active}}'] },
  { name: 'system df -v', args: ['system', 'df', '-v'] },
  {
    name: 'system df -v --format over the images',
    args: ['system', 'df', '-v', '--format', '{{range .Images}}{{.Repository}}:{{.Tag}} {{.Containers}}{{"\\n"}}{{end}}'],
  },
  { name: 'system df -v --format over the volumes', args: ['system', 'df', '-v', '--format', '{{range .Volumes}}{{.Name}} {{.Links}}{{"\\n"}}{{end}}'] },
  { name: 'system df --format with an unknown field', args: ['system', 'df', '--format', '{{.Nope}}'], stderr: true },
  { name: 'builder prune -f', args: ['builder', 'prune', '-f'] },
  { name: 'builder prune -a -f with until', args: ['builder', 'prune', '-a', '-f', '--filter', 'until=24h'] },
  { name: 'builder prune --keep-storage', args: ['builder', 'prune', '-f', '--keep-storage', '10GB'] },
  { name: 'builder prune with a bad size', args: ['builder', 'prune', '-f', '--keep-storage', 'lots'] },
];

describe('berth and docker 28: system df and builder prune', () => {
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, (a, input) => t.run(a, { input })));
});
