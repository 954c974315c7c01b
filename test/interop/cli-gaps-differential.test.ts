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
import { sleep, waitFor } from '../helpers/wait.ts';

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

describe('--log-driver and --log-opt: what each driver takes, with the errors docker gives', () => {
  const RUN = ['run', '--rm', '--network', 'none'];
  // What both engines take is checked at create: no container need run for it.
  const CREATE = ['create', '--network', 'none'];
  const cases: DiffCase[] = [
    {
      name: 'mode=non-blocking with a max-buffer-size',
      args: [...CREATE, '--log-opt', 'mode=non-blocking', '--log-opt', 'max-buffer-size=1m', 'bbdiff:1', 'echo', 'hi'],
    },
    { name: 'max-buffer-size without mode=non-blocking', args: [...RUN, '--log-opt', 'max-buffer-size=4m', 'bbdiff:1', 'true'], stderr: true },
    {
      name: 'a max-buffer-size that is no size',
      args: [...RUN, '--log-opt', 'mode=non-blocking', '--log-opt', 'max-buffer-size=x', 'bbdiff:1', 'true'],
      stderr: true,
    },
    { name: 'an unknown mode', args: [...RUN, '--log-opt', 'mode=bogus', 'bbdiff:1', 'true'], stderr: true },
    { name: 'compress without max-size', args: [...RUN, '--log-opt', 'compress=true', 'bbdiff:1', 'true'], stderr: true },
    { name: 'compress that is no boolean', args: [...RUN, '--log-opt', 'compress=maybe', 'bbdiff:1', 'true'], stderr: true },
    {
      name: 'compress with max-size and max-file',
      args: [...CREATE, '--log-opt', 'compress=true', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', 'bbdiff:1', 'echo', 'ok'],
    },
    { name: 'tag is taken by json-file', args: [...CREATE, '--log-opt', 'tag={{.Name}}', 'bbdiff:1', 'echo', 'ok'] },
    { name: 'a labels-regex that does not compile', args: [...RUN, '--log-opt', 'labels-regex=[', 'bbdiff:1', 'true'] },
    { name: 'an unknown json-file option', args: [...RUN, '--log-opt', 'colour=blue', 'bbdiff:1', 'true'], stderr: true },
    {
      name: 'the local driver with its options',
      args: [
        ...CREATE,
        '--log-driver',
        'local',
        '--log-opt',
        'max-size=1k',
        '--log-opt',
        'max-file=2',
        '--log-opt',
        'compress=false',
        '--log-opt',
        'mode=non-blocking',
        'bbdiff:1',
        'echo',
        'hi',
      ],
    },
    { name: 'local does not take tag', args: [...RUN, '--log-driver', 'local', '--log-opt', 'tag=x', 'bbdiff:1', 'true'], stderr: true },
    { name: 'local does not take labels', args: [...RUN, '--log-driver', 'local', '--log-opt', 'labels=a', 'bbdiff:1', 'true'], stderr: true },
    { name: 'local compresses, so one file is refused', args: [...RUN, '--log-driver', 'local', '--log-opt', 'max-file=1', 'bbdiff:1', 'true'], stderr: true },
    { name: 'local with a bad max-size', args: [...RUN, '--log-driver', 'local', '--log-opt', 'max-size=abc', 'bbdiff:1', 'true'], stderr: true },
    { name: 'local with a bad compress', args: [...RUN, '--log-driver', 'local', '--log-opt', 'compress=x', 'bbdiff:1', 'true'], stderr: true },
    { name: 'none takes no options', args: [...RUN, '--log-driver', 'none', '--log-opt', 'mode=non-blocking', 'bbdiff:1', 'true'] },
    { name: 'create: none takes no options', args: ['create', '--log-driver', 'none', '--log-opt', 'max-size=1k', 'bbdiff:1', 'true'] },
    {
      name: 'labels-regex and env-regex name attributes beside labels',
      args: [
        'run',
        '--name',
        'lre',
        '--network',
        'none',
        '-l',
        'team=ml',
        '-l',
        'tier=x',
        '-l',
        'other=y',
        '-e',
        'ALPHA=1',
        '-e',
        'BETA=2',
        '--log-opt',
        'labels-regex=^t',
        '--log-opt',
        'env-regex=^AL',
        '--log-opt',
        'labels=other',
        'bbdiff:1',
        'echo',
        'x',
      ],
    },
    { name: 'logs --details shows them', args: ['logs', '--details', 'lre'] },
    {
      name: 'a local-driver container',
      args: ['run', '--name', 'lcl', '--network', 'none', '--log-driver', 'local', 'bbdiff:1', 'sh', '-c', 'echo out; echo err >&2'],
    },
    { name: 'logs of a local-driver container', args: ['logs', 'lcl'] },
    { name: 'inspect of a local-driver container', args: ['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'lcl'] },
  ];
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, berth));
});

describe('restart policies: kill, wait and logs -f as docker has them', () => {
  const NONE = ['--network', 'none'];
  const STATE = '{{.Name}} {{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}';
  const state = (run: (typeof engines)[number], name: string) => run(['inspect', '-f', STATE, name]).stdout.trim();

  it('kill -s USR1: with no stop signal named, the container is not restarted when it exits, however late; with one named, it is', async () => {
    for (const run of engines) {
      const start = (name: string, flags: string[], script: string) =>
        assert.equal(run(['run', '-d', '--name', name, ...NONE, ...flags, 'bbdiff:1', 'sh', '-c', script]).code, 0);
      start('k-exits', ['--restart', 'unless-stopped'], 'trap "exit 3" USR1; while true; do sleep 0.1; done');
      start('k-later', ['--restart', 'always'], 'trap "echo got" USR1; while [ ! -f /stop ]; do sleep 0.1; done; exit 4');
      start('k-named', ['--restart', 'always', '--stop-signal', 'USR2'], 'trap "exit 3" USR1; while true; do sleep 0.1; done');
    }
    // Each shell has to have set its trap before the signal comes.
    await sleep(500);
    for (const run of engines) assert.equal(run(['kill', '-s', 'USR1', 'k-exits', 'k-later', 'k-named']).code, 0);
    for (const run of engines) {
      await waitFor('k-exits exited', () => (state(run, 'k-exits') === '/k-exits exited 0 3' ? true : undefined), 15_000);
      await waitFor('k-named restarted', () => (/^\/k-named running 1 /.test(state(run, 'k-named')) ? true : undefined), 15_000);
      assert.equal(run(['exec', 'k-later', 'touch', '/stop']).code, 0);
      await waitFor('k-later exited', () => (state(run, 'k-later') === '/k-later exited 0 4' ? true : undefined), 15_000);
      assert.equal(run(['logs', 'k-later']).stdout, 'got\n');
    }
    assertSameAsDocker({ name: 'states after the kills', args: ['inspect', '-f', STATE, 'k-exits', 'k-later', 'k-named'] }, berth);
    assertSameAsDocker(
      { name: 'restart policies after the kills', args: ['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', 'k-exits', 'k-named'] },
      berth,
    );
  });

  it('wait on a container in its back-off returns the exit of the run to come, not the last one', async () => {
    // Each run exits with its own number, counted in a volume.
    const script = 'n=$(cat /d/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /d/n; exit $n';
    for (const run of engines) {
      assert.equal(run(['run', '-d', '--name', 'w-backoff', ...NONE, '--restart', 'always', '-v', 'wcount:/d', 'bbdiff:1', 'sh', '-c', script]).code, 0);
      // From the fourth restart on the back-off is 0.8 s or more: time to ask while it lasts.
      const seen = await waitFor(
        'a long back-off',
        () => {
          const [status, count, code] = run(['inspect', '-f', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}', 'w-backoff']).stdout.trim().split(' ');
          return status === 'restarting' && Number(count) >= 4 ? Number(code) : undefined;
        },
        30_000,
      );
      const r = run(['wait', 'w-backoff']);
      assert.equal(r.code, 0, r.stderr);
      // The run to come, or (when the back-off ended before the wait began) a later one: never the one seen.
      assert.ok(Number(r.stdout.trim()) > seen, `wait during the back-off after run ${seen} returned ${r.stdout.trim()}`);
      assert.equal(run(['rm', '-f', 'w-backoff']).code, 0);
    }
  });

  it('logs -f of a restarting container ends at its exit, as dockerd 20.10 has it', () => {
    for (const run of engines) {
      assert.equal(run(['run', '-d', '--name', 'lf', ...NONE, '--restart', 'always', 'bbdiff:1', 'sh', '-c', 'echo run; sleep 1; exit 1']).code, 0);
    }
    assertSameAsDocker({ name: 'logs -f', args: ['logs', '-f', 'lf'] }, berth);
  });
});
