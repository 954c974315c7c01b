/**
 * `update` (new limits for a running container through runc, kept for inspect and the next
 * start) and `port` (docker's lines for a container's published ports).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-update-');
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.run(['rm', '-f', 'upd', 'upd-stopped', 'ports']);
  t.cleanup();
});

/** A v1 controller's file of the container's cgroup (this machine's cgroups are hybrid: v1 controllers). */
function cgroup(id: string, controller: string, file: string): string | undefined {
  const path = `/sys/fs/cgroup/${controller}/berth/${id}/${file}`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

function hostConfig(name: string): Record<string, unknown> {
  return JSON.parse(t.run(['inspect', '--format', '{{json .HostConfig}}', name]).stdout) as Record<string, unknown>;
}

describe('update', () => {
  let id = '';
  before(() => {
    const r = t.run(['run', '-d', '--name', 'upd', '--network', 'none', '--memory', '32m', 'bb:1', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
  });

  it('changes the limits of a running container at once, and inspect shows them', () => {
    const r = t.run([
      'update',
      '--memory',
      '64m',
      '--memory-swap',
      '128m',
      '--cpus',
      '0.5',
      '--cpu-shares',
      '512',
      '--cpuset-cpus',
      '0',
      '--pids-limit',
      '50',
      'upd',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'upd\n');
    const hc = hostConfig('upd');
    assert.equal(hc.Memory, 64 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 128 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 500_000_000);
    assert.equal(hc.CpuShares, 512);
    assert.equal(hc.CpusetCpus, '0');
    assert.equal(hc.PidsLimit, 50);
    const memory = cgroup(id, 'memory', 'memory.limit_in_bytes');
    if (memory !== undefined) assert.equal(memory, String(64 * 1024 * 1024));
    const quota = cgroup(id, 'cpu,cpuacct', 'cpu.cfs_quota_us') ?? cgroup(id, 'cpu', 'cpu.cfs_quota_us');
    if (quota !== undefined) assert.equal(quota, '50000');
    const pids = cgroup(id, 'pids', 'pids.max');
    if (pids !== undefined) assert.equal(pids, '50');
    assert.ok(memory !== undefined || existsSync('/sys/fs/cgroup/cgroup.controllers'), 'the container has a memory cgroup');
  });

  it('keeps the limits across a restart (the next spec has them)', () => {
    assert.equal(t.run(['restart', '-t', '0', 'upd']).code, 0);
    const memory = cgroup(id, 'memory', 'memory.limit_in_bytes');
    if (memory !== undefined) assert.equal(memory, String(64 * 1024 * 1024));
    assert.equal(hostConfig('upd').PidsLimit, 50);
  });

  it('records the limits of a container that is not running, for its next start', () => {
    assert.equal(t.run(['create', '--name', 'upd-stopped', '--network', 'none', 'bb:1', 'true']).code, 0);
    const r = t.run(['container', 'update', '--pids-limit', '20', 'upd-stopped']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(hostConfig('upd-stopped').PidsLimit, 20);
  });

  it('--restart sets a new policy, alone or with limits; a bad one changes nothing', () => {
    const policy = () => JSON.stringify(hostConfig('upd-stopped').RestartPolicy);
    let r = t.run(['update', '--restart', 'on-failure:2', 'upd-stopped']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(policy(), JSON.stringify({ Name: 'on-failure', MaximumRetryCount: 2 }));
    r = t.run(['update', '--restart', 'always', '--pids-limit', '25', 'upd-stopped']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(policy(), JSON.stringify({ Name: 'always', MaximumRetryCount: 0 }));
    assert.equal(hostConfig('upd-stopped').PidsLimit, 25);
    r = t.run(['update', '--restart', 'sometimes', 'upd-stopped']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid restart policy|sometimes/i);
    assert.equal(policy(), JSON.stringify({ Name: 'always', MaximumRetryCount: 0 }));
  });

  const refusals: Array<[string[], RegExp, number]> = [
    [['update', 'upd'], /you must provide one or more flags/, 1],
    [['update', '--memory', '1m', 'upd'], /Minimum memory limit allowed is 6MB/, 1],
    [['update', '--memory', 'lots', 'upd'], /^invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'$/m, 125],
    [['update', '--cpus', 'two', 'upd'], /invalid argument "two" for "--cpus" flag/, 125],
    [['update', '--cpus', '9999', 'upd'], /Range of CPUs is from 0\.01/, 1],
    [['update', '--cpuset-cpus', '0-127', 'upd'], /Requested CPUs are not available/, 1],
    [['update', '--cpuset-cpus', '0;rm -rf /', 'upd'], /Invalid value 0;rm -rf \/ for cpuset cpus/, 1],
    [['update', '--memory-swap', '16m', 'upd'], /Minimum memoryswap limit should be larger than memory limit/, 1],
    [['update', '--memory', '1g', 'nosuch'], /No such container: nosuch/, 1],
    [['update', '--blkio-weight', '300', 'upd'], /--blkio-weight: not supported by berth yet/, 125],
    [['update', '--bogus', 'upd'], /unknown flag: --bogus/, 125],
  ];
  for (const [args, message, code] of refusals) {
    it(`berth ${args.join(' ')}: ${code}, and the limits stay`, () => {
      const r = t.run(args);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(hostConfig('upd').Memory, 64 * 1024 * 1024);
    });
  }
});

describe('port', () => {
  before(() => {
    const r = t.run(['run', '-d', '--name', 'ports', '-p', '127.0.0.1:18431:80', '-p', '18432:53/udp', 'bb:1', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
  });

  const cases: Array<[string[], number, string | RegExp]> = [
    [['port', 'ports'], 0, '53/udp -> 0.0.0.0:18432\n80/tcp -> 127.0.0.1:18431\n'],
    [['port', 'ports', '80'], 0, '127.0.0.1:18431\n'],
    [['port', 'ports', '80/tcp'], 0, '127.0.0.1:18431\n'],
    [['container', 'port', 'ports', '53/udp'], 0, '0.0.0.0:18432\n'],
    [['port', 'ports', '81'], 1, /No public port '81' published for ports/],
    [['port', 'ports', '80/sctp'], 1, /No public port '80\/sctp' published for ports/],
    [['port', 'ports', '80/xyz'], 1, /Invalid port: 80\/xyz/],
    [['port', 'ports', '99999'], 1, /Invalid port: 99999/],
    [['port', 'nosuch'], 1, /No such container: nosuch/],
    [['port', 'upd-stopped'], 0, ''],
    [['port'], 1, /'berth port' requires at least 1 and at most 2 arguments/],
  ];
  for (const [args, code, want] of cases) {
    it(`berth ${args.join(' ')}`, () => {
      const r = t.run(args);
      assert.equal(r.code, code, r.stderr);
      if (typeof want === 'string') assert.equal(r.stdout, want);
      else assert.match(r.stderr, want);
    });
  }
});
