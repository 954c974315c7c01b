/**
 * CDI devices in builds: `RUN --device` (BuildKit's labs syntax) and `build --device`, each
 * allowed only when the command line grants the `device` entitlement (`--allow device`), or
 * when the device's spec carries BuildKit's autoallow annotation. Inside the step every edit
 * of the fake GPU (cdi-fixture.ts) is checked; without the grant the build is refused.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { busyboxRoot } from '../helpers/busybox.ts';
import { makeFakeCdi } from './cdi-fixture.ts';

const PROBE = `sh -c 'stat -c "%F %t:%T" /dev/fakegpu0 > /probe; echo "$FAKEGPU_VISIBLE_DEVICES $FAKEGPU_DRIVER" >> /probe; cat /usr/lib/libfakecuda.so.1 /cdi-marker >> /probe'`;

describe('berth build with CDI devices', () => {
  const t = busyboxRoot('berth-cdi-build-');
  const fake = makeFakeCdi();
  const ctx = mkdtempSync(join(tmpdir(), 'berth-cdi-ctx-'));
  after(() => {
    fake.cleanup();
    rmSync(ctx, { recursive: true, force: true });
  });
  const build = (dockerfile: string, args: readonly string[], specDir = fake.specDir) => {
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
    return t.run(['--cdi-spec-dir', specDir, 'build', '--progress', 'plain', '--no-cache', ...args, ctx]);
  };
  const probeOf = (image: string) => {
    const r = t.run(['run', '--rm', image, 'cat', '/probe']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const EXPECTED = 'character special file 1:3\n0 fake\nfake cuda 1.0\ncreated by fakegpu\n';

  it('RUN --device with --allow device: the node, env, mount and hook marker are there in the step', () => {
    const r = build(`# syntax=docker/dockerfile:1-labs\nFROM bb:1\nRUN --device=example.com/gpu=0 ${PROBE}\n`, ['--allow', 'device', '-t', 'cdi-b:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(probeOf('cdi-b:1'), EXPECTED);
    // The step's mount point is not left in the layer, and the device is not in the image.
    const img = t.run(['run', '--rm', 'cdi-b:1', 'sh', '-c', 'ls /usr/lib/libfakecuda.so.1 /dev/fakegpu0 2>&1; true']);
    assert.match(img.stdout, /libfakecuda\.so\.1: No such file or directory[\s\S]*fakegpu0: No such file or directory/);
  });

  it('RUN --device without the grant is refused, naming the entitlement; so is a grant of another device', () => {
    const df = `# syntax=docker/dockerfile:1-labs\nFROM bb:1\nRUN --device=example.com/gpu=0 true\n`;
    for (const args of [[], ['--allow', 'device=example.com/gpu=1']]) {
      const r = build(df, args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, /RUN --device=example\.com\/gpu=0 needs the device entitlement/);
      assert.match(r.stderr, /--allow device/);
    }
    const one = build(df, ['--allow', 'device=example.com/gpu=0']);
    assert.equal(one.code, 0, one.stderr);
  });

  it('build --device gives the device to every RUN, only with --allow device', () => {
    const df = `FROM bb:1\nRUN ${PROBE}\nRUN cat /dev/fakegpu0 && echo second-step-has-it\n`;
    const refused = build(df, ['--device', 'example.com/gpu=0']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /build --device example\.com\/gpu=0 needs the device entitlement/);
    const r = build(df, ['--device', 'example.com/gpu=0', '--allow', 'device', '-t', 'cdi-b:2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /second-step-has-it/);
    assert.equal(probeOf('cdi-b:2'), EXPECTED);
  });

  it('build --device is part of the RUN cache key: a step cached without the device runs again with it', () => {
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nRUN (ls /dev/fakegpu0 2>/dev/null || echo none) > /seen\n');
    const cached = (extra: readonly string[], tag: string) => {
      const r = t.run(['--cdi-spec-dir', fake.specDir, 'build', '--progress', 'plain', ...extra, '-t', tag, ctx]);
      assert.equal(r.code, 0, r.stderr);
      return t.run(['run', '--rm', tag, 'cat', '/seen']).stdout;
    };
    assert.equal(cached([], 'cdi-c:1'), 'none\n');
    assert.equal(cached(['--device', 'example.com/gpu=0', '--allow', 'device'], 'cdi-c:2'), '/dev/fakegpu0\n');
    assert.equal(cached([], 'cdi-c:3'), 'none\n');
  });

  it("a device whose spec has BuildKit's autoallow annotation needs no grant", () => {
    const dir = join(fake.hostDir, 'autoallow');
    const spec = {
      cdiVersion: '0.6.0',
      kind: 'auto.example.com/dev',
      annotations: { 'org.mobyproject.buildkit.device.autoallow': 'true' },
      devices: [{ name: 'x', containerEdits: { env: ['AUTO=yes'] } }],
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'auto.json'), JSON.stringify(spec));
    const r = build('FROM bb:1\nRUN --device=auto.example.com/dev=x sh -c \'echo "AUTO=$AUTO"\'\n', [], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /AUTO=yes/);
  });

  it('a missing device: required fails the step, otherwise a warning and the step runs without it', () => {
    const req = build('FROM bb:1\nRUN --device=example.com/gpu=9,required true\n', ['--allow', 'device']);
    assert.notEqual(req.code, 0);
    assert.match(req.stderr, /unresolvable CDI devices example\.com\/gpu=9/);
    const opt = build('FROM bb:1\nRUN --device=example.com/gpu=9 echo ran-anyway\n', ['--allow', 'device']);
    assert.equal(opt.code, 0, opt.stderr);
    assert.match(opt.stderr, /example\.com\/gpu=9 is not defined by any spec/);
    assert.match(opt.stderr, /ran-anyway/);
  });

  it('bad flags are refused: a host path, an unknown option, an unknown entitlement', () => {
    const path = build('FROM bb:1\nRUN --device=/dev/null true\n', ['--allow', 'device']);
    assert.notEqual(path.code, 0);
    assert.match(path.stderr, /a build step takes CDI devices only/);
    const opt = build('FROM bb:1\nRUN --device=example.com/gpu=0,colour=red true\n', ['--allow', 'device']);
    assert.notEqual(opt.code, 0);
    assert.match(opt.stderr, /unexpected key 'colour'/);
    const ent = build('FROM bb:1\nRUN true\n', ['--allow', 'root.everything']);
    assert.equal(ent.code, 1);
    assert.match(ent.stderr, /invalid entitlement "root\.everything"/);
  });
});
