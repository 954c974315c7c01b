/**
 * CDI through `berth serve`: the docker CLI's `--gpus` (HostConfig.DeviceRequests, driver
 * "" and capability gpu) and `--device vendor.com/class=name` (a request of driver "cdi" from
 * docker 28, a HostConfig.Devices entry from docker 20) give the container the fake GPU's
 * devices; bad requests are 400s the CLI prints. The server reads its spec dirs from
 * BERTH_CDI_SPEC_DIRS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';
import { makeFakeCdi } from './cdi-fixture.ts';

describe('CDI devices through the Engine API', () => {
  const fake = makeFakeCdi({ nvidia: true });
  let s: ServeHandle;
  before(async () => {
    s = await startServe({ busybox: true, env: { BERTH_CDI_SPEC_DIRS: fake.specDir } });
  });
  after(async () => {
    await s?.stop();
    fake.cleanup();
  });
  /**
   * POST /containers/create. Once more when the write fails: Node's agent keeps the last
   * request's socket alive, and the server may have closed it as idle while docker ran.
   */
  const createWith = async (body: unknown) => {
    const send = () => s.request('POST', '/v1.41/containers/create', { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    return send().catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') return send();
      throw e;
    });
  };

  it('docker run --gpus all and --gpus \'"device=1"\' select the nvidia.com/gpu devices', () => {
    const all = s.docker(['run', '--rm', '--gpus', 'all', 'bb:1', 'sh', '-c', 'ls /dev | grep ^nvidia']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'nvidia0\nnvidia1\nnvidia2\n');
    const one = s.docker(['run', '--rm', '--gpus', '"device=1"', 'bb:1', 'sh', '-c', 'ls /dev | grep ^nvidia']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, 'nvidia1\n');
  });

  it('docker run --device example.com/gpu=0: every edit inside', () => {
    const r = s.docker([
      'run',
      '--rm',
      '--device',
      'example.com/gpu=0',
      'bb:1',
      'sh',
      '-c',
      'stat -c "%t:%T" /dev/fakegpu0; echo $FAKEGPU_VISIBLE_DEVICES; cat /cdi-marker /usr/lib/libfakecuda.so.1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1:3\n0\ncreated by fakegpu\nfake cuda 1.0\n');
  });

  it('a CDI name in HostConfig.Devices (as older clients send it) is a CDI device', async () => {
    const body = {
      Image: 'bb:1',
      Cmd: ['cat', '/cdi-marker'],
      HostConfig: { Devices: [{ PathOnHost: 'example.com/gpu=1', PathInContainer: 'example.com/gpu=1', CgroupPermissions: 'rwm' }] },
    };
    const c = await createWith(body);
    assert.equal(c.status, 201, c.body.toString());
    const id = (JSON.parse(c.body.toString()) as { Id: string }).Id;
    const r = s.docker(['start', '-a', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'created by fakegpu\n');
    s.docker(['rm', '-f', id]);
  });

  it("docker info lists the server's CDI spec directories", () => {
    const r = s.docker(['info']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`CDI spec directories:\\n\\s+${fake.specDir}\\n`));
  });

  it('a device no spec defines, too many GPUs, a bad request: the CLI prints the error', () => {
    const missing = s.docker(['run', '--rm', '--device', 'example.com/gpu=7', 'bb:1', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /unresolvable CDI devices example\.com\/gpu=7/);
    const many = s.docker(['run', '--rm', '--gpus', '9', 'bb:1', 'true']);
    assert.equal(many.code, 125);
    assert.match(many.stderr, /9 GPUs were asked for/);
  });

  it('hostile DeviceRequests are 400s', async () => {
    const create = (hostConfig: unknown) => createWith({ Image: 'bb:1', Cmd: ['true'], HostConfig: hostConfig });
    for (const hc of [
      { DeviceRequests: [{ Driver: 'cdi', DeviceIDs: ['../../etc/passwd'] }] },
      { DeviceRequests: [{ Driver: 'tpu', Count: 1, Capabilities: [['tpu']] }] },
      { DeviceRequests: [{ Count: 'all' }] },
      { DeviceRequests: Array.from({ length: 100 }, () => ({ Count: 1, Capabilities: [['gpu']] })) },
      { Devices: [{ PathOnHost: 'example.com/gpu=$(reboot)', PathInContainer: '', CgroupPermissions: 'rwm' }] },
    ]) {
      const r = await create(hc);
      assert.equal(r.status, 400, `${JSON.stringify(hc).slice(0, 80)}: ${r.body.toString()}`);
    }
  });
});
