/**
 * Differential (issue 22): `--filter` on ps, images, volume ls and network ls, the ps flags,
 * docker's errors for bad filters, and the prune questions answered no, through the docker
 * CLI against a private dockerd and through berth, on the same objects made the same way.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase, normalise } from '../helpers/cli-diff.ts';
import { DOCKER_HOST, docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const t = tempRoot('berth-diff-filters-');

/** The same objects in both engines, made in the same order (ps lists newest first). */
const SETUP: string[][] = [
  ['import', busyboxTar(), 'bbdiff:1'],
  ['tag', 'bbdiff:1', 'bbdiff:2'],
  ['tag', 'bbdiff:1', 'other/x:latest'],
  ['create', '--name', 'fc1', '--label', 'a=1', '--label', 'b', 'bbdiff:1', 'true'],
  ['run', '--name', 'fc2', '--label', 'a=2', '--network', 'none', 'bbdiff:1', 'sh', '-c', 'exit 3'],
  ['create', '--name', 'fc3', '--label', 'tier=web', '--network', 'none', 'bbdiff:1', 'true'],
  ['volume', 'create', '--label', 'team=a', 'fv1'],
  ['volume', 'create', 'fv2'],
  ['network', 'create', '--label', 'team=x', 'fn1'],
];

before(async () => {
  await startDockerd();
  for (const args of SETUP) {
    const d = docker(args);
    assert.ok(d.code === 0 || args[0] === 'run', `docker ${args.join(' ')}: ${d.stderr}`);
    const b = t.run(args);
    assert.equal(b.code, d.code, `berth ${args.join(' ')}: ${b.stderr}`);
  }
});
after(() => {
  stopDockerd();
  for (const id of t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) t.run(['rm', '-f', id]);
  t.run(['network', 'rm', 'fn1']);
  t.cleanup();
});

const NAMES = ['--format', '{{.Names}}'];
const ps = (...filters: string[]): string[] => ['ps', '-a', ...NAMES, ...filters.flatMap((f) => ['--filter', f])];
const REPO_TAG = ['--format', '{{.Repository}}:{{.Tag}}'];

const cases: DiffCase[] = [
  { name: 'ps label key', args: ps('label=a') },
  { name: 'ps label key=value', args: ps('label=a=1') },
  { name: 'ps two labels: both must hold', args: ps('label=a', 'label=b') },
  { name: 'ps two names: either', args: ps('name=fc1', 'name=fc3') },
  { name: 'ps name as a pattern', args: ps('name=^fc[12]$') },
  { name: 'ps status exited', args: ps('status=exited') },
  { name: 'ps status created', args: ps('status=created') },
  { name: 'ps two statuses', args: ps('status=created', 'status=exited') },
  { name: 'ps status and label: both', args: ps('status=created', 'label=a') },
  { name: 'ps exited code', args: ps('exited=3') },
  { name: 'ps exited other code', args: ps('exited=0') },
  { name: 'ps since', args: ps('since=fc1') },
  { name: 'ps before', args: ps('before=fc3') },
  { name: 'ps ancestor by tag', args: ps('ancestor=bbdiff:1') },
  { name: 'ps ancestor unknown', args: ps('ancestor=nosuch:1') },
  { name: 'ps network none', args: ps('network=none') },
  { name: 'ps health none', args: ps('health=none', 'label=tier') },
  { name: 'ps is-task', args: ps('is-task=true') },
  { name: 'ps nothing matches: table header', args: ['ps', '-a', '--filter', 'label=nosuch'] },
  { name: 'ps -q with a filter', args: ['ps', '-aq', '--filter', 'label=tier'] },
  { name: 'ps table template with a filter', args: ['ps', '-a', '--filter', 'label=a', '--format', 'table {{.Names}}\t{{.Status}}'] },
  { name: 'ps -n 2', args: ['ps', '-n', '2', ...NAMES] },
  { name: 'ps -l', args: ['ps', '-l', ...NAMES] },
  { name: 'ps -n 1 after a filter', args: ['ps', '-n', '1', '--filter', 'label=a', ...NAMES] },
  { name: 'ps -n with a word', args: ['ps', '-n', 'x'] },
  { name: 'ps filter without =', args: ['ps', '--filter', 'noequals'] },
  {
    name: 'ps placeholders',
    args: ['ps', '-a', '--filter', 'name=fc1', '--format', '{{.CreatedAt}}|{{.Networks}}|{{.State}}|{{.Command}}|{{.Image}}'],
  },
  { name: 'ps --no-trunc -q', args: ['ps', '-aq', '--no-trunc', '--filter', 'name=fc1'] },
  { name: 'images reference repository', args: ['images', ...REPO_TAG, '--filter', 'reference=bbdiff'], unordered: true },
  { name: 'images reference glob tag', args: ['images', ...REPO_TAG, '--filter', 'reference=bbdiff:*'], unordered: true },
  { name: 'images reference with a slash', args: ['images', ...REPO_TAG, '--filter', 'reference=*/x'] },
  { name: 'images reference tag', args: ['images', ...REPO_TAG, '--filter', 'reference=bbdiff:2'] },
  { name: 'images two references', args: ['images', ...REPO_TAG, '--filter', 'reference=bbdiff:2', '--filter', 'reference=other/*'], unordered: true },
  { name: 'images dangling', args: ['images', '--filter', 'dangling=true'] },
  { name: 'images label nobody has', args: ['images', '-q', '--filter', 'label=nosuch'] },
  { name: 'volume ls name', args: ['volume', 'ls', '-q', '--filter', 'name=fv'], unordered: true },
  { name: 'volume ls label key', args: ['volume', 'ls', '--filter', 'label=team'] },
  { name: 'volume ls label key=value', args: ['volume', 'ls', '-q', '--filter', 'label=team=b'] },
  { name: 'volume ls dangling and name', args: ['volume', 'ls', '-q', '--filter', 'dangling=true', '--filter', 'name=fv'], unordered: true },
  { name: 'volume ls driver', args: ['volume', 'ls', '-q', '--filter', 'driver=local', '--filter', 'name=fv1'] },
  { name: 'network ls name', args: ['network', 'ls', '--format', '{{.Name}} {{.Driver}}', '--filter', 'name=fn1'] },
  { name: 'network ls custom', args: ['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=custom'] },
  { name: 'network ls label', args: ['network', 'ls', '--format', '{{.Name}}', '--filter', 'label=team=x'] },
  { name: 'network ls dangling', args: ['network', 'ls', '--format', '{{.Name}}', '--filter', 'dangling=true'] },
  { name: 'network ls driver', args: ['network', 'ls', '--format', '{{.Name}}', '--filter', 'driver=host'] },
];

/**
 * The prune questions, asked by the docker CLI 28 (on this machine /usr/local/bin/docker;
 * /usr/bin/docker, which the shared helper runs, is the 20.10 client, which still prints its
 * report after a no): a no, an empty answer or no input deletes nothing and prints nothing more.
 */
const DOCKER_28 = existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : '/usr/bin/docker';
const promptCases: Array<{ name: string; args: string[]; input?: string }> = [
  { name: 'container prune answered n', args: ['container', 'prune'], input: 'n\n' },
  { name: 'container prune, no answer', args: ['container', 'prune'] },
  { name: 'network prune answered n', args: ['network', 'prune'], input: 'n\n' },
  { name: 'image prune answered n', args: ['image', 'prune'], input: 'n\n' },
  { name: 'image prune -a answered yes (only y is yes)', args: ['image', 'prune', '-a'], input: 'yes\n' },
  { name: 'system prune answered n', args: ['system', 'prune'], input: 'n\n' },
  { name: 'system prune -a --volumes answered n', args: ['system', 'prune', '-a', '--volumes'], input: 'n\n' },
];

function docker28(args: readonly string[], input: string | undefined) {
  const r = spawnSync(DOCKER_28, args, { env: { ...process.env, DOCKER_HOST }, input: input ?? '', timeout: 120_000 });
  return { code: r.status ?? 137, stdout: r.stdout.toString() };
}

/** Engine errors: docker exits 1 for them outside run/create, and so does berth. */
const errorCases: DiffCase[] = [
  { name: 'ps unknown filter key', args: ps('bogus=1') },
  { name: 'ps bad status', args: ps('status=sleeping') },
  { name: 'ps exited not a number', args: ps('exited=x'), stderr: true },
  { name: 'ps bad health', args: ps('health=sick'), stderr: true },
  { name: 'ps since an unknown container', args: ps('since=nosuch') },
  { name: 'images unknown key', args: ['images', '--filter', 'bogus=1'] },
  { name: 'images before an unknown image', args: ['images', '--filter', 'before=nope'], stderr: true },
  { name: 'volume ls unknown key', args: ['volume', 'ls', '--filter', 'bogus=1'] },
  { name: 'network ls bad type', args: ['network', 'ls', '--filter', 'type=x'], stderr: true },
  { name: 'network ls bad dangling', args: ['network', 'ls', '--filter', 'dangling=x'], stderr: true },
  { name: 'container prune -f with a list-only key', args: ['container', 'prune', '-f', '--filter', 'status=exited'] },
];

describe('CLI filters and prune prompts, berth vs docker', () => {
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, (args, input) => t.run(args, { input })));
  for (const c of promptCases) {
    it(c.name, () => {
      const want = docker28(c.args, c.input);
      const got = t.run(c.args, { input: c.input ?? '' });
      assert.equal(got.code, want.code, got.stderr);
      assert.equal(normalise(got.stdout), normalise(want.stdout));
    });
  }
  it('ps after the declined prunes: nothing went', () => assertSameAsDocker({ name: 'ps', args: ['ps', '-a', ...NAMES] }, (args) => t.run(args)));
  for (const c of errorCases) {
    it(c.name, () => assertSameAsDocker(c, (args, input) => t.run(args, { input })));
  }
});
