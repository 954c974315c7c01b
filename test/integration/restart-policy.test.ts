/**
 * Restart policies on real runc: the monitor restarts a container as its policy says, a stop
 * by the user keeps it down, and `system boot` brings back what a reboot took (the test plays
 * the reboot: the monitor and the container's processes killed, runc's state deleted).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openEngine } from '../../src/engine.ts';
import { pullImage } from '../../src/registry/index.ts';
import { updateRestartPolicy } from '../../src/services/restart.ts';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';
import { busyboxRoot } from '../helpers/busybox.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

const t = busyboxRoot('berth-restart-');

function inspect(name: string, format: string): string {
  const r = t.run(['inspect', '-f', format, name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** The pids of the monitors of container `id` (`berth __monitor ID`). */
function monitorsOf(id: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv.includes('__monitor') && argv.includes(id)) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** A host reboot as a container sees it: its monitor and processes killed, runc's state gone. */
async function simulateReboot(name: string): Promise<void> {
  const id = inspect(name, '{{.Id}}');
  const pid = Number(inspect(name, '{{.State.Pid}}'));
  // Until none is left: a monitor seen once may be mid-restart, and its kill must come before the container's.
  for (let i = 0; i < 50; i++) {
    const monitors = monitorsOf(id);
    if (!monitors.length) break;
    for (const m of monitors) process.kill(m, 'SIGKILL');
    await sleep(100);
  }
  assert.deepEqual(monitorsOf(id), [], `the monitor of ${name} is gone`);
  if (pid) process.kill(pid, 'SIGKILL');
  for (const dir of existsSync('/run/berth') ? readdirSync('/run/berth') : []) {
    const runcRoot = `/run/berth/${dir}/runc`;
    if (existsSync(`${runcRoot}/${id}`)) spawnSync('runc', ['--root', runcRoot, 'delete', '--force', id]);
  }
}

describe('restart policies', () => {
  it('a --rm container whose monitor died is recorded exited (137) and removed at the next look, as dockerd removes it on restore', async () => {
    const r = t.run(['run', '-d', '--rm', '--name', 'rmdead', 'bb:1', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    await simulateReboot('rmdead');
    const ps = t.run(['ps', '-a', '--format', '{{.Names}}']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.equal(ps.stdout.split('\n').includes('rmdead'), false, ps.stdout);
    assert.match(t.run(['inspect', 'rmdead']).stderr, /No such object: rmdead/);
  });

  it('on-failure:3: a process that exits 1 is started 3 more times, then stays exited', async () => {
    const r = t.run(['run', '-d', '--name', 'of3', '--restart', 'on-failure:3', 'bb:1', 'sh', '-c', 'echo run; exit 1']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('of3 to settle', () => (inspect('of3', '{{.State.Status}} {{.RestartCount}}') === 'exited 3' ? true : undefined));
    await sleep(1500);
    assert.equal(inspect('of3', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}'), 'exited 3 1');
    assert.equal(inspect('of3', '{{json .HostConfig.RestartPolicy}}'), '{"Name":"on-failure","MaximumRetryCount":3}');
    assert.equal(t.run(['logs', 'of3']).stdout, 'run\nrun\nrun\nrun\n');
    const events = t.run(['events', '--since', '5m', '--until', '0s', '--filter', 'container=of3', '--format', '{{.Action}}']).stdout.split('\n');
    assert.equal(events.filter((a) => a === 'start').length, 4, events.join(','));
    assert.equal(events.filter((a) => a.startsWith('die')).length, 4, events.join(','));
  });

  it('on-failure leaves a clean exit alone', async () => {
    assert.equal(t.run(['run', '-d', '--name', 'ofok', '--restart', 'on-failure', 'bb:1', 'true']).code, 0);
    await waitFor('ofok to exit', () => (inspect('ofok', '{{.State.Status}}') === 'exited' ? true : undefined));
    await sleep(1000);
    assert.equal(inspect('ofok', '{{.State.Status}} {{.RestartCount}}'), 'exited 0');
  });

  it('always: restarting shows in ps and inspect while it waits, and a stop ends it', async () => {
    assert.equal(t.run(['run', '-d', '--name', 'flap', '--restart', 'always', 'bb:1', 'sh', '-c', 'exit 1']).code, 0);
    // The back-off doubles: after a few restarts the wait is long enough to be seen.
    const status = await waitFor('a Restarting status', () => {
      const line = t.run(['ps', '--filter', 'name=flap', '--format', '{{.Status}}']).stdout.trim();
      return /^Restarting \(1\) .* ago$/.test(line) ? line : undefined;
    });
    assert.match(status, /^Restarting \(1\)/);
    assert.match(inspect('flap', '{{.State.Status}} {{.State.Running}} {{.State.Restarting}}'), /^(restarting true true|running true false)$/);
    assert.ok(Number(inspect('flap', '{{.RestartCount}}')) >= 1);
    const stop = t.run(['stop', 'flap']);
    assert.equal(stop.code, 0, stop.stderr);
    await sleep(1500);
    assert.equal(inspect('flap', '{{.State.Status}}'), 'exited');
  });

  it('stop on an always container keeps it stopped; start resets its count', async () => {
    assert.equal(t.run(['run', '-d', '--name', 'keep', '--restart', 'always', 'bb:1', 'sleep', '1000']).code, 0);
    assert.equal(t.run(['stop', '-t', '1', 'keep']).code, 0);
    await sleep(2000);
    assert.equal(inspect('keep', '{{.State.Status}} {{.RestartCount}}'), 'exited 0');
    assert.equal(t.run(['start', 'keep']).code, 0);
    assert.equal(inspect('keep', '{{.State.Status}}'), 'running');
    assert.equal(t.run(['kill', 'keep']).code, 0);
    await sleep(2000);
    assert.equal(inspect('keep', '{{.State.Status}}'), 'exited');
  });

  it('a kill with a signal that is not the stop signal does not stop an always container for good', async () => {
    const script = 'trap "exit 3" USR1; while :; do sleep 0.1; done';
    assert.equal(t.run(['run', '-d', '--name', 'usr', '--restart', 'always', '--stop-signal', 'USR2', 'bb:1', 'sh', '-c', script]).code, 0);
    await sleep(500);
    assert.equal(t.run(['kill', '-s', 'USR1', 'usr']).code, 0);
    await waitFor('usr restarted', () => (inspect('usr', '{{.RestartCount}}') === '1' && inspect('usr', '{{.State.Status}}') === 'running' ? true : undefined));
    assert.equal(t.run(['rm', '-f', 'usr']).code, 0);
  });

  it('with no stop signal named, any kill stops an always container for good, as docker has it', async () => {
    const script = 'trap "exit 3" USR1; while :; do sleep 0.1; done';
    assert.equal(t.run(['run', '-d', '--name', 'usr2', '--restart', 'always', 'bb:1', 'sh', '-c', script]).code, 0);
    await sleep(500);
    assert.equal(t.run(['kill', '-s', 'USR1', 'usr2']).code, 0);
    await waitFor('usr2 exited', () => (inspect('usr2', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}') === 'exited 0 3' ? true : undefined));
    await sleep(500);
    assert.equal(inspect('usr2', '{{.State.Status}} {{.RestartCount}}'), 'exited 0');
    assert.equal(t.run(['rm', '-f', 'usr2']).code, 0);
  });

  it('an attached run with a policy returns its exit status, and its container goes on restarting', async () => {
    const r = t.run(['run', '--name', 'att', '--restart', 'on-failure:1', 'bb:1', 'sh', '-c', 'echo once; exit 4']);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, 'once\n');
    await waitFor('att restarted once', () => (inspect('att', '{{.State.Status}} {{.RestartCount}}') === 'exited 1' ? true : undefined));
    assert.equal(t.run(['logs', 'att']).stdout, 'once\nonce\n');
  });

  it('rm of a restarting container needs -f', async () => {
    assert.equal(t.run(['run', '-d', '--name', 'rmr', '--restart', 'always', 'bb:1', 'sh', '-c', 'exit 2']).code, 0);
    await waitFor('rmr restarting', () => (inspect('rmr', '{{.State.Status}}') === 'restarting' ? true : undefined));
    const r = t.run(['rm', 'rmr']);
    if (r.code !== 0) assert.match(r.stderr, /You cannot remove a (restarting|running) container/);
    assert.equal(t.run(['rm', '-f', 'rmr']).code, 0);
    assert.notEqual(t.run(['inspect', 'rmr']).code, 0);
  });
});

describe('updateRestartPolicy (for `update --restart`)', () => {
  it("changes a running container's policy, which its monitor follows at the next exit", async () => {
    assert.equal(t.run(['run', '-d', '--name', 'upd', 'bb:1', 'sh', '-c', 'sleep 2; exit 1']).code, 0);
    const engine = await openEngine({ root: t.root, puller: { pull: pullImage } });
    try {
      const rec = updateRestartPolicy(engine, 'upd', 'on-failure:1');
      assert.deepEqual(rec.config.restartPolicy, { name: 'on-failure', maximumRetryCount: 1 });
      assert.throws(() => updateRestartPolicy(engine, 'upd', 'sometimes'), /unknown policy 'sometimes'/);
      assert.throws(() => updateRestartPolicy(engine, 'nosuch', 'always'), /No such container: nosuch/);
    } finally {
      engine.close();
    }
    assert.equal(inspect('upd', '{{json .HostConfig.RestartPolicy}}'), '{"Name":"on-failure","MaximumRetryCount":1}');
    await waitFor('upd restarted once', () => (inspect('upd', '{{.State.Status}} {{.RestartCount}}') === 'exited 1' ? true : undefined));
  });

  it('a --rm container keeps no policy', async () => {
    assert.equal(t.run(['create', '--rm', '--name', 'updrm', 'bb:1', 'true']).code, 0);
    const engine = await openEngine({ root: t.root, puller: { pull: pullImage } });
    try {
      assert.throws(() => updateRestartPolicy(engine, 'updrm', 'always'), /AutoRemove is enabled/);
    } finally {
      engine.close();
    }
  });
});

describe('berth system boot', () => {
  it('brings back an always container after a reboot, and leaves a running one alone', async () => {
    // The earlier tests' always containers, stopped by the user, would come back too (docker's rule): gone first.
    for (const id of t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) t.run(['rm', '-f', id]);
    assert.equal(t.run(['run', '-d', '--name', 'boot-always', '--restart', 'always', 'bb:1', 'sleep', '1000']).code, 0);
    assert.equal(t.run(['run', '-d', '--name', 'boot-unless', '--restart', 'unless-stopped', 'bb:1', 'sleep', '1000']).code, 0);
    assert.equal(t.run(['run', '-d', '--name', 'boot-no', 'bb:1', 'sleep', '1000']).code, 0);
    for (const n of ['boot-always', 'boot-unless', 'boot-no']) await simulateReboot(n);
    await sleep(500);
    assert.equal(inspect('boot-always', '{{.State.Running}}'), 'false');
    const boot = t.run(['system', 'boot']);
    assert.equal(boot.code, 0, boot.stderr);
    const started = boot.stdout.split('\n').filter(Boolean).sort();
    const states = () => ['boot-always', 'boot-unless', 'boot-no'].map((n) => `${n}: ${inspect(n, '{{.Id}} {{.State.Status}} {{.RestartCount}}')}`).join('\n');
    assert.deepEqual(started, [inspect('boot-always', '{{.Id}}'), inspect('boot-unless', '{{.Id}}')].sort(), `${boot.stderr}\n${states()}`);
    assert.equal(inspect('boot-always', '{{.State.Status}}'), 'running');
    assert.equal(inspect('boot-no', '{{.State.Status}}'), 'exited');
    assert.equal(t.run(['exec', 'boot-always', 'echo', 'back']).stdout, 'back\n');
    const again = t.run(['system', 'boot']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '', 'a running container is left alone');
  });

  it('after a manual stop: always comes back at boot, unless-stopped does not', async () => {
    assert.equal(t.run(['stop', '-t', '1', 'boot-always', 'boot-unless']).code, 0);
    const boot = t.run(['system', 'boot']);
    assert.equal(boot.code, 0, boot.stderr);
    assert.equal(inspect('boot-always', '{{.State.Status}}'), 'running');
    assert.equal(inspect('boot-unless', '{{.State.Status}}'), 'exited');
  });
});

describe('restart policies: hostile and docker-shaped input', () => {
  const cases: Array<{ args: string[]; stderr: RegExp }> = [
    { args: ['--restart', 'sometimes'], stderr: /invalid restart policy: unknown policy 'sometimes'/ },
    { args: ['--restart', 'on-failure:-1'], stderr: /maximum retry count cannot be negative/ },
    { args: ['--restart', 'on-failure:lots'], stderr: /maximum retry count must be an integer/ },
    { args: ['--restart', 'always:3'], stderr: /can only be used with 'on-failure'/ },
    { args: ['--restart', 'always', '--rm'], stderr: /AutoRemove.*restart policy/ },
    { args: ['--restart', `on-failure:${'9'.repeat(40)}`], stderr: /must be an integer/ },
  ];
  for (const c of cases) {
    it(`run ${c.args.join(' ')} is refused with 125 and creates nothing`, () => {
      const before = t.run(['ps', '-aq']).stdout;
      const r = t.run(['run', '-d', ...c.args, 'bb:1', 'true']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, c.stderr);
      assert.equal(t.run(['ps', '-aq']).stdout, before);
    });
  }
  it('create takes the policy too, and inspect shows it', () => {
    const r = t.run(['create', '--name', 'cr', '--restart', 'unless-stopped', 'bb:1', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(inspect('cr', '{{.HostConfig.RestartPolicy.Name}} {{.RestartCount}}'), 'unless-stopped 0');
  });
});

describe('restart policies through the API', () => {
  let s: ServeHandle;
  before(async () => {
    s = await startServe({ busybox: true });
  });
  after(async () => {
    await s?.stop();
  });

  it('docker run -d --restart on-failure:2 restarts twice; docker inspect shows the policy and the count', async () => {
    const r = s.docker(['run', '-d', '--name', 'api-of2', '--restart', 'on-failure:2', 'bb:1', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.docker(['inspect', '-f', '{{json .HostConfig.RestartPolicy}}', 'api-of2']).stdout.trim(), '{"Name":"on-failure","MaximumRetryCount":2}');
    await waitFor('api-of2 to settle', () =>
      s.docker(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', 'api-of2']).stdout.trim() === 'exited 2' ? true : undefined,
    );
  });

  it('a bad policy in the body is docker 400 and the CLI says why', () => {
    const r = s.docker(['run', '-d', '--restart', 'on-failure:-2', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /maximum retry count cannot be negative/);
  });

  it('docker stop on an always container keeps it stopped', async () => {
    assert.equal(s.docker(['run', '-d', '--name', 'api-al', '--restart', 'always', 'bb:1', 'sleep', '1000']).code, 0);
    assert.equal(s.docker(['stop', '-t', '1', 'api-al']).code, 0);
    await sleep(1500);
    assert.equal(s.docker(['inspect', '-f', '{{.State.Status}}', 'api-al']).stdout.trim(), 'exited');
  });
});
