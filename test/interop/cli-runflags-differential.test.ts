/**
 * CLI differential for the run, logs, exec and cp flags of issue 22: the same command line
 * through the docker CLI against a private dockerd and through berth, compared on exit code
 * and stdout (test/helpers/cli-diff.ts). That dockerd runs with `--bridge none`, so every
 * container here is on `--network none`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase, normalise } from '../helpers/cli-diff.ts';
import { DOCKER_HOST, docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const t = tempRoot('berth-diff-runflags-');
const work = mkdtempSync(join(tmpdir(), 'berth-diff-runflags-work-'));
const NONE = ['--network', 'none'];
const both = (args: string[]) => {
  const d = docker(args);
  const b = t.run(args);
  assert.equal(d.code, 0, `docker ${args.join(' ')}: ${d.stderr}`);
  assert.equal(b.code, 0, `berth ${args.join(' ')}: ${b.stderr}`);
};

/** A tar of one ASCII file, as a string both CLIs take on stdin. */
function asciiTar(): string {
  mkdirSync(join(work, 'tarsrc'), { recursive: true });
  writeFileSync(join(work, 'tarsrc', 'in.txt'), 'through stdin\n');
  return execFileSync('tar', ['--format=ustar', '--owner=0', '--group=0', '--mtime=@0', '-C', join(work, 'tarsrc'), '-cf', '-', 'in.txt']).toString('latin1');
}

before(async () => {
  await startDockerd();
  assert.equal(docker(['import', busyboxTar(), 'bbdiff:1']).code, 0);
  assert.equal(t.run(['import', busyboxTar(), 'bbdiff:1']).code, 0);
  both(['run', '--name', 'vfsrc', ...NONE, '-v', '/data', 'bbdiff:1', 'sh', '-c', 'echo shared > /data/f']);
  both(['run', '--name', 'logged', ...NONE, '-l', 'team=ml', '--log-opt', 'labels=team', 'bbdiff:1', 'sh', '-c', 'echo first; echo second']);
  both(['run', '-d', '--name', 'live', ...NONE, 'bbdiff:1', 'sleep', '300']);
  writeFileSync(join(work, 'labels'), '# labels\nteam=ml\nowner=lab\n');
  writeFileSync(join(work, 'exec.env'), 'FROM_FILE=yes\n# comment\n');
});
after(() => {
  for (const run of [(a: string[]) => docker(a), (a: string[]) => t.run(a)]) run(['rm', '-f', 'vfsrc', 'logged', 'live', 'lblc', 'oomc']);
  stopDockerd();
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const RUN = ['run', '--rm', ...NONE];
const cases: DiffCase[] = [
  { name: 'add-host lines in /etc/hosts', args: [...RUN, '--add-host', 'a:1.2.3.4', '--add-host', 'b:5.6.7.8', 'bbdiff:1', 'cat', '/etc/hosts'] },
  { name: 'add-host with an IPv6 address', args: [...RUN, '--add-host', 'six:2001:db8::1', 'bbdiff:1', 'grep', 'six', '/etc/hosts'] },
  { name: 'add-host with a bad value', args: [...RUN, '--add-host', 'bad', 'bbdiff:1', 'true'] },
  { name: 'add-host with a bad address', args: [...RUN, '--add-host', 'a:999.1.1.1', 'bbdiff:1', 'true'] },
  {
    name: 'dns, dns-search, dns-option in resolv.conf',
    args: [...RUN, '--dns', '9.9.9.9', '--dns-search', 'example.com', '--dns-option', 'ndots:2', 'bbdiff:1', 'cat', '/etc/resolv.conf'],
  },
  { name: 'dns servers only', args: [...RUN, '--dns', '1.1.1.1', '--dns', '8.8.8.8', 'bbdiff:1', 'grep', 'nameserver', '/etc/resolv.conf'] },
  { name: 'dns that is not an IP', args: [...RUN, '--dns', 'dns.example', 'bbdiff:1', 'true'] },
  { name: '-P on the none network publishes nothing', args: [...RUN, '-P', '--expose', '80', 'bbdiff:1', 'echo', 'fine'] },
  { name: 'oom-score-adj', args: [...RUN, '--oom-score-adj', '500', 'bbdiff:1', 'cat', '/proc/self/oom_score_adj'] },
  { name: 'oom-score-adj out of range', args: [...RUN, '--oom-score-adj', '1001', 'bbdiff:1', 'true'] },
  { name: 'log-driver none still shows the output', args: [...RUN, '--log-driver', 'none', 'bbdiff:1', 'echo', 'shown'] },
  { name: 'log-opt rotation options accepted', args: [...RUN, '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'bbdiff:1', 'echo', 'ok'] },
  { name: 'log-opt max-file 0', args: [...RUN, '--log-opt', 'max-file=0', 'bbdiff:1', 'true'] },
  { name: 'an unknown log driver', args: [...RUN, '--log-driver', 'carrier-pigeon', 'bbdiff:1', 'true'] },
  { name: '-a stdout only', args: [...RUN, '-a', 'stdout', 'bbdiff:1', 'sh', '-c', 'echo out; echo err >&2'] },
  { name: '-a stderr only', args: [...RUN, '-a', 'stderr', 'bbdiff:1', 'sh', '-c', 'echo out; echo err >&2'] },
  { name: '-a stdin with -i', args: [...RUN, '-i', '-a', 'stdin', '-a', 'stdout', 'bbdiff:1', 'cat'], input: 'piped\n' },
  { name: '-a with -d', args: ['run', '-d', '-a', 'stdout', ...NONE, 'bbdiff:1', 'true'] },
  { name: 'volumes-from', args: [...RUN, '--volumes-from', 'vfsrc', 'bbdiff:1', 'cat', '/data/f'] },
  { name: 'volumes-from read-only', args: [...RUN, '--volumes-from', 'vfsrc:ro', 'bbdiff:1', 'sh', '-c', 'touch /data/g 2>/dev/null; echo $?'] },
  { name: 'volumes-from a missing container', args: [...RUN, '--volumes-from', 'no-such-ctr', 'bbdiff:1', 'true'] },
  { name: '-v with z', args: [...RUN, '-v', 'zvol:/d:z', 'bbdiff:1', 'sh', '-c', 'echo ok > /d/f && cat /d/f'] },
  { name: '-v with nocopy', args: [...RUN, '-v', 'nocopy1:/etc:nocopy', 'bbdiff:1', 'sh', '-c', 'ls /etc/passwd 2>/dev/null | wc -l'] },
  { name: 'cidfile in a missing dir', args: [...RUN, '--cidfile', join(work, 'no', 'dir', 'cid'), 'bbdiff:1', 'true'] },
  { name: 'group-add', args: [...RUN, '--group-add', '4242', 'bbdiff:1', 'id'] },
  { name: 'stop-signal that is no signal', args: [...RUN, '--stop-signal', 'SIGNOPE', 'bbdiff:1', 'true'] },
  { name: 'pull never on a local image', args: [...RUN, '--pull', 'never', 'bbdiff:1', 'echo', 'local'] },
  { name: 'pull never on a missing image', args: [...RUN, '--pull', 'never', 'bbdiff-missing:1', 'true'] },
  { name: 'platform of the host', args: [...RUN, '--platform', 'linux/amd64', 'bbdiff:1', 'echo', 'amd64'] },
  {
    name: 'expose and a label file, seen by inspect',
    args: ['inspect', '-f', '{{.Config.Labels.team}} {{.Config.Labels.owner}} {{.HostConfig.OomScoreAdj}}', 'lblc'],
  },
  { name: 'logs --since', args: ['logs', '--since', '10m', 'logged'] },
  { name: 'logs --until in the past', args: ['logs', '--until', '10m', 'logged'] },
  {
    name: 'logs --since a date and --until a unix time',
    args: ['logs', '--since', '2000-01-01T00:00:00Z', '--until', `${Math.floor(Date.now() / 1000) + 86400}`, 'logged'],
  },
  { name: 'logs --details', args: ['logs', '--details', 'logged'] },
  { name: 'exec --env-file', args: ['exec', '--env-file', join(work, 'exec.env'), 'live', 'sh', '-c', 'echo $FROM_FILE'] },
  { name: 'exec -w -u', args: ['exec', '-w', '/tmp', '-u', '1000:1000', 'live', 'sh', '-c', 'pwd; id'] },
  { name: 'cp - into a container', args: ['cp', '-', 'live:/tmp'], input: asciiTar() },
];

describe('run, logs, exec and cp flags: berth matches docker', () => {
  before(() => {
    // Made here, not at load: dockerd is up by now.
    both(['create', '--name', 'lblc', '--label-file', join(work, 'labels'), '--oom-score-adj', '-300', '--expose', '80', 'bbdiff:1', 'true']);
  });
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, (a, input) => t.run(a, { input })));
  it('cp - then reading the file back', () => assertSameAsDocker({ name: 'cat', args: ['exec', 'live', 'cat', '/tmp/in.txt'] }, (a) => t.run(a)));
});

/**
 * Flags docker's CLI gained after 20.10 (the helper's CLI): `NAME=IP` in --add-host (25),
 * run -q (23), stop and restart -s and --timeout (23), through docker CLI 28 on the same dockerd.
 */
const DOCKER_28 = '/usr/local/bin/docker';
function sameAsDocker28(c: DiffCase): void {
  const r = spawnSync(DOCKER_28, c.args, { env: { ...process.env, DOCKER_HOST }, input: c.input });
  const want = { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  const got = t.run(c.args, { input: c.input });
  const show = `\nberth: ${got.stdout}${got.stderr}\ndocker 28: ${want.stdout}${want.stderr}`;
  assert.equal(got.code, want.code, `exit: berth ${got.code} vs docker ${want.code}${show}`);
  assert.equal(normalise(got.stdout), normalise(want.stdout), show);
}

describe('flags of docker CLI 28: berth matches it', { skip: !existsSync(DOCKER_28) && 'no docker CLI 28 on this machine' }, () => {
  const cases28: DiffCase[] = [
    { name: 'add-host NAME=IP', args: [...RUN, '--add-host', 'b=5.6.7.8', 'bbdiff:1', 'grep', 'b$', '/etc/hosts'] },
    { name: 'add-host with a bracketed IPv6 address', args: [...RUN, '--add-host', 'six=[2001:db8::2]', 'bbdiff:1', 'grep', 'six', '/etc/hosts'] },
    { name: 'run -q', args: [...RUN, '-q', 'bbdiff:1', 'echo', 'quiet'] },
    { name: 'restart -t 0 -s KILL', args: ['restart', '-t', '0', '-s', 'KILL', 'live'] },
    { name: 'stop --timeout 1 -s KILL', args: ['stop', '--timeout', '1', '-s', 'KILL', 'live'] },
    { name: 'stop an exited container', args: ['stop', '-t', '0', 'logged'] },
  ];
  for (const c of cases28) it(c.name, () => sameAsDocker28(c));
});
