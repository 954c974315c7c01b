/**
 * Differential: the same busybox image in berth and in a real Docker engine; for each case
 * the stdout and exit code must be equal. Both run with --network none so no case depends
 * on the network setup of either engine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const t = tempRoot('berth-diff-run-');
before(async () => {
  await startDockerd();
  assert.equal(docker(['import', busyboxTar(), 'bbdiff:1']).code, 0);
  assert.equal(docker(['volume', 'create', 'diffvol']).code, 0);
  assert.equal(t.run(['import', busyboxTar(), 'bbdiff:1']).code, 0);
});
after(() => {
  stopDockerd(); // its data root goes with it, the volume too
  t.cleanup();
});

const HOST = ['--hostname', 'box'];
/** A Docker-format profile that allows everything but mkdir. */
const DENY_MKDIR = join(mkdtempSync(join(tmpdir(), 'berth-seccomp-')), 'deny-mkdir.json');
writeFileSync(DENY_MKDIR, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
const cases: Array<[string, string[]]> = [
  ['echo', ['bbdiff:1', 'echo', 'hello', 'world']],
  ['exit code', ['bbdiff:1', 'sh', '-c', 'exit 42']],
  ['missing command', ['bbdiff:1', 'definitely-not-here']],
  ['not executable', ['bbdiff:1', '/etc/group']],
  ['env default', [...HOST, 'bbdiff:1', 'env']],
  ['env -e', [...HOST, '-e', 'MODEL=bert', '-e', 'EMPTY=', 'bbdiff:1', 'env']],
  ['env override PATH', [...HOST, '-e', 'PATH=/bin', 'bbdiff:1', 'env']],
  ['user numeric', ['--user', '1000:1000', 'bbdiff:1', 'id']],
  ['user name', ['--user', 'user', 'bbdiff:1', 'id']],
  ['user unknown uid', ['--user', '4242', 'bbdiff:1', 'id']],
  ['user with group name', ['--user', '1000:staff', 'bbdiff:1', 'id']],
  ['HOME for user', ['--user', 'user', 'bbdiff:1', 'sh', '-c', 'echo $HOME']],
  ['HOME for unknown uid', ['--user', '4242', 'bbdiff:1', 'sh', '-c', 'echo $HOME']],
  ['workdir', ['-w', '/tmp', 'bbdiff:1', 'pwd']],
  ['workdir created', ['-w', '/new/dir', 'bbdiff:1', 'sh', '-c', 'pwd; ls -ld /new/dir | cut -c1-10']],
  ['entrypoint', ['--entrypoint', 'echo', 'bbdiff:1', 'a', 'b']],
  ['entrypoint only', ['--entrypoint', 'pwd', 'bbdiff:1']],
  ['hostname', [...HOST, 'bbdiff:1', 'hostname']],
  ['pid 1', ['bbdiff:1', 'sh', '-c', 'echo $$']],
  ['caps root', ['bbdiff:1', 'grep', 'Cap', '/proc/self/status']],
  ['caps user', ['--user', '1000', 'bbdiff:1', 'grep', 'Cap', '/proc/self/status']],
  ['cap-drop', ['--cap-drop', 'NET_RAW', 'bbdiff:1', 'grep', 'CapBnd', '/proc/self/status']],
  ['cap-add', ['--cap-add', 'SYS_ADMIN', 'bbdiff:1', 'grep', 'CapEff', '/proc/self/status']],
  ['read-only', ['--read-only', 'bbdiff:1', 'sh', '-c', 'touch /x 2>/dev/null; echo $?']],
  ['tmpfs', ['--read-only', '--tmpfs', '/scratch', 'bbdiff:1', 'sh', '-c', 'touch /scratch/x && echo ok']],
  ['volume write+read', ['-v', 'diffvol:/data', 'bbdiff:1', 'sh', '-c', 'echo v > /data/f; cat /data/f']],
  ['volume ro', ['-v', 'diffvol:/data:ro', 'bbdiff:1', 'sh', '-c', 'touch /data/g 2>/dev/null; echo $?']],
  ['shm size', ['--shm-size', '32m', 'bbdiff:1', 'sh', '-c', 'df -k /dev/shm | tail -1 | awk "{print \\$2}"']],
  ['masked paths', ['bbdiff:1', 'sh', '-c', 'cat /proc/kcore 2>&1 | head -c 10 | wc -c; ls /sys/firmware | wc -l']],
  ['ro proc sys', ['bbdiff:1', 'sh', '-c', 'echo 1 > /proc/sys/kernel/domainname 2>/dev/null; echo $?']],
  ['signal exit', ['bbdiff:1', 'sh', '-c', 'sleep 5 & kill -TERM $!; wait $!; echo $?']],
  // Seccomp: the default profile refuses a user namespace from inside; without it, or with
  // CAP_SYS_ADMIN, the kernel allows one. A custom profile can deny what the default allows.
  ['seccomp default', ['bbdiff:1', 'sh', '-c', 'busybox unshare -U true 2>&1; echo $?']],
  ['seccomp unconfined', ['--security-opt', 'seccomp=unconfined', 'bbdiff:1', 'sh', '-c', 'busybox unshare -U true; echo $?']],
  ['seccomp with SYS_ADMIN', ['--cap-add', 'SYS_ADMIN', 'bbdiff:1', 'sh', '-c', 'busybox unshare -U true; echo $?']],
  ['seccomp custom profile', ['--security-opt', `seccomp=${DENY_MKDIR}`, 'bbdiff:1', 'sh', '-c', 'mkdir /x 2>&1; echo $?; echo alive']],
];

describe('run: berth matches docker', () => {
  for (const [name, args] of cases) {
    it(name, () => {
      const want = docker(['run', '--rm', '--network', 'none', ...args]);
      const got = t.run(['run', '--rm', '--network', 'none', ...args]);
      assert.equal(got.code, want.code, `exit: berth ${got.code} vs docker ${want.code}\nberth stderr: ${got.stderr}\ndocker stderr: ${want.stderr}`);
      // dockerd passes -e variables in map order (it varies run to run): compare env as a set.
      const norm = (out: string) => (name.startsWith('env') ? out.split('\n').sort().join('\n') : out);
      assert.equal(norm(got.stdout), norm(want.stdout));
    });
  }
  it(`has at least 25 cases (${cases.length})`, () => assert.ok(cases.length >= 25));
});
