/**
 * src/config: every BERTH_* variable, its default, a good value and a bad one; the docs list
 * exactly these variables; and no other module of src/ reads a BERTH_* variable itself.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SETTINGS, settingsFrom, type SettingName } from '../../src/config/index.ts';
import { isBerthError } from '../../src/errors/index.ts';

const REPO = join(import.meta.dirname, '..', '..');

/** Each setting: its variable, its value when unset, good values as read, and bad values. */
const CASES: ReadonlyArray<{ name: SettingName; variable: string; unset: unknown; good: ReadonlyArray<[string, unknown]>; bad: readonly string[] }> = [
  { name: 'stateRoot', variable: 'BERTH_ROOT', unset: undefined, good: [['/srv/berth', '/srv/berth']], bad: ['/a\0b'] },
  { name: 'runRoot', variable: 'BERTH_RUN_ROOT', unset: undefined, good: [['/run/b', '/run/b']], bad: ['x\0'] },
  {
    name: 'snapshotter',
    variable: 'BERTH_SNAPSHOTTER',
    unset: undefined,
    good: [
      ['overlay', 'overlay'],
      ['native', 'native'],
    ],
    bad: ['zfs', 'Overlay'],
  },
  {
    name: 'runc',
    variable: 'BERTH_RUNC',
    unset: undefined,
    good: [
      ['/opt/runc', '/opt/runc'],
      ['crun', 'crun'],
    ],
    bad: ['\0'],
  },
  { name: 'zstd', variable: 'BERTH_ZSTD', unset: undefined, good: [['/usr/bin/zstd', '/usr/bin/zstd']], bad: ['z\0'] },
  { name: 'aardvarkDns', variable: 'BERTH_AARDVARK', unset: undefined, good: [['aardvark-dns', 'aardvark-dns']], bad: ['\0'] },
  { name: 'cniPath', variable: 'BERTH_CNI_PATH', unset: '/usr/lib/cni', good: [['/opt/cni/bin', '/opt/cni/bin']], bad: ['\0'] },
  { name: 'binfmtDir', variable: 'BERTH_BINFMT_D', unset: '/usr/lib/binfmt.d', good: [['/etc/binfmt.d', '/etc/binfmt.d']], bad: ['\0'] },
  { name: 'netDir', variable: 'BERTH_NET_DIR', unset: '/run/berth', good: [['/tmp/net', '/tmp/net']], bad: ['\0'] },
  {
    name: 'bridgeName',
    variable: 'BERTH_BRIDGE',
    unset: 'berth0',
    good: [
      ['br-test', 'br-test'],
      ['abcdefghijklmno', 'abcdefghijklmno'],
    ],
    bad: ['abcdefghijklmnop', 'br 0', 'br/0', '..'],
  },
  {
    name: 'bridgeSubnet',
    variable: 'BERTH_SUBNET',
    unset: '10.87.0.0/16',
    good: [
      ['10.231.0.0/16', '10.231.0.0/16'],
      ['192.168.5.0/24', '192.168.5.0/24'],
    ],
    bad: ['10.87.0.0', '10.87.0.0/33', '300.1.1.1/16', 'fd00::/64'],
  },
  {
    name: 'builderKeepStorage',
    variable: 'BERTH_BUILDER_KEEP_STORAGE',
    unset: undefined,
    good: [
      ['10GB', 10 * 2 ** 30],
      ['512m', 512 * 2 ** 20],
      ['1.5g', 1.5 * 2 ** 30],
      ['1048576', 1048576],
      ['0', 0],
    ],
    bad: ['lots', '-1', '10 GBB', '1e9', '99999999999999999999g'],
  },
  { name: 'networkPool', variable: 'BERTH_NETWORK_POOL', unset: '10.89', good: [['172.30', '172.30']], bad: ['10', '10.89.0', '10.256', 'a.b'] },
  { name: 'certsDir', variable: 'BERTH_CERTS_D', unset: undefined, good: [['/tmp/certs.d', '/tmp/certs.d']], bad: ['\0'] },
  { name: 'configFile', variable: 'BERTH_CONFIG', unset: undefined, good: [['/tmp/berth.json', '/tmp/berth.json']], bad: ['\0'] },
  {
    name: 'extraCaCerts',
    variable: 'BERTH_EXTRA_CA_CERTS',
    unset: undefined,
    good: [
      ['/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt'],
      ['certs.pem', 'certs.pem'],
    ],
    bad: ['\0'],
  },
  {
    name: 'cdiSpecDirs',
    variable: 'BERTH_CDI_SPEC_DIRS',
    unset: undefined,
    good: [
      ['/etc/cdi', ['/etc/cdi']],
      ['/a:/b', ['/a', '/b']],
    ],
    bad: [':', 'a\0b'],
  },
  { name: 'nofileHard', variable: 'BERTH_NOFILE_HARD', unset: 20000, good: [['1024', 1024]], bad: ['0', '-1', '1e4', 'many', '10.5'] },
  {
    name: 'noNative',
    variable: 'BERTH_NO_NATIVE',
    unset: false,
    good: [
      ['1', true],
      ['true', true],
      ['YES', true],
      ['0', false],
      ['off', false],
    ],
    bad: ['2', 'maybe'],
  },
  {
    name: 'timing',
    variable: 'BERTH_TIMING',
    unset: false,
    good: [
      ['1', true],
      ['no', false],
    ],
    bad: ['verbose'],
  },
  { name: 'rangeThreshold', variable: 'BERTH_RANGE_THRESHOLD', unset: 64 << 20, good: [['100000', 100000]], bad: ['0', '64M', ' 1'] },
  { name: 'rangePart', variable: 'BERTH_RANGE_PART', unset: 8 << 20, good: [['262144', 262144]], bad: ['0', '-5'] },
  {
    name: 'layerThreadThreshold',
    variable: 'BERTH_THREAD_THRESHOLD',
    unset: 32 << 20,
    good: [
      ['1', 1],
      ['0', 0],
    ],
    bad: ['x', '99999999999999999999'],
  },
  { name: 'copyThreadThreshold', variable: 'BERTH_COPY_THREAD_THRESHOLD', unset: 4000, good: [['2', 2]], bad: ['two'] },
  { name: 'uploadChunk', variable: 'BERTH_UPLOAD_CHUNK', unset: 64 << 20, good: [['1048576', 1 << 20]], bad: ['0', '1MiB'] },
];

describe('settings from the environment', () => {
  it('the table covers every setting', () => {
    assert.deepEqual(CASES.map((c) => c.name).sort(), SETTINGS.map((s) => s.name).sort());
    for (const c of CASES) assert.equal(SETTINGS.find((s) => s.name === c.name)?.variable, c.variable, c.name);
  });

  for (const c of CASES) {
    describe(c.variable, () => {
      it(`unset (or empty) gives ${String(c.unset)}`, () => {
        assert.equal(settingsFrom({})[c.name], c.unset);
        assert.equal(settingsFrom({ [c.variable]: '' })[c.name], c.unset);
      });
      for (const [raw, value] of c.good) {
        it(`reads ${JSON.stringify(raw)} as ${String(value)}`, () => assert.deepEqual(settingsFrom({ [c.variable]: raw })[c.name], value));
      }
      for (const raw of c.bad) {
        it(`refuses ${JSON.stringify(raw)} with a hint that names it`, () => {
          assert.throws(
            () => settingsFrom({ [c.variable]: raw })[c.name],
            (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && e.message.startsWith(`${c.variable}=`) && !!e.hint?.includes(c.variable),
          );
        });
      }
    });
  }

  it('a bad value fails only the setting that is read', () => {
    const s = settingsFrom({ BERTH_SUBNET: 'nonsense', BERTH_BRIDGE: 'br-ok' });
    assert.equal(s.bridgeName, 'br-ok');
    assert.throws(() => s.bridgeSubnet, /BERTH_SUBNET/);
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(REPO, 'docs', 'configuration.md'), 'utf8');
  const main = doc.split('\n## ')[0]!;
  const rows = [...main.matchAll(/^\| `(BERTH_[A-Z_]+)` \| ([^|]+(?:\\\|[^|]+)*) \| (.+?) \| (users|tests|benchmarks) \|/gm)];

  it('lists every setting once, with its type, default and audience', () => {
    assert.deepEqual(rows.map((r) => r[1]).sort(), SETTINGS.map((s) => s.variable).sort());
    for (const s of SETTINGS) {
      const row = rows.find((r) => r[1] === s.variable)!;
      assert.equal(row[2]!.replace(/\\\|/g, '|'), s.type, s.variable);
      assert.equal(row[3]!.replace(/`/g, ''), s.defaultText.replace(/`/g, ''), s.variable);
      assert.equal(row[4], s.audience, s.variable);
    }
  });
});

describe('src/ outside config/', () => {
  it('reads no BERTH_* variable itself', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && !p.includes(`${join('src', 'config')}`)) {
          readFileSync(p, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (/\benv(\.|\[['"])BERTH_/.test(line)) offenders.push(`${p}:${i + 1}`);
            });
        }
      }
    };
    walk(join(REPO, 'src'));
    assert.deepEqual(offenders, []);
  });
});
