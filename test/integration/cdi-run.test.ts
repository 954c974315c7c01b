/**
 * CDI devices in `berth run`, with a fake GPU made as CDI's own tests make one (cdi-fixture.ts):
 * inside the container each edit is checked (the node's type and numbers, its cgroup
 * permissions, the env, the mount, the hook's marker), for one device, several, `=all` and
 * `--gpus`; then the errors: a device no spec defines, no NVIDIA spec, a broken or hostile
 * spec, a host path that is no device.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { busyboxRoot } from '../helpers/busybox.ts';
import { exampleGpuSpec, makeFakeCdi } from './cdi-fixture.ts';

describe('berth run with CDI devices', () => {
  const t = busyboxRoot('berth-cdi-run-');
  const fake = makeFakeCdi({ nvidia: true });
  after(() => fake.cleanup());
  const run = (args: readonly string[], env?: NodeJS.ProcessEnv) => t.run(['--cdi-spec-dir', fake.specDir, ...args], { env });
  /** What a script inside the container prints, the run required to succeed. */
  const inside = (devices: readonly string[], script: string) => {
    const r = run(['run', '--rm', ...devices, 'bb:1', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  it('--device example.com/gpu=0: the node (c 1:3 from /dev/null), env, the library mount and the hook marker', () => {
    const out = inside(
      ['--device', 'example.com/gpu=0'],
      'stat -c "%F %t:%T %a" /dev/fakegpu0; echo ok > /dev/fakegpu0 && echo writable; env | grep ^FAKEGPU_ | sort; cat /usr/lib/libfakecuda.so.1 /cdi-marker; ls /dev/fakegpu1 2>&1 || true',
    );
    assert.deepEqual(out.split('\n'), [
      'character special file 1:3 666',
      'writable',
      'FAKEGPU_DRIVER=fake',
      'FAKEGPU_VISIBLE_DEVICES=0',
      'fake cuda 1.0',
      'created by fakegpu',
      'ls: /dev/fakegpu1: No such file or directory',
      '',
    ]);
  });

  it('--device example.com/gpu=1: /dev/zero as the node; =ctl: allowed for reading only in the device cgroup', () => {
    const out = inside(['--device', 'example.com/gpu=1'], 'stat -c "%t:%T" /dev/fakegpu1; head -c 5 /dev/fakegpu1 | wc -c; echo $FAKEGPU_VISIBLE_DEVICES');
    assert.deepEqual(out.trim().split('\n'), ['1:5', '5', '1']);
    const ctl = inside(
      ['--device', 'example.com/gpu=ctl'],
      'stat -c "%t:%T" /dev/fakectl; (exec 3</dev/fakectl) && echo read-ok; (exec 3>/dev/fakectl) 2>&1 || echo write-refused',
    );
    assert.match(ctl, /^a:ed\nread-ok\n.*Operation not permitted\nwrite-refused\n$/s);
    const without = run(['run', '--rm', '--device', 'example.com/gpu=0', 'bb:1', 'ls', '/dev/fakectl']);
    assert.notEqual(without.code, 0);
  });

  it('--device twice, and =all, give both nodes; the spec-level edits come once', () => {
    for (const devices of [
      ['--device', 'example.com/gpu=0', '--device', 'example.com/gpu=1'],
      ['--device', 'example.com/gpu=all'],
    ]) {
      const out = inside(devices, 'ls /dev/fakegpu0 /dev/fakegpu1; env | grep -c ^FAKEGPU_DRIVER=');
      assert.deepEqual(out.trim().split('\n'), ['/dev/fakegpu0', '/dev/fakegpu1', '1'], devices.join(' '));
    }
    assert.equal(inside(['--device', 'example.com/gpu=all'], 'echo $FAKEGPU_VISIBLE_DEVICES').trim(), '0,1');
  });

  it('a plain host device still works beside CDI devices', () => {
    const out = inside(['--device', '/dev/zero:/dev/myzero:r', '--device', 'example.com/gpu=0'], 'stat -c "%t:%T" /dev/myzero /dev/fakegpu0');
    assert.deepEqual(out.trim().split('\n'), ['1:5', '1:3']);
  });

  it('--gpus all, a count and device ids select the nvidia.com/gpu devices', () => {
    const nodes = (gpus: string) => inside(['--gpus', gpus], 'ls /dev | grep ^nvidia; echo $NVIDIA_VISIBLE_DEVICES').trim().split('\n');
    assert.deepEqual(nodes('all'), ['nvidia0', 'nvidia1', 'nvidia2', 'void']);
    assert.deepEqual(nodes('"device=1"'), ['nvidia1', 'void']);
    assert.deepEqual(nodes('"device=0,2"'), ['nvidia0', 'nvidia2', 'void']);
    assert.deepEqual(nodes('2'), ['nvidia0', 'nvidia1', 'void']);
    assert.equal(inside(['--gpus', 'all,"capabilities=compute,utility"'], 'echo $NVIDIA_DRIVER_CAPABILITIES').trim(), 'compute,utility');
  });

  it('a detached container keeps its spec dirs: a later start without the flag finds the devices', () => {
    const c = run(['create', '--device', 'example.com/gpu=0', 'bb:1', 'sh', '-c', 'cat /cdi-marker; echo $FAKEGPU_VISIBLE_DEVICES']);
    assert.equal(c.code, 0, c.stderr);
    const g = run(['create', '--device', 'example.com/gpu=1', '--gpus', '"device=0,2"', 'bb:1', 'true']);
    assert.equal(g.code, 0, g.stderr);
    const hc = JSON.parse(t.run(['inspect', g.stdout.trim()]).stdout)[0].HostConfig;
    assert.deepEqual(hc.DeviceRequests, [
      { Driver: 'cdi', Count: 0, DeviceIDs: ['example.com/gpu=1'], Capabilities: null, Options: null },
      { Driver: '', Count: 0, DeviceIDs: ['0', '2'], Capabilities: [['gpu']], Options: {} },
    ]);
    t.run(['rm', '-f', g.stdout.trim()]);
    const s = t.run(['start', '-a', c.stdout.trim()]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, 'created by fakegpu\n0\n');
    t.run(['rm', '-f', c.stdout.trim()]);
  });

  it('BERTH_CDI_SPEC_DIRS names the spec dirs; `cdi list` and `info` show them', () => {
    const list = t.run(['cdi', 'list', '--format', '{{.Name}}'], { env: { BERTH_CDI_SPEC_DIRS: fake.specDir } });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n'), [
      'example.com/gpu=0',
      'example.com/gpu=1',
      'example.com/gpu=all',
      'example.com/gpu=ctl',
      'nvidia.com/gpu=0',
      'nvidia.com/gpu=1',
      'nvidia.com/gpu=2',
      'nvidia.com/gpu=all',
    ]);
    const info = run(['info']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, new RegExp(` CDI spec directories:\\n  ${fake.specDir}\\n CDI devices:\\n  example\\.com/gpu=0\\n`));
    assert.equal(run(['info', '--format', '{{json .CDISpecDirs}}']).stdout, `${JSON.stringify([fake.specDir])}\n`);
    const viaEnv = t.run(['run', '--rm', '--device', 'example.com/gpu=0', 'bb:1', 'cat', '/cdi-marker'], {
      env: { BERTH_CDI_SPEC_DIRS: `/nonexistent:${fake.specDir}` },
    });
    assert.equal(viaEnv.stdout, 'created by fakegpu\n', viaEnv.stderr);
  });

  it('specs of every version from 0.3.0 to 1.1.0 load; a version too old for its fields is named', () => {
    const dir = join(fake.hostDir, 'versions');
    mkdirSync(dir);
    const versions = ['0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0', '1.0.0', '1.1.0'];
    for (const v of versions) {
      writeFileSync(
        join(dir, `v${v}.json`),
        JSON.stringify({ cdiVersion: v, kind: `v${v.replace(/\./g, '')}.example.com/gpu`, devices: [{ name: 'dev', containerEdits: { env: [`V=${v}`] } }] }),
      );
    }
    writeFileSync(
      join(dir, 'too-old.yaml'),
      'cdiVersion: "0.4.0"\nkind: old.example.com/gpu\ndevices:\n  - name: "0"\n    containerEdits:\n      env: [A=1]\n',
    );
    const list = t.run(['--cdi-spec-dir', dir, 'cdi', 'list', '--format', '{{.Name}} {{.CDIVersion}}']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      list.stdout.trim().split('\n'),
      versions.map((v) => `v${v.replace(/\./g, '')}.example.com/gpu=dev ${v}`),
    );
    assert.match(list.stderr, /too-old\.yaml: the spec uses fields of version 0\.5\.0, but says cdiVersion "0\.4\.0"/);
    const r = t.run([
      '--cdi-spec-dir',
      dir,
      'run',
      '--rm',
      '--device',
      'v110.example.com/gpu=dev',
      '--device',
      'v030.example.com/gpu=dev',
      'bb:1',
      'sh',
      '-c',
      'echo $V',
    ]);
    assert.equal(r.stdout, '0.3.0\n', r.stderr);
  });

  it('a device no spec defines is refused at create, naming it; nothing is left behind', () => {
    const before = t.run(['ps', '-aq']).stdout;
    const r = run(['run', '--rm', '--device', 'example.com/gpu=7', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /unresolvable CDI devices example\.com\/gpu=7/);
    assert.match(r.stderr, /define example\.com\/gpu=0/);
    assert.equal(t.run(['ps', '-aq']).stdout, before);
  });

  it('--gpus without an NVIDIA spec says how to make one', () => {
    const r = t.run(['--cdi-spec-dir', join(fake.hostDir, 'none'), 'run', '--rm', '--gpus', 'all', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /no GPU is available/);
    assert.match(r.stderr, /nvidia-ctk cdi generate --output=\/etc\/cdi\/nvidia\.yaml/);
    const many = run(['run', '--rm', '--gpus', '5', 'bb:1', 'true']);
    assert.equal(many.code, 125);
    assert.match(many.stderr, /5 GPUs were asked for, but the CDI specs define 3/);
  });

  it('hostile and malformed names are refused before anything runs', () => {
    for (const [device, error] of [
      ['example.com/gpu=../../x', /invalid CDI device name/],
      ['exa mple.com/gpu=0', /invalid CDI device name/],
      ['example.com/gpu=', /invalid device specification|paths must be absolute/],
      [`example.com/gpu=${'a'.repeat(300)}!`, /invalid CDI device name/],
    ] as const) {
      const r = run(['run', '--rm', '--device', device, 'bb:1', 'true']);
      assert.equal(r.code, 125, device);
      assert.match(r.stderr, error, device);
      assert.ok(r.stderr.length < 1000, 'a long name is cut in the message');
    }
    for (const gpus of ['lots', 'all,all', 'colour=red']) assert.equal(run(['run', '--rm', '--gpus', gpus, 'bb:1', 'true']).code, 125, gpus);
  });

  it('a broken spec, a spec with an unknown field and a host path that is no device: clear errors naming the file', () => {
    const dir = join(fake.hostDir, 'bad-specs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'unknown.yaml'), exampleGpuSpec(fake.hostDir).replace('kind: example.com/gpu', 'kind: unknown.com/gpu\nvendor: me'));
    writeFileSync(join(dir, 'broken.yaml'), 'cdiVersion: "0.5.0"\nkind: broken.com/gpu\ndevices: [\n');
    writeFileSync(
      join(dir, 'notdev.yaml'),
      'cdiVersion: "0.5.0"\nkind: notdev.com/gpu\ndevices:\n  - name: "0"\n    containerEdits:\n      deviceNodes:\n        - path: /dev/g\n          hostPath: /etc/hostname\n',
    );
    const bad = (args: readonly string[]) => t.run(['--cdi-spec-dir', dir, ...args]);
    const list = bad(['cdi', 'list', '-q']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, 'notdev.com/gpu=0\n');
    assert.match(list.stderr, /WARNING: CDI spec .*unknown\.yaml: unknown field "vendor"/);
    assert.match(list.stderr, /WARNING: CDI spec .*broken\.yaml: invalid YAML/);
    const r = bad(['run', '--rm', '--device', 'unknown.com/gpu=0', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /unresolvable CDI devices unknown\.com\/gpu=0[\s\S]*unknown\.yaml: unknown field "vendor"/);
    const n = bad(['run', '--rm', '--device', 'notdev.com/gpu=0', 'bb:1', 'true']);
    assert.equal(n.code, 125);
    assert.match(n.stderr, /CDI device node "\/dev\/g": cannot use host device "\/etc\/hostname": not a device node/);
  });
});
