/** The host options' spec parts as tables: ulimits (and their uint64 JSON), namespaces, /dev/shm, sysctls, cgroup limits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoShmSize, cgroupResources, parseCpuset } from '../../src/runtime/host-resources.ts';
import { containerNamespaces, parseSysctl, withIpcShm } from '../../src/runtime/namespaces.ts';
import { buildSpec, type RuntimeOptions } from '../../src/runtime/spec.ts';
import { defaultMounts } from '../../src/runtime/defaults.ts';
import { parseUlimit, RLIM_INFINITY, specJson, specRlimits } from '../../src/runtime/ulimits.ts';

describe('parseUlimit', () => {
  const good: Array<[string, string, bigint, bigint]> = [
    ['memlock=-1', 'memlock', -1n, -1n],
    ['stack=67108864', 'stack', 67108864n, 67108864n],
    ['nofile=1024:2048', 'nofile', 1024n, 2048n],
    ['core=0:-1', 'core', 0n, -1n],
    ['rttime=+5', 'rttime', 5n, 5n],
  ];
  for (const [spec, name, soft, hard] of good) it(spec, () => assert.deepEqual(parseUlimit(spec), { name, soft, hard }));
  const bad: Array<[string, RegExp]> = [
    ['as=1', /invalid ulimit type: as/],
    ['constructor=1', /invalid ulimit type: constructor/],
    ['nofile', /invalid ulimit argument: nofile/],
    ['nofile=1=2', /invalid ulimit argument/],
    ['nofile=', /parsing "": invalid syntax/],
    ['nofile=0x10', /parsing "0x10": invalid syntax/],
    ['nofile=9223372036854775808', /value out of range/],
    ['nofile=1:2:3', /too many limit value arguments - 1:2:3/],
    ['nofile=-1:5', /soft limit must be less than or equal to hard limit: -1 > 5/],
  ];
  for (const [spec, message] of bad) it(`refuses ${spec}`, () => assert.throws(() => parseUlimit(spec), message));
});

describe('rlimits in the spec are uint64s', () => {
  it('-1 is RLIM_INFINITY, 2^64-1, written exactly', () => {
    const rl = specRlimits(['memlock=-1', 'nofile=10:20'], { RLIMIT_MEMLOCK: RLIM_INFINITY });
    assert.deepEqual(rl[0], { type: 'RLIMIT_MEMLOCK', soft: RLIM_INFINITY, hard: RLIM_INFINITY });
    const json = specJson({ process: { rlimits: rl } });
    assert.equal(
      json,
      '{"process":{"rlimits":[{"type":"RLIMIT_MEMLOCK","soft":18446744073709551615,"hard":18446744073709551615},{"type":"RLIMIT_NOFILE","soft":10,"hard":20}]}}',
    );
  });
  it('a hard limit above the ceiling is refused, naming it', () => {
    assert.throws(() => specRlimits(['memlock=-1'], { RLIMIT_MEMLOCK: 8388608 }), /ulimit memlock=-1 \(unlimited\) is above this host's hard limit of 8388608/);
    assert.throws(() => specRlimits(['nofile=10:30000'], { RLIMIT_NOFILE: 20000 }), /nofile=30000 is above this host's hard limit of 20000/);
  });
  it('specJson writes what JSON.stringify writes for everything else', () => {
    const v = { a: 'x"\n\u0000', b: [1, null, undefined, true], c: undefined, d: { e: 1.5, f: [] }, g: -0, h: Number.NaN };
    assert.equal(specJson(v), JSON.stringify(v));
  });
});

describe('namespaces and /dev/shm', () => {
  const shm = (o: RuntimeOptions) => withIpcShm(defaultMounts(1 << 20), o).find((m) => m.destination === '/dev/shm');
  const types = (o: RuntimeOptions) => containerNamespaces(o, { kind: 'new' }).map((n) => (n.path ? `${n.type}=${n.path}` : n.type));
  it('private and shareable: their own IPC namespace, a sized tmpfs', () => {
    assert.deepEqual(types({}), ['pid', 'ipc', 'uts', 'mount', 'network']);
    assert.deepEqual(types({ ipcMode: 'shareable' }), ['pid', 'ipc', 'uts', 'mount', 'network']);
    assert.ok(shm({})?.options?.includes(`size=${1 << 20}`));
  });
  it("host: no IPC namespace, the host's /dev/shm bound", () => {
    assert.deepEqual(types({ ipcMode: 'host' }), ['pid', 'uts', 'mount', 'network']);
    assert.deepEqual(shm({ ipcMode: 'host' }), { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  });
  it('none: no /dev/shm', () => assert.equal(shm({ ipcMode: 'none' }), undefined));
  it('--pid host, and joined namespaces by path', () => {
    assert.deepEqual(types({ pidMode: 'host' }), ['ipc', 'uts', 'mount', 'network']);
    assert.deepEqual(types({ ipcMode: 'container:a', pidMode: 'container:b', joinNamespaces: { ipc: '/proc/7/ns/ipc', pid: '/proc/8/ns/pid' } }), [
      'pid=/proc/8/ns/pid',
      'ipc=/proc/7/ns/ipc',
      'uts',
      'mount',
      'network',
    ]);
  });
});

describe('sysctls', () => {
  for (const ok of ['net.ipv4.ip_forward=1', 'kernel.shmmax=1', 'kernel.sem=250 32000 32 128', 'fs.mqueue.msg_max=20', 'kernel.msgmnb=1']) {
    it(ok, () => assert.deepEqual(parseSysctl(ok), [ok.slice(0, ok.indexOf('=')), ok.slice(ok.indexOf('=') + 1)]));
  }
  for (const bad of ['vm.swappiness=1', 'kernel.hostname=x', 'kernel.shmmax', 'fs.file-max=1', 'kernel.msg=1', '=1']) {
    it(`refuses ${bad}`, () => assert.throws(() => parseSysctl(bad), /is not allowed/));
  }
  const base = {
    id: 'x',
    rootfs: '/r',
    args: ['true'],
    env: [],
    user: { uid: 0, gid: 0, additionalGids: [], home: '/' },
    workdir: '/',
    hostname: 'h',
    tty: false,
    mounts: [],
  };
  it('go into linux.sysctl with a network namespace of its own', () => {
    const spec = buildSpec({ ...base, netns: { kind: 'new' }, options: { sysctls: { 'net.ipv4.ip_forward': '1' } } }) as { linux: { sysctl?: unknown } };
    assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
  });
  it("a net.* one in the host's network namespace is refused", () => {
    assert.throws(
      () => buildSpec({ ...base, netns: { kind: 'host' }, options: { sysctls: { 'net.ipv4.ip_forward': '1' } } }),
      /not allowed in host network namespace/,
    );
  });
});

describe('cgroup limits', () => {
  it('shares, period, quota, cpusets and the reservation', () => {
    assert.deepEqual(cgroupResources({ cpuShares: 512, cpuPeriod: 50000, cpuQuota: 25000, cpusetCpus: '0', cpusetMems: '0', memoryReservation: 100 }), {
      memory: { reservation: 100 },
      cpu: { quota: 25000, period: 50000, shares: 512, cpus: '0', mems: '0' },
    });
  });
  it('--cpus and --memory as before', () => {
    assert.deepEqual(cgroupResources({ cpus: 1.5, memory: 1000, pidsLimit: 5 }), {
      memory: { limit: 1000, swap: 2000 },
      cpu: { quota: 150000, period: 100000 },
      pids: { limit: 5 },
    });
  });
  it('cpuset lists', () => {
    assert.deepEqual(parseCpuset('0-2,5,1'), [0, 1, 2, 5]);
    for (const bad of ['', 'a', '1-', '3-1', '0,,1', '-1']) assert.equal(parseCpuset(bad), undefined, bad);
  });
  it('--shm-size auto: half the limit, in whole pages', () => {
    assert.equal(autoShmSize(256 * 1024 * 1024), 128 * 1024 * 1024);
    assert.equal(autoShmSize(10_000_001) % 4096, 0);
    assert.ok(autoShmSize(undefined) > 0);
  });
});
