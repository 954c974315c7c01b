/**
 * The run flags an ML job leans on (issue 21), each read back inside a real container:
 * /dev/shm's size with `--shm-size auto`, rlimits from /proc/self/limits, the IPC and PID
 * namespaces' inodes against the host's and a donor's, sysctls, cpusets, CPU shares and a
 * wrapper runtime; then the values docker refuses, refused with its words.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RUNC } from '../../src/runtime/runc.ts';
import { busyboxRoot } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-ml-flags-');
const RUN = ['run', '--rm', '--network', 'none'];

function ok(args: string[]): string {
  const r = t.run(args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}

/** The size column of `df -k /dev/shm` inside a container run with `flags`. */
function shmKiB(flags: string[]): number {
  const out = ok([...RUN, ...flags, 'bb:1', 'sh', '-c', 'df -k /dev/shm | tail -1']);
  return Number(out.trim().split(/\s+/)[1]);
}

/** The soft and hard columns of one /proc/self/limits row inside a container. */
function limitRow(flags: string[], row: string): [string, string] {
  const out = ok([...RUN, ...flags, 'bb:1', 'grep', row, '/proc/self/limits']);
  const cols = out.slice(26).trim().split(/\s+/);
  return [cols[0]!, cols[1]!];
}

/** Whether this host lets a process raise its memlock hard limit to unlimited. */
function canRaiseMemlock(): boolean {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  const hardMemlock = /^Max locked memory\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  return ((BigInt(`0x${capEff}`) >> 24n) & 1n) === 1n || hardMemlock === 'unlimited';
}

describe('--shm-size auto', () => {
  it('without --memory, /dev/shm is half the host memory', () => {
    const half = Math.floor(totalmem() / 2);
    assert.equal(shmKiB(['--shm-size', 'auto']), (half - (half % 4096)) / 1024);
  });
  it('with --memory 256m, /dev/shm is 128 MiB', () => assert.equal(shmKiB(['--shm-size', 'auto', '--memory', '256m']), 128 * 1024));
  it('a size in bytes still works, and 0 is docker default of 64 MiB', () => {
    assert.equal(shmKiB(['--shm-size', '32m']), 32 * 1024);
    assert.equal(shmKiB(['--shm-size', '0']), 64 * 1024);
  });
  it('inspect shows the size auto resolved to', () => {
    const id = ok(['create', '--shm-size', 'auto', '-m', '100m', 'bb:1', 'true']).trim();
    assert.equal(ok(['inspect', '--format', '{{.HostConfig.ShmSize}}', id]).trim(), String(50 * 1024 * 1024));
    ok(['rm', id]);
  });
});

describe('--ulimit', () => {
  it('stack=67108864 reads back as 64 MiB, soft and hard', () =>
    assert.deepEqual(limitRow(['--ulimit', 'stack=67108864'], 'Max stack size'), ['67108864', '67108864']));
  it('-1 is unlimited (RLIM_INFINITY, written as a uint64)', () => {
    assert.deepEqual(limitRow(['--ulimit', 'stack=-1'], 'Max stack size'), ['unlimited', 'unlimited']);
    assert.deepEqual(limitRow(['--ulimit', 'core=0:-1'], 'Max core file size'), ['0', 'unlimited']);
  });
  it('soft:hard, for a name docker knows and runc had no name for before (rttime)', () => {
    assert.deepEqual(limitRow(['--ulimit', 'nofile=1024:2048'], 'Max open files'), ['1024', '2048']);
    assert.deepEqual(limitRow(['--ulimit', 'rttime=5:10'], 'Max realtime timeout'), ['5', '10']);
  });
  it('memlock=-1 reads back unlimited, or, where the host cannot raise it, is refused naming the limit', () => {
    const args = [...RUN, '--ulimit', 'memlock=-1', 'bb:1', 'grep', 'Max locked memory', '/proc/self/limits'];
    const r = t.run(args);
    if (canRaiseMemlock()) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /unlimited\s+unlimited/);
    } else {
      assert.equal(r.code, 125);
      assert.match(r.stderr, /ulimit memlock=-1 \(unlimited\) is above this host's hard limit of \d+/);
      assert.doesNotMatch(r.stderr, /json|unmarshal/i);
    }
  });
});

describe('--ipc', () => {
  const hostIpc = readlinkSync('/proc/self/ns/ipc');
  it('private (the default) is a namespace of its own', () => assert.notEqual(ok([...RUN, 'bb:1', 'sh', '-c', 'readlink /proc/self/ns/ipc']).trim(), hostIpc));
  it("host is the host's namespace, with the host's /dev/shm", () => {
    assert.equal(ok([...RUN, '--ipc', 'host', 'bb:1', 'sh', '-c', 'readlink /proc/self/ns/ipc']).trim(), hostIpc);
    assert.notEqual(shmKiB(['--ipc', 'host']), 64 * 1024);
  });
  it('none has no /dev/shm', () => {
    const r = t.run([...RUN, '--ipc', 'none', 'bb:1', 'ls', '/dev/shm']);
    assert.notEqual(r.code, 0);
  });
  it('container:NAME joins a shareable donor, whose mode inspect shows', () => {
    ok(['run', '-d', '--name', 'ipc-donor', '--ipc', 'shareable', '--network', 'none', 'bb:1', 'sleep', '60']);
    try {
      const donor = ok(['exec', 'ipc-donor', 'sh', '-c', 'readlink /proc/self/ns/ipc']).trim();
      assert.equal(ok([...RUN, '--ipc', 'container:ipc-donor', 'bb:1', 'sh', '-c', 'readlink /proc/self/ns/ipc']).trim(), donor);
      assert.equal(ok(['inspect', '--format', '{{.HostConfig.IpcMode}}', 'ipc-donor']).trim(), 'shareable');
    } finally {
      t.run(['rm', '-f', 'ipc-donor']);
    }
  });
  it("container:NAME shares the donor's /dev/shm, of the donor's size, which goes when the donor stops", () => {
    ok([
      'run',
      '-d',
      '--name',
      'shm-donor',
      '--ipc',
      'shareable',
      '--shm-size',
      '16m',
      '--network',
      'none',
      'bb:1',
      'sh',
      '-c',
      'echo from-donor > /dev/shm/marker; sleep 60',
    ]);
    // The donor's only: a test file running beside this one has shm mounts of its own.
    const donorId = t.run(['inspect', '-f', '{{.Id}}', 'shm-donor']).stdout.trim();
    const sharedMounts = () =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.includes(`/containers/${donorId}/shm `) && l.includes(' - tmpfs '));
    try {
      let out = '';
      for (let i = 0; i < 50 && !out.startsWith('from-donor'); i++)
        out = ok([...RUN, '--ipc', 'container:shm-donor', 'bb:1', 'sh', '-c', 'cat /dev/shm/marker 2>/dev/null; df -k /dev/shm | tail -1']);
      assert.match(out, /^from-donor\n/);
      assert.equal(out.split('\n')[1]!.split(/\s+/)[1], String(16 * 1024));
      assert.equal(sharedMounts().length, 1);
      ok(['stop', '-t', '0', 'shm-donor']);
      assert.equal(sharedMounts().length, 0);
    } finally {
      t.run(['rm', '-f', 'shm-donor']);
    }
  });
  it('a donor that is not shareable, or not running, is refused with docker words', () => {
    ok(['run', '-d', '--name', 'ipc-private', '--network', 'none', 'bb:1', 'sleep', '60']);
    ok(['create', '--name', 'ipc-stopped', '--ipc', 'shareable', 'bb:1', 'true']);
    try {
      let r = t.run([...RUN, '--ipc', 'container:ipc-private', 'bb:1', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /can't join IPC of container [0-9a-f]{64}: non-shareable IPC/);
      r = t.run([...RUN, '--ipc', 'container:ipc-stopped', 'bb:1', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /can't join IPC of container [0-9a-f]{64}: container [0-9a-f]{64} is not running/);
    } finally {
      t.run(['rm', '-f', 'ipc-private', 'ipc-stopped']);
    }
  });
});

describe('--pid', () => {
  it("host is the host's PID namespace", () => {
    assert.equal(ok([...RUN, '--pid', 'host', 'bb:1', 'sh', '-c', 'readlink /proc/self/ns/pid']).trim(), readlinkSync('/proc/self/ns/pid'));
  });
  it("container:NAME sees the donor's processes, in the donor's namespace", () => {
    ok(['run', '-d', '--name', 'pid-donor', '--network', 'none', 'bb:1', 'sleep', '61']);
    try {
      const donor = ok(['exec', 'pid-donor', 'sh', '-c', 'readlink /proc/self/ns/pid']).trim();
      const out = ok([...RUN, '--pid', 'container:pid-donor', 'bb:1', 'sh', '-c', 'readlink /proc/self/ns/pid; ps']);
      assert.equal(out.split('\n')[0], donor);
      assert.match(out, /sleep 61/);
    } finally {
      t.run(['rm', '-f', 'pid-donor']);
    }
  });
  it('a target that is not running is refused', () => {
    ok(['create', '--name', 'pid-stopped', 'bb:1', 'true']);
    try {
      const r = t.run([...RUN, '--pid', 'container:pid-stopped', 'bb:1', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /container [0-9a-f]{64} is not running/);
    } finally {
      t.run(['rm', '-f', 'pid-stopped']);
    }
  });
});

describe('--sysctl', () => {
  it('net.ipv4.ip_forward=1 in a network namespace of its own', () => {
    assert.equal(ok([...RUN, '--sysctl', 'net.ipv4.ip_forward=1', 'bb:1', 'cat', '/proc/sys/net/ipv4/ip_forward']).trim(), '1');
  });
  it('an IPC one (kernel.shmmax), and inspect shows them', () => {
    assert.equal(ok([...RUN, '--sysctl', 'kernel.shmmax=1000000', 'bb:1', 'cat', '/proc/sys/kernel/shmmax']).trim(), '1000000');
    const id = ok(['create', '--network', 'none', '--sysctl', 'kernel.shmmax=1000000', 'bb:1', 'true']).trim();
    assert.deepEqual(JSON.parse(ok(['inspect', '--format', '{{json .HostConfig.Sysctls}}', id])), { 'kernel.shmmax': '1000000' });
    ok(['rm', id]);
  });
  it("a net.* one with --network host is refused with runc's words, before anything is created", () => {
    const before = ok(['ps', '-aq']);
    const r = t.run(['run', '--rm', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /sysctl "net.ipv4.ip_forward" not allowed in host network namespace/);
    assert.equal(ok(['ps', '-aq']), before);
  });
  it('an IPC one with --ipc host is refused', () => {
    const r = t.run([...RUN, '--ipc', 'host', '--sysctl', 'kernel.shmmax=1000000', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace/);
  });
});

describe('cgroup limits', () => {
  it('--cpuset-cpus 0 is the only CPU allowed', () => {
    assert.match(ok([...RUN, '--cpuset-cpus', '0', 'bb:1', 'grep', 'Cpus_allowed_list', '/proc/self/status']), /Cpus_allowed_list:\s+0\n/);
  });
  it('--cpuset-mems 0', () =>
    assert.match(ok([...RUN, '--cpuset-mems', '0', 'bb:1', 'grep', 'Mems_allowed_list', '/proc/self/status']), /Mems_allowed_list:\s+0\n/));
  it('--cpu-shares 512 is the cgroup weight', () => {
    const out = ok([...RUN, '--cpu-shares', '512', 'bb:1', 'sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.weight']);
    // cgroup v1 takes shares as they are; v2 turns 512 into the weight 20.
    assert.match(out.trim(), /^(512|20)$/);
  });
  it('--cpu-period and --cpu-quota, --memory-reservation, and inspect shows them all', () => {
    const id = ok([
      'create',
      '--network',
      'none',
      '--cpu-period',
      '50000',
      '--cpu-quota',
      '25000',
      '--cpu-shares',
      '512',
      '--cpuset-cpus',
      '0',
      '--memory-reservation',
      '100m',
      '--ipc',
      'shareable',
      '--pid',
      'host',
      '--ulimit',
      'memlock=1024:2048',
      'bb:1',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/memory/memory.soft_limit_in_bytes',
    ]).trim();
    try {
      const hc = JSON.parse(ok(['inspect', '--format', '{{json .HostConfig}}', id])) as Record<string, unknown>;
      assert.deepEqual(
        [hc.CpuPeriod, hc.CpuQuota, hc.CpuShares, hc.CpusetCpus, hc.MemoryReservation, hc.IpcMode, hc.PidMode, hc.Runtime],
        [50000, 25000, 512, '0', 100 * 1024 * 1024, 'shareable', 'host', 'runc'],
      );
      assert.deepEqual(hc.Ulimits, [{ Name: 'memlock', Hard: 2048, Soft: 1024 }]);
      const out = ok(['start', '-a', id]);
      assert.deepEqual(out.trim().split('\n'), ['50000', '25000', String(100 * 1024 * 1024)]);
    } finally {
      t.run(['rm', '-f', id]);
    }
  });
});

describe('--runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-runtime-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'calls.log');
  const wrapper = join(dir, 'logging-runc');
  writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> ${log}\nexec ${RUNC} "$@"\n`);
  chmodSync(wrapper, 0o755);

  it('an absolute path: the wrapper starts the container, and inspect names it', () => {
    assert.equal(ok([...RUN, '--runtime', wrapper, 'bb:1', 'echo', 'through the wrapper']), 'through the wrapper\n');
    assert.match(readFileSync(log, 'utf8'), / run .*--bundle /);
    const id = ok(['create', '--runtime', wrapper, 'bb:1', 'true']).trim();
    assert.equal(ok(['inspect', '--format', '{{.HostConfig.Runtime}}', id]).trim(), wrapper);
    ok(['rm', id]);
  });
  it('a name on PATH, detached', () => {
    rmSync(log, { force: true });
    const r = t.run(['run', '-d', '--network', 'none', '--runtime', 'logging-runc', 'bb:1', 'true'], { env: { PATH: `${dir}:${process.env.PATH}` } });
    assert.equal(r.code, 0, r.stderr);
    ok(['wait', r.stdout.trim()]);
    assert.match(readFileSync(log, 'utf8'), / run --detach| run /);
    ok(['rm', r.stdout.trim()]);
  });
  it('exec, pause, kill and rm of its container go through the same runtime', () => {
    const id = ok(['run', '-d', '--network', 'none', '--runtime', wrapper, 'bb:1', 'sleep', '300']).trim();
    rmSync(log, { force: true });
    assert.equal(ok(['exec', id, 'echo', 'inside']), 'inside\n');
    ok(['pause', id]);
    ok(['unpause', id]);
    ok(['kill', id]);
    ok(['rm', '-f', id]);
    const calls = readFileSync(log, 'utf8');
    for (const verb of ['exec', 'pause', 'resume', 'kill']) assert.match(calls, new RegExp(`(^| )${verb} `, 'm'), `${verb} in:\n${calls}`);
  });
});

describe('hostile input is refused before a container exists', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown ulimit name', ['--ulimit', 'as=1'], /invalid argument "as=1" for "--ulimit" flag: invalid ulimit type: as/],
    ['a ulimit without a value', ['--ulimit', 'nofile'], /invalid ulimit argument: nofile/],
    ['a ulimit that is not a number', ['--ulimit', 'nofile=abc'], /strconv.ParseInt: parsing "abc": invalid syntax/],
    ['a ulimit out of int64', ['--ulimit', 'nofile=99999999999999999999'], /value out of range/],
    ['a ulimit with three values', ['--ulimit', 'nofile=1:2:3'], /too many limit value arguments/],
    ['a ulimit soft above hard', ['--ulimit', 'nofile=10:5'], /soft limit must be less than or equal to hard limit: 10 > 5/],
    ['a ulimit name with a prototype key', ['--ulimit', '__proto__=1'], /invalid ulimit type: __proto__/],
    ['a sysctl outside the allowed set', ['--sysctl', 'vm.swappiness=1'], /sysctl 'vm.swappiness=1' is not allowed/],
    ['a sysctl of the host name', ['--sysctl', 'kernel.hostname=x'], /is not allowed/],
    ['a sysctl without a value', ['--sysctl', 'kernel.shmmax'], /is not allowed/],
    ['an unknown IPC mode', ['--ipc', 'bogus'], /Invalid IPC mode: bogus/],
    ['an IPC donor that does not exist', ['--ipc', 'container:missing'], /No such container: missing/],
    ['an unknown PID mode', ['--pid', 'bogus'], /invalid PID mode/],
    ['a PID target that does not exist', ['--pid', 'container:missing'], /No such container: missing/],
    ['a runtime given by a relative path', ['--runtime', './runc'], /Unknown runtime specified \.\/runc: a runtime's path must be absolute/],
    ['a runtime path that escapes upwards', ['--runtime', '../../usr/sbin/runc'], /must be absolute/],
    ['a runtime that does not exist', ['--runtime', '/nonexistent/runc'], /Unknown runtime specified \/nonexistent\/runc/],
    ['a runtime name not on PATH', ['--runtime', 'no-such-runtime'], /Unknown runtime specified no-such-runtime/],
    ['a runtime that is a directory', ['--runtime', '/usr/sbin'], /Unknown runtime specified \/usr\/sbin/],
    ['a CPU the host does not have', ['--cpuset-cpus', '4096'], /Requested CPUs are not available - requested 4096, available: /],
    ['a cpuset that is not a list', ['--cpuset-cpus', 'abc'], /Invalid value abc for cpuset cpus: invalid format: abc/],
    ['a memory node the host does not have', ['--cpuset-mems', '63'], /Requested memory nodes are not available/],
    ['CPU shares that are not a number', ['--cpu-shares', 'abc'], /strconv.ParseInt: parsing "abc": invalid syntax/],
    ['CPU shares below 2', ['--cpu-shares', '1'], /minimum allowed cpu-shares is 2/],
    ['a CFS period below 1ms', ['--cpu-period', '500'], /CPU cfs period can not be less than 1ms/],
    ['a CFS quota below 1ms', ['--cpu-quota', '500'], /CPU cfs quota can not be less than 1ms/],
    ['--cpus with --cpu-quota', ['--cpus', '1', '--cpu-quota', '5000'], /Nano CPUs and CPU Quota cannot both be set/],
    ['a reservation above the limit', ['--memory', '50m', '--memory-reservation', '100m'], /can not be less than memory reservation limit/],
    ['--shm-size that is neither a size nor auto', ['--shm-size', 'huge'], /invalid argument "huge" for "--shm-size" flag/],
  ];
  for (const [name, flags, message] of cases) {
    it(name, () => {
      const before = ok(['ps', '-aq']);
      const r = t.run(['run', '--rm', '--network', 'none', ...flags, 'bb:1', 'true']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(ok(['ps', '-aq']), before);
    });
  }
  it('--kernel-memory is accepted and ignored, with a warning', () => {
    const r = t.run([...RUN, '--kernel-memory', '100m', 'bb:1', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARNING: .*kernel memory limit/);
  });
});
