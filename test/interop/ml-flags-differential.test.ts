/**
 * Differential (issue 21): the ML run flags docker supports the same way, through the docker
 * CLI against a private dockerd and through berth, on the same busybox image: the exit code
 * and what the container reads back must be equal. Every run is --network none (the private
 * dockerd has no bridge) unless the case is about the host's namespaces.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase } from '../helpers/cli-diff.ts';
import { docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const t = tempRoot('berth-diff-ml-');
const DONORS = [
  ['--name', 'mldonor', '--ipc', 'shareable'],
  ['--name', 'mlprivate'],
];
before(async () => {
  await startDockerd();
  assert.equal(docker(['import', busyboxTar(), 'bbdiff:1']).code, 0);
  assert.equal(t.run(['import', busyboxTar(), 'bbdiff:1']).code, 0);
  for (const d of DONORS) {
    const args = ['run', '-d', '--network', 'none', ...d, 'bbdiff:1', 'sh', '-c', 'echo from-donor > /dev/shm/marker; exec sleep 300'];
    assert.equal(docker(args).code, 0);
    assert.equal(t.run(args).code, 0);
  }
});
after(() => {
  for (const [, name] of DONORS) t.run(['rm', '-f', name!]);
  stopDockerd();
  t.cleanup();
});

const RUN = ['run', '--rm', '--network', 'none'];
const HOST_IPC = readlinkSync('/proc/self/ns/ipc');
const sh = (script: string) => ['bbdiff:1', 'sh', '-c', script];
const limit = (row: string) => sh(`grep "${row}" /proc/self/limits`);
/** Whether this container shares PID 1's namespace of `kind` (PID 1 is the donor's when its PID namespace is joined). */
const sharesWithPid1 = (kind: string) => sh(`[ "$(readlink /proc/self/ns/${kind})" = "$(readlink /proc/1/ns/${kind})" ] && echo same || echo different`);

const cases: DiffCase[] = [
  // --ulimit
  { name: 'ulimit stack=67108864', args: [...RUN, '--ulimit', 'stack=67108864', ...limit('Max stack size')] },
  { name: 'ulimit nofile=1024:2048', args: [...RUN, '--ulimit', 'nofile=1024:2048', ...limit('Max open files')] },
  { name: 'ulimit core=-1 is unlimited', args: [...RUN, '--ulimit', 'core=-1', ...limit('Max core file size')] },
  { name: 'ulimit rttime soft:hard', args: [...RUN, '--ulimit', 'rttime=5:10', ...limit('Max realtime timeout')] },
  { name: 'ulimit with an unknown name', args: [...RUN, '--ulimit', 'as=1', 'bbdiff:1', 'true'] },
  { name: 'ulimit that is not a number', args: [...RUN, '--ulimit', 'nofile=abc', 'bbdiff:1', 'true'] },
  { name: 'ulimit soft above hard', args: [...RUN, '--ulimit', 'nofile=10:5', 'bbdiff:1', 'true'] },
  // --shm-size
  { name: 'shm-size 128m', args: [...RUN, '--shm-size', '128m', ...sh('df -k /dev/shm | tail -1 | awk "{print \\$2}"')] },
  { name: 'shm-size that is not a size', args: [...RUN, '--shm-size', 'huge', 'bbdiff:1', 'true'] },
  // --ipc
  { name: "ipc host is the host's namespace", args: [...RUN, '--ipc', 'host', ...sh('readlink /proc/self/ns/ipc')] },
  { name: "ipc host has the host's /dev/shm", args: [...RUN, '--ipc', 'host', ...sh('df -k /dev/shm | tail -1 | awk "{print \\$2}"')] },
  { name: 'ipc none has no /dev/shm', args: [...RUN, '--ipc', 'none', ...sh('ls /dev/shm 2>/dev/null; echo $?')] },
  { name: 'ipc private is its own', args: [...RUN, '--ipc', 'private', ...sh(`[ "$(readlink /proc/self/ns/ipc)" = "${HOST_IPC}" ] && echo host || echo own`)] },
  { name: 'ipc container: joins a shareable donor', args: [...RUN, '--ipc', 'container:mldonor', '--pid', 'container:mldonor', ...sharesWithPid1('ipc')] },
  { name: "ipc container: shares the donor's /dev/shm", args: [...RUN, '--ipc', 'container:mldonor', ...sh('cat /dev/shm/marker')] },
  { name: 'ipc container: of a private donor is refused', args: [...RUN, '--ipc', 'container:mlprivate', 'bbdiff:1', 'true'] },
  { name: 'ipc container: of a missing one is refused', args: [...RUN, '--ipc', 'container:missing', 'bbdiff:1', 'true'] },
  { name: 'ipc with an unknown mode', args: [...RUN, '--ipc', 'bogus', 'bbdiff:1', 'true'] },
  // --pid
  { name: "pid host is the host's namespace", args: [...RUN, '--pid', 'host', ...sh('readlink /proc/self/ns/pid')] },
  { name: "pid container: sees the donor's sleep as PID 1", args: [...RUN, '--pid', 'container:mlprivate', ...sh('cat /proc/1/cmdline | tr "\\0" " "; echo')] },
  { name: 'pid container: shares the namespace', args: [...RUN, '--pid', 'container:mlprivate', ...sharesWithPid1('pid')] },
  { name: 'pid container: of a missing one is refused', args: [...RUN, '--pid', 'container:missing', 'bbdiff:1', 'true'] },
  { name: 'pid with an unknown mode', args: [...RUN, '--pid', 'bogus', 'bbdiff:1', 'true'] },
  // --sysctl
  { name: 'sysctl net.ipv4.ip_forward=1', args: [...RUN, '--sysctl', 'net.ipv4.ip_forward=1', ...sh('cat /proc/sys/net/ipv4/ip_forward')] },
  { name: 'sysctl kernel.shmmax', args: [...RUN, '--sysctl', 'kernel.shmmax=1000000', ...sh('cat /proc/sys/kernel/shmmax')] },
  { name: 'sysctl fs.mqueue.msg_max', args: [...RUN, '--sysctl', 'fs.mqueue.msg_max=20', ...sh('cat /proc/sys/fs/mqueue/msg_max')] },
  { name: 'sysctl net.* with --network host is refused', args: ['run', '--rm', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', 'bbdiff:1', 'true'] },
  { name: 'sysctl kernel.* with --ipc host is refused', args: [...RUN, '--ipc', 'host', '--sysctl', 'kernel.shmmax=1000000', 'bbdiff:1', 'true'] },
  { name: 'sysctl outside the allowed set is refused', args: [...RUN, '--sysctl', 'vm.swappiness=1', 'bbdiff:1', 'true'] },
  // --cpuset-cpus, --cpuset-mems
  { name: 'cpuset-cpus 0', args: [...RUN, '--cpuset-cpus', '0', ...sh('grep Cpus_allowed_list /proc/self/status')] },
  { name: 'cpuset-cpus 1,0', args: [...RUN, '--cpuset-cpus', '1,0', ...sh('grep Cpus_allowed_list /proc/self/status')] },
  { name: 'cpuset-mems 0', args: [...RUN, '--cpuset-mems', '0', ...sh('grep Mems_allowed_list /proc/self/status')] },
  { name: 'cpuset-cpus the host does not have', args: [...RUN, '--cpuset-cpus', '4096', 'bbdiff:1', 'true'] },
  { name: 'cpuset-cpus that is not a list', args: [...RUN, '--cpuset-cpus', 'abc', 'bbdiff:1', 'true'] },
  // --cpu-shares, --cpu-period, --cpu-quota, --memory-reservation
  { name: 'cpu-shares 512', args: [...RUN, '--cpu-shares', '512', ...sh('cat /sys/fs/cgroup/cpu/cpu.shares')] },
  { name: 'cpu-shares 0 is the default', args: [...RUN, '--cpu-shares', '0', ...sh('cat /sys/fs/cgroup/cpu/cpu.shares')] },
  { name: 'cpu-shares that is not a number', args: [...RUN, '--cpu-shares', 'abc', 'bbdiff:1', 'true'] },
  {
    name: 'cpu-period and cpu-quota',
    args: [...RUN, '--cpu-period', '50000', '--cpu-quota', '25000', ...sh('cat /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.cfs_quota_us')],
  },
  { name: 'cpu-period below 1ms', args: [...RUN, '--cpu-period', '500', 'bbdiff:1', 'true'] },
  { name: 'memory-reservation', args: [...RUN, '--memory-reservation', '100m', ...sh('cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes')] },
  { name: 'memory-reservation above the limit', args: [...RUN, '--memory', '50m', '--memory-reservation', '100m', 'bbdiff:1', 'true'] },
];

describe('ML run flags: berth matches docker', () => {
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, (args, input) => t.run(args, { input })));
});
