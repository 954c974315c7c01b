/**
 * src/cdi: container edits applied to an OCI spec (env, device nodes read from the host,
 * cgroup rules, mounts, hooks, groups, intelRdt) as the reference's Apply does, and
 * `--gpus` read as the docker CLI reads it and mapped onto nvidia.com/gpu devices.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { applyCdiInjection, completeDeviceNode, gpuRequestDevices, loadCdiRegistry, parseGpus, type CdiInjection } from '../../src/cdi/index.ts';

const EMPTY: CdiInjection = { devices: [], env: [], deviceNodes: [], mounts: [], hooks: [], additionalGids: [] };
type Dev = { path: string; type: string; major: number; minor: number; fileMode?: number; uid?: number; gid?: number };
type TestSpec = {
  process: { user: { uid: number; gid: number; additionalGids?: number[] }; env: string[] };
  mounts: Array<{ destination: string; type?: string; source?: string }>;
  linux: { devices: Dev[]; resources: { devices: unknown[] }; intelRdt?: unknown };
  hooks?: Record<string, unknown[]>;
};
const baseSpec = (): TestSpec => ({
  process: { user: { uid: 0, gid: 0 }, env: ['PATH=/bin', 'A=old'] },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/data/sub', type: 'bind', source: '/x' },
    { destination: '/data', type: 'bind', source: '/y' },
  ],
  linux: { devices: [{ path: '/dev/fakegpu0', type: 'c', major: 9, minor: 9 }], resources: { devices: [{ allow: false, access: 'rwm' }] } },
});

describe('container edits on the OCI spec', () => {
  it('env replaces a variable of the same name and appends the others', () => {
    const s = baseSpec();
    applyCdiInjection(s, { ...EMPTY, env: ['A=new', 'B=2'] });
    assert.deepEqual(s.process.env, ['PATH=/bin', 'A=new', 'B=2']);
  });
  it('a device node takes its type and numbers from the host node, replaces one at its path, and gets a cgroup rule', () => {
    const s = baseSpec();
    applyCdiInjection(s, {
      ...EMPTY,
      deviceNodes: [
        { path: '/dev/fakegpu0', hostPath: '/dev/null' },
        { path: '/dev/zero', permissions: 'r' },
        { path: '/dev/x', hostPath: '/dev/null', permissions: 'none' },
      ],
    });
    assert.deepEqual(
      s.linux.devices.map((d) => [d.path, d.type, d.major, d.minor, d.fileMode]),
      [
        ['/dev/fakegpu0', 'c', 1, 3, 0o666],
        ['/dev/zero', 'c', 1, 5, 0o666],
        ['/dev/x', 'c', 1, 3, 0o666],
      ],
    );
    assert.deepEqual(s.linux.resources.devices.slice(1), [
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 3, access: '' },
    ]);
  });
  it("a node's uid and gid default to the process user's when not root", () => {
    const s = baseSpec();
    s.process.user = { uid: 1000, gid: 100 };
    applyCdiInjection(s, {
      ...EMPTY,
      deviceNodes: [
        { path: '/dev/a', hostPath: '/dev/null' },
        { path: '/dev/b', hostPath: '/dev/null', uid: 5, gid: 6 },
      ],
    });
    assert.deepEqual(
      s.linux.devices.slice(1).map((d) => [d.uid, d.gid]),
      [
        [1000, 100],
        [5, 6],
      ],
    );
  });
  it('the host node must be a device unless the spec gives type and major; its type must match', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cdi-node-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'file'), 'x');
    assert.throws(() => completeDeviceNode({ path: '/dev/g', hostPath: join(dir, 'file') }), /cannot use host device .*not a device node/);
    assert.throws(() => completeDeviceNode({ path: '/dev/g', hostPath: join(dir, 'absent') }), /ENOENT/);
    assert.deepEqual(completeDeviceNode({ path: '/dev/g', hostPath: join(dir, 'absent'), type: 'c', major: 195, minor: 1 }), {
      path: '/dev/g',
      type: 'c',
      major: 195,
      minor: 1,
      uid: undefined,
      gid: undefined,
    });
    assert.throws(() => completeDeviceNode({ path: '/dev/g', hostPath: '/dev/null', type: 'b' }), /is of type c, the spec says b/);
    assert.equal(completeDeviceNode({ path: '/dev/g', hostPath: '/dev/null', type: 'u' }).type, 'c');
  });
  it('mounts replace one at the same destination and are ordered parents first, stably', () => {
    const s = baseSpec();
    applyCdiInjection(s, {
      ...EMPTY,
      mounts: [
        { destination: '/data', source: '/cdi-data', options: ['bind'] },
        { destination: '/usr/lib/x.so', source: '/host/x.so', options: ['ro', 'bind'] },
      ],
    });
    assert.deepEqual(
      s.mounts.map((m) => [m.destination, m.source]),
      [
        ['/proc', 'proc'],
        ['/data', '/cdi-data'],
        ['/data/sub', '/x'],
        ['/usr/lib/x.so', '/host/x.so'],
      ],
    );
  });
  it('hooks go under their names; gids (0 ignored, no duplicates) to the user; intelRdt to linux', () => {
    const s = baseSpec();
    applyCdiInjection(s, {
      ...EMPTY,
      hooks: [
        { hookName: 'createContainer', path: '/bin/hook', args: ['hook', 'a'], env: ['X=1'], timeout: 5 },
        { hookName: 'poststop', path: '/bin/after' },
        { hookName: 'createRuntime', path: '/bin/rt' },
        { hookName: 'startContainer', path: '/bin/st' },
        { hookName: 'poststart', path: '/bin/ps' },
      ],
      additionalGids: [0, 44, 44, 45],
      intelRdt: { closID: 'gpu', l3CacheSchema: 'L3:0=ff' },
    });
    assert.deepEqual(s.hooks?.createContainer, [{ path: '/bin/hook', args: ['hook', 'a'], env: ['X=1'], timeout: 5 }]);
    assert.deepEqual(Object.keys(s.hooks ?? {}).sort(), ['createContainer', 'createRuntime', 'poststart', 'poststop', 'startContainer']);
    assert.deepEqual(s.process.user.additionalGids, [44, 45]);
    assert.deepEqual(s.linux.intelRdt, { closID: 'gpu', l3CacheSchema: 'L3:0=ff' });
  });
});

describe('--gpus, as the docker CLI reads it', () => {
  const CASES: ReadonlyArray<[string, unknown]> = [
    ['all', { count: -1, capabilities: [['gpu']] }],
    ['2', { count: 2, capabilities: [['gpu']] }],
    ['count=3', { count: 3, capabilities: [['gpu']] }],
    ['"device=0,1"', { count: 0, deviceIds: ['0', '1'], capabilities: [['gpu']] }],
    ['device=GPU-abc', { count: 0, deviceIds: ['GPU-abc'], capabilities: [['gpu']] }],
    ['all,"capabilities=compute,utility"', { count: -1, capabilities: [['compute', 'utility', 'gpu']] }],
    ['driver=nvidia', { driver: 'nvidia', count: 1, capabilities: [['gpu']] }],
    ['"options=a=1,b"', { count: 1, capabilities: [['gpu']], options: { a: '1', b: '' } }],
  ];
  for (const [value, want] of CASES) it(`${value}`, () => assert.deepEqual(parseGpus(value), want));
  const BAD: ReadonlyArray<[string, RegExp]> = [
    ['two', /count must be an integer/],
    ['all,all', /can be specified only once/],
    ['colour=red', /unexpected key 'colour'/],
    ['"device=0', /not closed/],
    ['dev"ice=0', /bare "/],
  ];
  for (const [value, error] of BAD) it(`${value} is refused`, () => assert.throws(() => parseGpus(value), error));
});

describe('GPU requests as nvidia.com/gpu devices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cdi-gpus-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const gpu = (n: string) => ({ name: n, containerEdits: { env: [`G=${n}`] } });
  writeFileSync(
    join(dir, 'nvidia.json'),
    JSON.stringify({ cdiVersion: '0.5.0', kind: 'nvidia.com/gpu', devices: [gpu('10'), gpu('2'), gpu('0'), gpu('GPU-x'), gpu('all')] }),
  );
  const empty = mkdtempSync(join(tmpdir(), 'berth-cdi-nogpus-'));
  after(() => rmSync(empty, { recursive: true, force: true }));

  it('all, a count (numbered GPUs in number order), ids, capabilities', async () => {
    const r = await loadCdiRegistry([dir]);
    assert.deepEqual(gpuRequestDevices(r, parseGpus('all')).devices, ['nvidia.com/gpu=all']);
    assert.deepEqual(gpuRequestDevices(r, parseGpus('2')).devices, ['nvidia.com/gpu=0', 'nvidia.com/gpu=2']);
    assert.deepEqual(gpuRequestDevices(r, parseGpus('"device=10,GPU-x"')).devices, ['nvidia.com/gpu=10', 'nvidia.com/gpu=GPU-x']);
    assert.deepEqual(gpuRequestDevices(r, parseGpus('all,"capabilities=compute,utility"')).env, ['NVIDIA_DRIVER_CAPABILITIES=compute,utility']);
    assert.deepEqual(gpuRequestDevices(r, parseGpus('0')).devices, []);
    assert.throws(() => gpuRequestDevices(r, parseGpus('4')), /4 GPUs were asked for, but the CDI specs define 3/);
    assert.deepEqual(gpuRequestDevices(r, { driver: 'cdi', count: 0, deviceIds: ['x.com/y=z'], capabilities: [] }).devices, ['x.com/y=z']);
    assert.throws(() => gpuRequestDevices(r, { driver: 'amd', count: 1, capabilities: [['gpu']] }), /could not select device driver "amd"/);
    assert.throws(() => gpuRequestDevices(r, { count: 1, capabilities: [['tpu']] }), /could not select device driver "" with capabilities: \[\[tpu\]\]/);
  });
  it('no NVIDIA spec: an error that says how to generate one', async () => {
    const r = await loadCdiRegistry([empty]);
    assert.throws(
      () => gpuRequestDevices(r, parseGpus('all')),
      (e: Error & { hint?: string }) => /no GPU is available/.test(e.message) && /nvidia-ctk cdi generate --output=\/etc\/cdi\/nvidia\.yaml/.test(e.hint ?? ''),
    );
  });
});
