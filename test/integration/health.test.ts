/**
 * Health checks on real runc: the monitor probes as `--health-*` or the image's HEALTHCHECK
 * says, `State.Health` and ps's STATUS show the result, a probe past its timeout is killed,
 * and hostile settings are refused (or, when merely absurd, do no harm).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';
import { busyboxRoot } from '../helpers/busybox.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

const t = busyboxRoot('berth-health-');

type Health = { Status: string; FailingStreak: number; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> };

function health(name: string): Health | null {
  const r = t.run(['inspect', '-f', '{{json .State.Health}}', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Health | null;
}

function psStatus(name: string): string {
  const lines = t.run(['ps', '-a', '--format', '{{.Names}}\t{{.Status}}']).stdout.split('\n');
  return (lines.find((l) => l.startsWith(`${name}\t`)) ?? '').slice(name.length + 1);
}

describe('health checks', () => {
  it('a passing check becomes healthy: ps says so, the log has the probe', async () => {
    const r = t.run(['run', '-d', '--name', 'hok', '--health-cmd', 'echo ok', '--health-interval', '300ms', 'bb:1', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(psStatus('hok'), /^Up .* \((health: starting|healthy)\)$/);
    const h = await waitFor('hok healthy', () => (health('hok')?.Status === 'healthy' ? health('hok')! : undefined));
    assert.equal(h.FailingStreak, 0);
    assert.deepEqual([h.Log[0]!.ExitCode, h.Log[0]!.Output], [0, 'ok\n']);
    assert.ok(Date.parse(h.Log[0]!.End) >= Date.parse(h.Log[0]!.Start));
    assert.match(psStatus('hok'), /^Up .* \(healthy\)$/);
    assert.equal(t.run(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}']).stdout.trim(), 'hok');
    const events = t.run(['events', '--since', '5m', '--until', '0s', '--filter', 'container=hok', '--format', '{{.Action}}']).stdout;
    assert.match(events, /^health_status: healthy$/m);
    assert.equal(t.run(['inspect', '-f', '{{json .Config.Healthcheck}}', 'hok']).stdout.trim(), '{"Test":["CMD-SHELL","echo ok"],"Interval":300000000}');
  });

  it('a failing check is unhealthy after its retries, with the log of the failures (the last 5)', async () => {
    const r = t.run([
      'run',
      '-d',
      '--name',
      'hbad',
      '--health-cmd',
      'echo bad >&2; exit 2',
      '--health-interval',
      '200ms',
      '--health-retries',
      '2',
      'bb:1',
      'sleep',
      '1000',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const h = await waitFor('hbad unhealthy', () => (health('hbad')?.Status === 'unhealthy' ? health('hbad')! : undefined));
    assert.ok(h.FailingStreak >= 2);
    assert.deepEqual([h.Log.at(-1)!.ExitCode, h.Log.at(-1)!.Output], [2, 'bad\n']);
    await waitFor('six probes', () => ((health('hbad')?.FailingStreak ?? 0) >= 6 ? true : undefined));
    assert.equal(health('hbad')!.Log.length, 5);
    assert.match(psStatus('hbad'), /^Up .* \(unhealthy\)$/);
  });

  it('a probe that never exits is killed at its timeout and counts as a failure', async () => {
    const r = t.run([
      'run',
      '-d',
      '--name',
      'hhang',
      '--health-cmd',
      'sleep 1000',
      '--health-interval',
      '200ms',
      '--health-timeout',
      '500ms',
      '--health-retries',
      '1',
      'bb:1',
      'sleep',
      '1000',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const h = await waitFor('hhang unhealthy', () => (health('hhang')?.Status === 'unhealthy' ? health('hhang')! : undefined));
    assert.deepEqual([h.Log[0]!.ExitCode, h.Log[0]!.Output], [-1, 'Health check exceeded timeout (500ms)']);
    // The killed probes do not pile up in the container.
    await sleep(1500);
    const ps = t.run(['exec', 'hhang', 'ps']).stdout;
    assert.ok(ps.split('\n').filter((l) => l.includes('sleep 1000')).length <= 3, ps);
  });

  it('failures inside the start period do not count while starting', async () => {
    const r = t.run([
      'run',
      '-d',
      '--name',
      'hstart',
      '--health-cmd',
      'exit 1',
      '--health-interval',
      '200ms',
      '--health-start-period',
      '1h',
      '--health-start-interval',
      '200ms',
      '--health-retries',
      '1',
      'bb:1',
      'sleep',
      '1000',
    ]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('two probes', () => ((health('hstart')?.Log.length ?? 0) >= 2 ? true : undefined));
    assert.deepEqual([health('hstart')!.Status, health('hstart')!.FailingStreak], ['starting', 0]);
    assert.match(psStatus('hstart'), /\(health: starting\)$/);
  });

  it("the image's HEALTHCHECK runs, --health-interval overrides a field of it, --no-healthcheck turns it off", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-health-ctx-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM bb:1\nHEALTHCHECK --interval=1h --retries=4 CMD echo from-image\n');
    const b = t.run(['build', '-q', '-t', 'hc:1', dir]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(t.run(['run', '-d', '--name', 'himg', '--health-interval', '200ms', 'hc:1', 'sleep', '1000']).code, 0);
    const h = await waitFor('himg healthy', () => (health('himg')?.Status === 'healthy' ? health('himg')! : undefined));
    assert.equal(h.Log[0]!.Output, 'from-image\n');
    assert.equal(
      t.run(['inspect', '-f', '{{json .Config.Healthcheck}}', 'himg']).stdout.trim(),
      '{"Test":["CMD-SHELL","echo from-image"],"Interval":200000000,"Retries":4}',
    );
    assert.equal(t.run(['run', '-d', '--name', 'hnone', '--no-healthcheck', 'hc:1', 'sleep', '1000']).code, 0);
    await sleep(800);
    assert.equal(health('hnone'), null);
    assert.match(psStatus('hnone'), /^Up [^(]*$/);
    assert.equal(t.run(['inspect', '-f', '{{json .Config.Healthcheck.Test}}', 'hnone']).stdout.trim(), '["NONE"]');
  });

  it('no probe runs while the container is paused (one would time out in the freezer), and probes resume after unpause', async () => {
    const flags = ['--health-cmd', 'echo ok', '--health-interval', '200ms', '--health-timeout', '300ms', '--health-retries', '1'];
    assert.equal(t.run(['run', '-d', '--name', 'hpause', ...flags, 'bb:1', 'sleep', '1000']).code, 0);
    await waitFor('hpause healthy', () => (health('hpause')?.Status === 'healthy' ? true : undefined));
    assert.equal(t.run(['pause', 'hpause']).code, 0);
    // A probe already in flight may still finish: what counts is that none starts after it.
    await sleep(400);
    const before = health('hpause')!;
    await sleep(1500);
    const during = health('hpause')!;
    assert.equal(during.Status, 'healthy');
    assert.equal(during.FailingStreak, 0);
    assert.equal(during.Log.at(-1)!.Start, before.Log.at(-1)!.Start);
    assert.equal(t.run(['unpause', 'hpause']).code, 0);
    await waitFor('a probe after unpause', () => (health('hpause')!.Log.at(-1)!.Start !== before.Log.at(-1)!.Start ? true : undefined));
    assert.equal(health('hpause')!.Status, 'healthy');
    assert.equal(t.run(['rm', '-f', 'hpause']).code, 0);
  });

  it('a health check keeps its last state after the container stops, and is not shown in an Exited status', async () => {
    assert.equal(t.run(['stop', '-t', '1', 'hok']).code, 0);
    assert.equal(health('hok')?.Status, 'healthy');
    assert.match(psStatus('hok'), /^Exited \(\d+\)/);
  });
});

describe('health checks: hostile settings', () => {
  const refused: Array<{ args: string[]; stderr: RegExp }> = [
    { args: ['--health-interval', 'soon'], stderr: /invalid duration "soon"/ },
    { args: ['--health-interval', '-1s'], stderr: /--health-interval cannot be negative/ },
    { args: ['--health-timeout', '10us'], stderr: /Timeout in Healthcheck cannot be less than 1ms/ },
    { args: ['--health-retries', '-3'], stderr: /--health-retries cannot be negative/ },
    { args: ['--health-start-period', '99999999999h'], stderr: /invalid duration/ },
    { args: ['--no-healthcheck', '--health-cmd', 'true'], stderr: /--no-healthcheck conflicts with --health-\* options/ },
  ];
  for (const c of refused) {
    it(`run ${c.args.join(' ')} is refused with 125`, () => {
      const r = t.run(['run', '-d', ...c.args, 'bb:1', 'true']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, c.stderr);
    });
  }

  it('an absurd interval (beyond what a timer holds) waits, rather than probing at once', async () => {
    const r = t.run(['run', '-d', '--name', 'hfar', '--health-cmd', 'exit 1', '--health-interval', '2000h', '--health-retries', '1', 'bb:1', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    await sleep(1500);
    assert.deepEqual([health('hfar')?.Status, health('hfar')?.Log.length], ['starting', 0]);
  });

  it('a probe command that does not exist is a failed probe, not a dead monitor', async () => {
    const r = t.run([
      'run',
      '-d',
      '--name',
      'hmissing',
      '--health-cmd',
      'true',
      '--health-interval',
      '200ms',
      '--health-retries',
      '1',
      'bb:1',
      'sleep',
      '1000',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.run(['exec', 'hmissing', 'rm', '/bin/sh']).code, 0);
    const h = await waitFor('hmissing unhealthy', () => (health('hmissing')?.Status === 'unhealthy' ? health('hmissing')! : undefined));
    assert.equal(h.Log.at(-1)!.ExitCode, -1);
    assert.equal(t.run(['inspect', '-f', '{{.State.Status}}', 'hmissing']).stdout.trim(), 'running');
  });
});

describe('health checks through the API', () => {
  let s: ServeHandle;
  before(async () => {
    s = await startServe({ busybox: true });
  });
  after(async () => {
    await s?.stop();
  });

  it('docker run --health-cmd: docker ps shows (healthy), docker inspect the Health', async () => {
    const r = s.docker(['run', '-d', '--name', 'api-h', '--health-cmd', 'echo fine', '--health-interval', '300ms', 'bb:1', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('docker ps (healthy)', () => (/\(healthy\)/.test(s.docker(['ps', '--format', '{{.Status}}']).stdout) ? true : undefined));
    const h = JSON.parse(s.docker(['inspect', '-f', '{{json .State.Health}}', 'api-h']).stdout) as Health;
    assert.equal(h.Status, 'healthy');
    assert.equal(h.Log[0]!.Output, 'fine\n');
    assert.equal(s.docker(['inspect', '-f', '{{json .Config.Healthcheck.Test}}', 'api-h']).stdout.trim(), '["CMD-SHELL","echo fine"]');
  });

  it('an interval under 1ms in the body is docker 400', () => {
    const r = s.docker(['run', '-d', '--health-cmd', 'true', '--health-interval', '1us', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Interval in Healthcheck cannot be less than 1ms/);
  });
});
