/**
 * The flags that ask for CDI devices, read into values: `RUN --device` in a Dockerfile,
 * `build --allow`, the run flags (`--device` split between host and CDI devices, `--gpus`),
 * and the API's HostConfig.Devices and DeviceRequests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceRuntimeOptions as apiDevices } from '../../src/api/create-devices.ts';
import { parseAllow } from '../../src/builder/devices.ts';
import { useCdiSpecDirs } from '../../src/cdi/index.ts';
import { deviceRuntimeOptions as cliDevices } from '../../src/cli/run-flags-devices.ts';
import { loadDockerfile, parseRunDevice, runFlags } from '../../src/dockerfile/index.ts';

describe('RUN --device', () => {
  const CASES: ReadonlyArray<[string, unknown]> = [
    ['vendor.com/class=name', { name: 'vendor.com/class=name', required: false }],
    ['vendor.com/class=name,required', { name: 'vendor.com/class=name', required: true }],
    ['vendor.com/class=name,required=false', { name: 'vendor.com/class=name', required: false }],
    ['vendor.com/class=all,required=true', { name: 'vendor.com/class=all', required: true }],
  ];
  for (const [flag, want] of CASES) it(flag, () => assert.deepEqual(parseRunDevice(flag), want));
  for (const [flag, error] of [
    ['', /a device name is required/],
    [',required', /a device name is required/],
    ['v.com/c=n,colour=red', /unexpected key 'colour'/],
    ['v.com/c=n,required=perhaps', /invalid value for required/],
  ] as const) {
    it(`${flag || '(empty)'} is refused`, () => assert.throws(() => parseRunDevice(flag), error));
  }
  it('is a RUN flag, given as often as wanted, and expanded in scope', () => {
    const df = loadDockerfile('FROM scratch\nRUN --device=a.com/b=0 --device=a.com/b=$N,required true\n', 'Dockerfile');
    const run = df.stages[0]!.instructions.find((i) => i.kind === 'run')!;
    assert.deepEqual(runFlags(run.flags, (w) => w.replace('$N', '1')).devices, [
      { name: 'a.com/b=0', required: false },
      { name: 'a.com/b=1', required: true },
    ]);
    assert.throws(() => loadDockerfile('FROM scratch\nCOPY --device=a.com/b=0 x y\n', 'Dockerfile'), /device/);
  });
});

describe('build --allow', () => {
  it('device grants all, device=NAME one; the other entitlements are accepted; anything else is refused', () => {
    assert.equal(parseAllow(['device']), true);
    assert.deepEqual(parseAllow(['device=a.com/b=0', 'network.host']), ['a.com/b=0']);
    assert.deepEqual(parseAllow(['security.insecure,device=a.com/b=1']), ['a.com/b=1']);
    assert.deepEqual(parseAllow([]), []);
    assert.throws(() => parseAllow(['devices']), /invalid entitlement "devices"/);
    assert.throws(() => parseAllow(['device=/dev/sda']), /invalid CDI device name/);
  });
});

describe('run --device and --gpus', () => {
  it('a CDI name goes to cdiDevices, a path to devices; the spec dirs are recorded', () => {
    useCdiSpecDirs(['/tmp/specs']);
    assert.deepEqual(cliDevices({ device: ['/dev/null', 'a.com/b=0', 'a.com/b=0', '/dev/zero:/z:r'], gpus: ['2'] }), {
      devices: ['/dev/null', '/dev/zero:/z:r'],
      cdiDevices: ['a.com/b=0'],
      gpus: [{ count: 2, capabilities: [['gpu']] }],
      cdiSpecDirs: ['/tmp/specs'],
    });
    assert.deepEqual(cliDevices({ device: ['/dev/null'] }), { devices: ['/dev/null'] });
    assert.throws(() => cliDevices({ device: ['a.com/b=../x'] }), /invalid CDI device name/);
    assert.throws(() => cliDevices({ gpus: ['many'] }), /count must be an integer/);
  });
});

describe('HostConfig.Devices and DeviceRequests', () => {
  it('maps docker 28 (driver cdi), older clients (a CDI path) and --gpus (driver "", gpu)', () => {
    useCdiSpecDirs(['/tmp/specs']);
    assert.deepEqual(
      apiDevices(
        [
          { PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'r' },
          { PathOnHost: 'a.com/b=1', PathInContainer: 'a.com/b=1', CgroupPermissions: 'rwm' },
        ],
        [
          { Driver: 'cdi', DeviceIDs: ['a.com/b=0', 'a.com/b=1'] },
          { Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} },
        ],
      ),
      {
        devices: ['/dev/null:/dev/n:r'],
        cdiDevices: ['a.com/b=1', 'a.com/b=0'],
        gpus: [{ count: -1, capabilities: [['gpu']], options: {} }],
        cdiSpecDirs: ['/tmp/specs'],
      },
    );
    assert.throws(() => apiDevices([], [{ Driver: 'cdi', DeviceIDs: ['x'] }]), /invalid CDI device name "x"/);
  });
});
