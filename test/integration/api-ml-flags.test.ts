/**
 * The ML run flags through `berth serve`, sent by the real docker CLI 28 as HostConfig fields
 * (IpcMode, PidMode, ShmSize, Ulimits, Sysctls, CpusetCpus, CpuShares, CpuPeriod, CpuQuota,
 * MemoryReservation, Runtime): read back inside the container and in inspect, and refused
 * with docker's words where docker refuses them.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RUNC } from '../../src/runtime/runc.ts';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';

let s: ServeHandle;
const dir = mkdtempSync(join(tmpdir(), 'berth-api-ml-'));
before(async () => {
  s = await startServe({ busybox: true });
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

function ok(args: string[]): string {
  const r = s.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}

describe('the ML run flags through the Engine API', () => {
  it('ulimits, a sysctl, the cpuset, CPU shares, the reservation and /dev/shm reach the container', () => {
    const out = ok([
      'run',
      '--rm',
      '--network',
      'none',
      '--ulimit',
      'stack=67108864',
      '--ulimit',
      'core=-1',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      '--cpuset-cpus',
      '0',
      '--cpu-shares',
      '512',
      '--memory-reservation',
      '100m',
      '--shm-size',
      '32m',
      'bb:1',
      'sh',
      '-c',
      'grep -E "Max (stack|core)" /proc/self/limits; cat /proc/sys/net/ipv4/ip_forward; grep Cpus_allowed_list /proc/self/status; cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/memory/memory.soft_limit_in_bytes; df -k /dev/shm | tail -1',
    ]);
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /Max stack size\s+67108864\s+67108864/);
    assert.match(lines[1]!, /Max core file size\s+unlimited\s+unlimited/);
    assert.deepEqual(lines.slice(2, 6), ['1', 'Cpus_allowed_list:\t0', '512', String(100 * 1024 * 1024)]);
    assert.equal(lines[6]!.split(/\s+/)[1], String(32 * 1024));
  });
  it("--ipc host and --pid host are the host's namespaces", () => {
    const out = ok([
      'run',
      '--rm',
      '--network',
      'none',
      '--ipc',
      'host',
      '--pid',
      'host',
      'bb:1',
      'sh',
      '-c',
      'readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid',
    ]);
    assert.deepEqual(out.trim().split('\n'), [readlinkSync('/proc/self/ns/ipc'), readlinkSync('/proc/self/ns/pid')]);
  });
  it('--ipc container: joins a shareable donor', () => {
    ok(['run', '-d', '--name', 'api-donor', '--network', 'none', '--ipc', 'shareable', 'bb:1', 'sleep', '60']);
    try {
      const donor = ok(['exec', 'api-donor', 'sh', '-c', 'readlink /proc/self/ns/ipc']).trim();
      assert.equal(ok(['run', '--rm', '--network', 'none', '--ipc', 'container:api-donor', 'bb:1', 'sh', '-c', 'readlink /proc/self/ns/ipc']).trim(), donor);
    } finally {
      s.docker(['rm', '-f', 'api-donor']);
    }
  });
  it('inspect shows the HostConfig fields, a wrapper runtime included, which starts the container', () => {
    const log = join(dir, 'calls.log');
    const wrapper = join(dir, 'logging-runc');
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> ${log}\nexec ${RUNC} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const id = ok([
      'create',
      '--network',
      'none',
      '--ipc',
      'shareable',
      '--pid',
      'host',
      '--cpu-period',
      '50000',
      '--cpu-quota',
      '25000',
      '--cpuset-mems',
      '0',
      '--sysctl',
      'kernel.shmmax=1000000',
      '--ulimit',
      'nofile=100:200',
      '--runtime',
      wrapper,
      'bb:1',
      'cat',
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us',
    ]).trim();
    try {
      const hc = JSON.parse(ok(['inspect', '--format', '{{json .HostConfig}}', id])) as Record<string, unknown>;
      assert.deepEqual(
        [hc.IpcMode, hc.PidMode, hc.CpuPeriod, hc.CpuQuota, hc.CpusetMems, hc.Sysctls, hc.Ulimits, hc.Runtime],
        ['shareable', 'host', 50000, 25000, '0', { 'kernel.shmmax': '1000000' }, [{ Name: 'nofile', Hard: 200, Soft: 100 }], wrapper],
      );
      assert.equal(ok(['start', '-a', id]).trim(), '25000');
      assert.match(readFileSync(log, 'utf8'), / run /);
    } finally {
      s.docker(['rm', '-f', id]);
    }
  });
  const refusals: Array<[string, string[], RegExp]> = [
    ['an IPC donor that does not exist', ['--ipc', 'container:missing'], /No such container: missing/],
    ['an unknown IPC mode', ['--ipc', 'bogus'], /Invalid IPC mode: bogus/],
    ['a net.* sysctl in the host network namespace', ['--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1'], /not allowed in host network namespace/],
    ['a CPU the host does not have', ['--cpuset-cpus', '4096'], /Requested CPUs are not available/],
    ['a runtime that does not exist', ['--runtime', '/nonexistent/runc'], /Unknown runtime specified \/nonexistent\/runc/],
    ['a relative runtime path', ['--runtime', 'bin/runc'], /must be absolute/],
  ];
  for (const [name, flags, message] of refusals) {
    it(`refuses ${name}`, () => {
      const network = flags.includes('--network') ? [] : ['--network', 'none'];
      const r = s.docker(['run', '--rm', ...network, ...flags, 'bb:1', 'true']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, message);
    });
  }
});
