/**
 * src/cdi: spec documents checked as the reference implementation checks them (versions
 * 0.3.0 to 1.1.0 with the fields each allows, unknown fields, bad names), qualified names,
 * and spec files loaded from directories (YAML and JSON, broken files, duplicates, size).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadCdiRegistry, MAX_SPEC_FILE_BYTES, parseQualifiedName, requiredVersion, resolveCdiDevices, validateSpec } from '../../src/cdi/index.ts';
import { looksQualified } from '../../src/cdi/names.ts';

const dev = (name = 'gpu0', edits: Record<string, unknown> = { env: ['A=1'] }) => ({ name, containerEdits: edits });
const spec = (version: string, extra: Record<string, unknown> = {}, devices: unknown[] = [dev()]) => ({
  cdiVersion: version,
  kind: 'example.com/gpu',
  devices,
  ...extra,
});

describe('spec versions: each field needs the version that added it', () => {
  const CASES: ReadonlyArray<{ what: string; doc: (v: string) => unknown; needs: string }> = [
    {
      what: 'env and device nodes with a path only',
      doc: (v) => spec(v, {}, [dev('gpu', { env: ['A=1'], deviceNodes: [{ path: '/dev/null' }] })]),
      needs: '0.3.0',
    },
    { what: 'a mount type', doc: (v) => spec(v, { containerEdits: { mounts: [{ hostPath: '/a', containerPath: '/b', type: 'bind' }] } }), needs: '0.4.0' },
    { what: 'a device node hostPath', doc: (v) => spec(v, {}, [dev('gpu', { deviceNodes: [{ path: '/dev/x', hostPath: '/dev/null' }] })]), needs: '0.5.0' },
    { what: 'a device name starting with a digit', doc: (v) => spec(v, {}, [dev('0')]), needs: '0.5.0' },
    { what: 'spec annotations', doc: (v) => spec(v, { annotations: { a: 'b' } }), needs: '0.6.0' },
    { what: 'device annotations', doc: (v) => spec(v, {}, [{ ...dev(), annotations: { a: 'b' } }]), needs: '0.6.0' },
    { what: 'a dot in the class', doc: (v) => ({ ...spec(v), kind: 'example.com/gpu.v2' }), needs: '0.6.0' },
    { what: 'intelRdt', doc: (v) => spec(v, { containerEdits: { intelRdt: { closID: 'c1' } } }), needs: '0.7.0' },
    { what: 'additionalGids', doc: (v) => spec(v, {}, [dev('gpu', { additionalGids: [44] })]), needs: '0.7.0' },
    { what: 'intelRdt schemata', doc: (v) => spec(v, { containerEdits: { intelRdt: { schemata: ['L3:0=f'] } } }), needs: '1.1.0' },
    { what: 'intelRdt enableMonitoring', doc: (v) => spec(v, { containerEdits: { intelRdt: { enableMonitoring: true } } }), needs: '1.1.0' },
    { what: 'netDevices', doc: (v) => spec(v, {}, [dev('gpu', { netDevices: [{ hostInterfaceName: 'eth1', name: 'net0' }] })]), needs: '1.1.0' },
  ];
  const VERSIONS = ['0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0', '1.0.0', '1.1.0'];
  for (const c of CASES) {
    it(`${c.what}: from ${c.needs}`, () => {
      for (const v of VERSIONS) {
        if (VERSIONS.indexOf(v) >= VERSIONS.indexOf(c.needs)) {
          assert.equal(validateSpec(c.doc(v)).cdiVersion, v, `${c.what} at ${v}`);
          assert.equal(requiredVersion(validateSpec(c.doc(v))), c.needs);
        } else assert.throws(() => validateSpec(c.doc(v)), new RegExp(`must be at least v${c.needs.replace(/\./g, '\\.')}`), `${c.what} at ${v}`);
      }
    });
  }
  it('a leading v is accepted; unknown and pre-0.3.0 versions are refused', () => {
    assert.equal(validateSpec(spec('v0.6.0')).cdiVersion, '0.6.0');
    assert.throws(() => validateSpec(spec('0.9.0')), /invalid version "0\.9\.0"/);
    assert.throws(() => validateSpec(spec('2.0.0')), /invalid version/);
    assert.throws(() => validateSpec(spec('0.2.0')), /must be at least v0\.3\.0/);
    assert.throws(() => validateSpec(spec('latest')), /invalid version/);
  });
});

describe('spec documents: unknown fields and bad values are named', () => {
  const BAD: ReadonlyArray<[string, unknown, RegExp]> = [
    ['an unknown top-level field', { ...spec('0.6.0'), extra: 1 }, /unknown field "extra"/],
    ['an unknown edit field', spec('0.6.0', { containerEdits: { envs: ['A=1'] } }), /unknown field "containerEdits\.envs"/],
    [
      'an unknown device node field',
      spec('0.6.0', {}, [dev('g', { deviceNodes: [{ path: '/dev/x', majr: 1 }] })]),
      /unknown field "devices\[0\]\.containerEdits\.deviceNodes\[0\]\.majr"/,
    ],
    [
      'an unknown mount field',
      spec('0.6.0', { containerEdits: { mounts: [{ hostPath: '/a', containerPath: '/b', readonly: true }] } }),
      /unknown field "containerEdits\.mounts\[0\]\.readonly"/,
    ],
    ['no cdiVersion', { kind: 'a.com/b', devices: [dev()] }, /missing field "cdiVersion"/],
    ['no devices', spec('0.6.0', {}, []), /no devices/],
    ['a device defined twice', spec('0.6.0', {}, [dev('g'), dev('g')]), /"g" is defined twice/],
    ['a kind without a class', { ...spec('0.6.0'), kind: 'example.com' }, /invalid kind/],
    ['a vendor starting with a digit', { ...spec('0.6.0'), kind: '1example.com/gpu' }, /should start with a letter/],
    ['a bad device name', spec('0.6.0', {}, [dev('gp!u')]), /invalid character '!'/],
    ['an env without =', spec('0.6.0', { containerEdits: { env: ['NOEQUALS'] } }), /invalid environment variable "NOEQUALS"/],
    ['a bad device type', spec('0.6.0', {}, [dev('g', { deviceNodes: [{ path: '/dev/x', type: 'z' }] })]), /invalid type "z"/],
    ['bad permissions', spec('0.6.0', {}, [dev('g', { deviceNodes: [{ path: '/dev/x', permissions: 'rwx' }] })]), /invalid permissions "rwx"/],
    ['a bad hook name', spec('0.6.0', { containerEdits: { hooks: [{ hookName: 'preStart', path: '/bin/true' }] } }), /invalid hook name "preStart"/],
    ['a hook without path', spec('0.6.0', { containerEdits: { hooks: [{ hookName: 'poststop', path: '' }] } }), /empty path/],
    [
      'a mount without hostPath',
      spec('0.6.0', { containerEdits: { mounts: [{ containerPath: '/b' }] } }),
      /missing field "containerEdits\.mounts\[0\]\.hostPath"/,
    ],
    ['a string where a number goes', spec('0.6.0', {}, [dev('g', { deviceNodes: [{ path: '/dev/x', major: '195' }] })]), /must be a whole number/],
    ['a bad closID', spec('0.7.0', { containerEdits: { intelRdt: { closID: '../x' } } }), /invalid intelRdt closID/],
    ['a list that is a string', spec('0.6.0', { containerEdits: { env: 'A=1' } }), /"containerEdits\.env" must be a list/],
    ['a document that is a list', [spec('0.6.0')], /must be an object/],
  ];
  for (const [what, doc, error] of BAD) it(`${what} is refused`, () => assert.throws(() => validateSpec(doc), error));
});

describe('qualified names', () => {
  const GOOD: ReadonlyArray<[string, string, string, string]> = [
    ['nvidia.com/gpu=0', 'nvidia.com', 'gpu', '0'],
    ['vendor.com/class=all', 'vendor.com', 'class', 'all'],
    ['a.b-c_d/e.f=GPU-1234:5', 'a.b-c_d', 'e.f', 'GPU-1234:5'],
  ];
  for (const [name, vendor, cls, dev] of GOOD) {
    it(`${name} is ${vendor} ${cls} ${dev}`, () => assert.deepEqual(parseQualifiedName(name), { vendor, class: cls, name: dev }));
  }
  const BAD = ['nvidia.com/gpu', 'nvidia.com=0', '/dev/nvidia0', 'nvidia.com/gpu=', 'nvidia.com/gpu=-0', 'nvidia.com/g pu=0', `v.com/c=${'x'.repeat(5000)}!`];
  for (const name of BAD) it(`${name.slice(0, 40)} is refused`, () => assert.throws(() => parseQualifiedName(name), /invalid CDI device name/));
  it('a host path never looks qualified', () => {
    assert.equal(looksQualified('/dev/x=y/z'), false);
    assert.equal(looksQualified('vendor.com/class=x'), true);
  });
});

describe('spec directories', () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-cdi-unit-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const dirOf = (name: string, files: Record<string, string>) => {
    const d = join(base, name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
    return d;
  };
  const yamlSpec = (kind: string, names: string[], env = 'A=1') =>
    `cdiVersion: "0.5.0"\nkind: ${kind}\ndevices:\n${names.map((n) => `  - name: "${n}"\n    containerEdits:\n      env: ["${env}"]\n`).join('')}`;

  it('reads YAML and JSON, skips other files, and sorts devices by name', async () => {
    const d = dirOf('mixed', {
      'a.yaml': yamlSpec('example.com/gpu', ['1', '0']),
      'b.json': JSON.stringify(spec('0.6.0', {}, [dev('x')])),
      'c.txt': 'not a spec',
      'd.yml': yamlSpec('other.com/x', ['y']),
    });
    const r = await loadCdiRegistry([d]);
    assert.deepEqual([...r.devices.keys()], ['example.com/gpu=0', 'example.com/gpu=1', 'example.com/gpu=x']);
    assert.deepEqual(r.errors, []);
  });
  it('YAML is read as YAML 1.1, as the reference does: 0666 is octal', async () => {
    const d = dirOf('octal', {
      'a.yaml':
        'cdiVersion: "0.5.0"\nkind: example.com/gpu\ndevices:\n  - name: "0"\n    containerEdits:\n      deviceNodes:\n        - path: /dev/x\n          fileMode: 0666\n',
    });
    const r = await loadCdiRegistry([d]);
    assert.equal(r.devices.get('example.com/gpu=0')?.device.containerEdits?.deviceNodes?.[0]?.fileMode, 0o666);
  });
  it('a broken file is an error of that file; the other files still count', async () => {
    const d = dirOf('broken', {
      'bad-yaml.yaml': 'cdiVersion: "0.5.0"\nkind: [unclosed\n',
      'dup-key.yaml': 'cdiVersion: "0.5.0"\ncdiVersion: "0.6.0"\nkind: a.com/b\ndevices: [{name: x}]\n',
      'bad-json.json': '{"cdiVersion": ',
      'unknown.json': JSON.stringify({ ...spec('0.6.0'), kind: 'u.com/v', colour: 'red' }),
      'empty.yaml': '',
      'two-docs.yaml': `${yamlSpec('t.com/t', ['a'])}---\n${yamlSpec('t.com/t', ['b'])}`,
      'good.yaml': yamlSpec('example.com/gpu', ['0']),
    });
    const r = await loadCdiRegistry([d]);
    assert.deepEqual([...r.devices.keys()], ['example.com/gpu=0']);
    const errorOf = (f: string) => r.errors.find((e) => e.path === join(d, f))?.message ?? '';
    assert.match(errorOf('bad-yaml.yaml'), /invalid YAML/);
    assert.match(errorOf('dup-key.yaml'), /invalid YAML/);
    assert.match(errorOf('bad-json.json'), /invalid JSON/);
    assert.match(errorOf('unknown.json'), /unknown field "colour"/);
    assert.match(errorOf('empty.yaml'), /no spec data/);
    assert.match(errorOf('two-docs.yaml'), /one document/);
    // Asking for a device of a broken file names that file.
    assert.throws(
      () => resolveCdiDevices(r, ['u.com/v=gpu0']),
      (e: Error & { hint?: string }) => /unresolvable CDI devices u\.com\/v=gpu0/.test(e.message) && e.hint!.includes('unknown.json'),
    );
  });
  it('two files of one directory defining a device: a conflict naming both, and the device is left out', async () => {
    const d = dirOf('dup', { 'a.yaml': yamlSpec('example.com/gpu', ['0', '1']), 'b.yaml': yamlSpec('example.com/gpu', ['1']) });
    const r = await loadCdiRegistry([d]);
    assert.deepEqual([...r.devices.keys()], ['example.com/gpu=0']);
    assert.match(r.errors[0]!.message, /conflicting device "example\.com\/gpu=1" \(specs ".*b\.yaml", ".*a\.yaml"\)/);
    assert.throws(() => resolveCdiDevices(r, ['example.com/gpu=1']), /unresolvable/);
  });
  it('a later directory overrides an earlier one, conflict or not', async () => {
    const low = dirOf('low', { 'a.yaml': yamlSpec('example.com/gpu', ['0'], 'FROM=low'), 'b.yaml': yamlSpec('example.com/gpu', ['0'], 'FROM=low2') });
    const high = dirOf('high', { 'a.yaml': yamlSpec('example.com/gpu', ['0'], 'FROM=high') });
    const r = await loadCdiRegistry([low, high]);
    assert.deepEqual(resolveCdiDevices(r, ['example.com/gpu=0']).env, ['FROM=high']);
  });
  it('a huge spec file is refused without being read whole', async () => {
    const d = dirOf('huge', { 'ok.yaml': yamlSpec('example.com/gpu', ['0']) });
    writeFileSync(join(d, 'huge.json'), Buffer.alloc(MAX_SPEC_FILE_BYTES + 10, 0x20));
    const r = await loadCdiRegistry([d]);
    assert.match(r.errors.find((e) => e.path.endsWith('huge.json'))!.message, /more than the 4194304/);
    assert.equal(r.devices.size, 1);
  });
  it('a missing directory is no error; a dangling link and a fifo are errors of their own', async () => {
    const d = dirOf('links', { 'ok.yaml': yamlSpec('example.com/gpu', ['0']) });
    symlinkSync('/nonexistent/spec.yaml', join(d, 'dangling.yaml'));
    symlinkSync('/dev/null', join(d, 'null.yaml'));
    const r = await loadCdiRegistry([join(base, 'absent'), d]);
    assert.equal(r.devices.size, 1);
    assert.equal(r.errors.length, 2);
    assert.match(r.errors.find((e) => e.path.endsWith('null.yaml'))!.message, /not a regular file/);
  });
  it('a file others may write is refused (its hooks would run as root); a YAML alias bomb is refused', async () => {
    const d = dirOf('perms', { 'open.yaml': yamlSpec('open.com/gpu', ['0']), 'ok.yaml': yamlSpec('example.com/gpu', ['0']) });
    chmodSync(join(d, 'open.yaml'), 0o666);
    const lines = ['cdiVersion: "0.5.0"', 'kind: bomb.com/x', 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    writeFileSync(join(d, 'bomb.yaml'), `${lines.join('\n')}\ndevices: [{name: x}]\n`);
    const r = await loadCdiRegistry([d]);
    assert.deepEqual([...r.devices.keys()], ['example.com/gpu=0']);
    assert.match(r.errors.find((e) => e.path.endsWith('open.yaml'))!.message, /writable by users other than root .*mode 666/);
    assert.match(r.errors.find((e) => e.path.endsWith('bomb.yaml'))!.message, /alias/i);
  });
  it("=all is the spec's own `all` device, else every device of the kind", async () => {
    const d = dirOf('all', { 'a.yaml': yamlSpec('example.com/gpu', ['0', '1']), 'b.yaml': yamlSpec('other.com/x', ['all', 'y'], 'ALL=yes') });
    const r = await loadCdiRegistry([d]);
    assert.deepEqual(resolveCdiDevices(r, ['example.com/gpu=all']).devices, ['example.com/gpu=0', 'example.com/gpu=1']);
    assert.deepEqual(resolveCdiDevices(r, ['other.com/x=all']).devices, ['other.com/x=all']);
    assert.throws(() => resolveCdiDevices(r, ['none.com/x=all']), /unresolvable CDI devices none\.com\/x=all/);
  });
});
