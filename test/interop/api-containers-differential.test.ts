/**
 * Differential: the docker CLI 28 against `berth serve` and against a private dockerd, the
 * same busybox image in both, the same container verbs; stdout, stderr (ids and durations
 * made neutral) and exit codes must agree. Containers run with --network none in both, and
 * are started by each engine's own means (berth's CLI shares the server's state).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { DOCKER_HOST as DOCKERD, docker as dockerd, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

let s: ServeHandle;
/** ids and the container names' hex never match between engines: replaced by their role. */
const neutral = (text: string) => text.replace(/[0-9a-f]{64}/g, '<id>').replace(/[0-9a-f]{12}/g, '<short>');

/** The CLI 28 against each engine: berth first, dockerd second. */
function both(args: readonly string[]) {
  const a = s.docker(args);
  const b = s.docker(args, { env: { DOCKER_HOST: DOCKERD } });
  return [a, b].map((r) => ({ code: r.code, stdout: neutral(r.stdout), stderr: neutral(r.stderr) }));
}

function same(args: readonly string[]) {
  const [berth, docker] = both(args);
  assert.deepEqual(berth, docker, `docker ${args.join(' ')}`);
  return berth!;
}

before(async () => {
  await startDockerd();
  s = await startServe();
  assert.equal(dockerd(['import', busyboxTar(), 'bbd:1']).code, 0);
  assert.equal(berthIn(s.root, ['import', busyboxTar(), 'bbd:1']).code, 0);
  // Two containers in each: one running, one exited with 3, one created, labelled alike.
  for (const run of [(args: string[]) => berthIn(s.root, args), (args: string[]) => dockerd(args)]) {
    assert.equal(run(['run', '-d', '--network', 'none', '--name', 'up', '--label', 'k=v', '--label', 'role=web', 'bbd:1', 'sleep', '300']).code, 0);
    assert.equal(run(['run', '--network', 'none', '--name', 'down', '--label', 'k=v', 'bbd:1', 'sh', '-c', 'exit 3']).code, 3);
    assert.equal(run(['create', '--network', 'none', '--name', 'new', '--label', 'k=w', 'bbd:1', 'true']).code, 0);
  }
});
after(async () => {
  if (s) {
    await s.stop();
  }
  stopDockerd();
});

describe('berth serve and dockerd answer the docker CLI alike', () => {
  it('ps -a with label, name, status, exited and ancestor filters', () => {
    const format = ['--format', '{{.Names}}|{{.Image}}|{{.Command}}|{{.State}}|{{.Labels}}'];
    for (const filter of ['label=k=v', 'label=k', 'label=role', 'name=do', 'status=exited', 'status=created', 'status=running', 'exited=3', 'ancestor=bbd:1']) {
      const r = same(['ps', '-a', '--filter', filter, ...format]);
      assert.equal(r.code, 0);
    }
    assert.notEqual(same(['ps', '-a', '--filter', 'label=k=v', ...format]).stdout, '');
  });

  it('inspect fields the CLI and compose read', () => {
    same([
      'inspect',
      '-f',
      '{{.Name}} {{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.Config.Tty}} {{.Config.OpenStdin}} {{.HostConfig.AutoRemove}}',
      'up',
      'down',
      'new',
    ]);
    same(['inspect', '-f', '{{json .Config.Labels}} {{json .Config.Cmd}} {{.Config.Image}} {{.HostConfig.NetworkMode}}', 'up', 'down']);
    same(['inspect', 'nosuch']);
  });

  it('create options as inspect shows them', () => {
    const args = ['--network', 'none', '-e', 'A=1', '-w', '/w', '-u', '0', '--hostname', 'hh', '--tmpfs', '/t:size=1m', '--memory', '64m', '--cpus', '1.5'];
    const more = [
      '--cap-add',
      'NET_ADMIN',
      '--cap-drop',
      'MKNOD',
      '--read-only',
      '--init',
      '--pids-limit',
      '50',
      '--shm-size',
      '1m',
      '--stop-signal',
      'SIGINT',
    ];
    same(['create', '--name', 'opts', ...args, ...more, '--label', 'a=b', '--entrypoint', 'sh', 'bbd:1', '-c', 'true']);
    same([
      'inspect',
      '-f',
      '{{.Config.User}}|{{.Config.WorkingDir}}|{{.Config.Hostname}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{.Config.StopSignal}}|{{.Path}}|{{json .Args}}',
      'opts',
    ]);
    same([
      'inspect',
      '-f',
      '{{.HostConfig.Memory}}|{{.HostConfig.NanoCpus}}|{{json .HostConfig.CapAdd}}|{{json .HostConfig.CapDrop}}|{{.HostConfig.ReadonlyRootfs}}|{{json .HostConfig.Init}}|{{json .HostConfig.Tmpfs}}|{{json .HostConfig.PidsLimit}}|{{.HostConfig.ShmSize}}',
      'opts',
    ]);
    same(['rm', 'opts']);
  });

  it('rm of a running container, kill and stop of a stopped one, unknown containers', () => {
    same(['rm', 'up']);
    same(['kill', 'down']);
    same(['stop', 'down']);
    same(['rm', 'nosuch']);
    same(['stop', 'nosuch']);
  });

  it('rename, top titles, diff after a change, stats, pause, then prune', () => {
    same(['rename', 'new', 'renamed']);
    same(['rename', 'renamed', 'up']);
    const [a, b] = both(['top', 'up']);
    assert.equal(a!.stdout.split('\n')[0], b!.stdout.split('\n')[0]);
    assert.equal(berthIn(s.root, ['exec', 'up', 'sh', '-c', 'echo x > /added && rm /bin/false']).code, 0);
    assert.equal(dockerd(['exec', 'up', 'sh', '-c', 'echo x > /added && rm /bin/false']).code, 0);
    // The order of diff's lines is the file system's in dockerd (readdir's), so compare them as sets.
    const [da, db] = both(['diff', 'up']);
    assert.deepEqual(da!.stdout.split('\n').sort(), db!.stdout.split('\n').sort());
    assert.equal(da!.code, db!.code);
    same(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'up']);
    same(['pause', 'up']);
    same(['pause', 'up']);
    same(['ps', '--filter', 'status=paused', '--format', '{{.Names}} {{.State}}']);
    same(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'up']);
    same(['unpause', 'up']);
    same(['unpause', 'up']);
    same(['kill', 'up']);
    const [pa, pb] = both(['container', 'prune', '-f']);
    assert.equal(pa!.code, pb!.code);
    assert.equal(pa!.stdout.replace(/Total reclaimed space: .*/, ''), pb!.stdout.replace(/Total reclaimed space: .*/, ''));
    same(['ps', '-a']);
  });
});
