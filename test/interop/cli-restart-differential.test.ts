/**
 * CLI differential for restart policies and health checks: the same command lines through the
 * docker CLI against a private dockerd and through berth, compared on exit code and stdout
 * (cli-diff.ts). The containers are created, not run, so no case waits on a clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase } from '../helpers/cli-diff.ts';
import { docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const t = tempRoot('berth-diff-restart-');
before(async () => {
  await startDockerd();
  assert.equal(docker(['import', busyboxTar(), 'bbdiff:1']).code, 0);
  assert.equal(t.run(['import', busyboxTar(), 'bbdiff:1']).code, 0);
});
after(() => {
  for (const id of docker(['ps', '-aq']).stdout.split('\n').filter(Boolean)) docker(['rm', '-f', id]);
  stopDockerd();
  for (const id of t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) t.run(['rm', '-f', id]);
  t.cleanup();
});

const POLICY = '{{json .HostConfig.RestartPolicy}} {{.RestartCount}}';
const cases: DiffCase[] = [
  { name: 'create --restart always', args: ['create', '--name', 'rp-always', '--restart', 'always', 'bbdiff:1', 'true'] },
  { name: 'inspect: always', args: ['inspect', '-f', POLICY, 'rp-always'] },
  { name: 'create --restart on-failure:5', args: ['create', '--name', 'rp-of5', '--restart', 'on-failure:5', 'bbdiff:1', 'true'] },
  { name: 'inspect: on-failure:5', args: ['inspect', '-f', POLICY, 'rp-of5'] },
  { name: 'create --restart unless-stopped', args: ['create', '--name', 'rp-us', '--restart', 'unless-stopped', 'bbdiff:1', 'true'] },
  { name: 'inspect: unless-stopped', args: ['inspect', '-f', POLICY, 'rp-us'] },
  { name: 'create --restart on-failure (no count)', args: ['create', '--name', 'rp-of', '--restart', 'on-failure', 'bbdiff:1', 'true'] },
  { name: 'inspect: on-failure', args: ['inspect', '-f', POLICY, 'rp-of'] },
  { name: 'create --restart no', args: ['create', '--name', 'rp-no', '--restart', 'no', 'bbdiff:1', 'true'] },
  { name: 'inspect: no', args: ['inspect', '-f', POLICY, 'rp-no'] },
  { name: 'run --restart sometimes', args: ['run', '--restart', 'sometimes', 'bbdiff:1', 'true'] },
  { name: 'run --restart on-failure:-1', args: ['run', '--restart', 'on-failure:-1', 'bbdiff:1', 'true'] },
  { name: 'run --restart on-failure:x', args: ['run', '--restart', 'on-failure:x', 'bbdiff:1', 'true'] },
  { name: 'run --restart always:3', args: ['run', '--restart', 'always:3', 'bbdiff:1', 'true'] },
  { name: 'run --restart :3', args: ['run', '--restart', ':3', 'bbdiff:1', 'true'] },
  { name: 'run --rm --restart always', args: ['run', '--rm', '--restart', 'always', 'bbdiff:1', 'true'] },
  {
    name: 'run --restart on-failure:2, attached, returns the first exit',
    args: ['run', '--name', 'rp-att', '--restart', 'on-failure:2', 'bbdiff:1', 'sh', '-c', 'exit 3'],
  },
  {
    name: 'create --health-cmd --health-interval --health-retries',
    args: ['create', '--name', 'hc-flags', '--health-cmd', 'true', '--health-interval', '2s', '--health-retries', '4', 'bbdiff:1', 'sleep', '9'],
  },
  { name: 'inspect: Config.Healthcheck from flags', args: ['inspect', '-f', '{{json .Config.Healthcheck}}', 'hc-flags'] },
  { name: 'inspect: no State.Health before it runs', args: ['inspect', '-f', '{{json .State.Health}}', 'hc-flags'] },
  { name: 'create --no-healthcheck', args: ['create', '--name', 'hc-none', '--no-healthcheck', 'bbdiff:1', 'true'] },
  { name: 'inspect: NONE', args: ['inspect', '-f', '{{json .Config.Healthcheck}}', 'hc-none'] },
  {
    name: 'create with every duration flag',
    args: ['create', '--name', 'hc-all', '--health-cmd', 'exit 0', '--health-timeout', '1m30s', '--health-start-period', '1.5s', 'bbdiff:1', 'true'],
  },
  { name: 'inspect: durations in nanoseconds', args: ['inspect', '-f', '{{json .Config.Healthcheck}}', 'hc-all'] },
  { name: 'run --health-interval -1s', args: ['run', '--health-interval', '-1s', 'bbdiff:1', 'true'] },
  { name: 'run --health-retries -1', args: ['run', '--health-retries', '-1', 'bbdiff:1', 'true'] },
  { name: 'run --no-healthcheck --health-cmd', args: ['run', '--no-healthcheck', '--health-cmd', 'true', 'bbdiff:1', 'true'] },
  { name: 'run --health-interval soon', args: ['run', '--health-interval', 'soon', 'bbdiff:1', 'true'] },
  { name: 'run --health-timeout 10us (under 1ms)', args: ['run', '--health-timeout', '10us', 'bbdiff:1', 'true'] },
  {
    name: 'ps -a --filter health=none lists the created ones',
    args: ['ps', '-a', '--filter', 'health=none', '--filter', 'name=rp-always', '--format', '{{.Names}}'],
  },
];

describe('CLI differential: restart policies and health checks', () => {
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, (a, input) => t.run(a, { input })));
});
