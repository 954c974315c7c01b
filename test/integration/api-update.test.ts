/** `POST /containers/{id}/update` through berth serve, driven by the docker CLI 28 and by raw requests. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DOCKER_28, type ServeHandle, startServe } from '../helpers/api-server.ts';

describe('the update endpoint', () => {
  let s: ServeHandle;
  before(async () => {
    s = await startServe({ busybox: true });
    const r = s.docker(['create', '--name', 'lim', '--network', 'none', 'bb:1', 'true'], { cli: DOCKER_28 });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => s.stop());

  const hostConfig = () => JSON.parse(s.docker(['inspect', '--format', '{{json .HostConfig}}', 'lim'], { cli: DOCKER_28 }).stdout) as Record<string, unknown>;

  it('docker update sets the limits inspect then shows', () => {
    const r = s.docker(['update', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '30', '--cpu-shares', '256', 'lim'], { cli: DOCKER_28 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'lim\n');
    const hc = hostConfig();
    assert.equal(hc.Memory, 64 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 500_000_000);
    assert.equal(hc.PidsLimit, 30);
    assert.equal(hc.CpuShares, 256);
  });

  it('a field left out or zero changes nothing', async () => {
    const r = await s.request('POST', '/containers/lim/update', {
      body: JSON.stringify({ Memory: 0, PidsLimit: 40 }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(JSON.parse(r.body.toString()), { Warnings: [] });
    assert.equal(hostConfig().Memory, 64 * 1024 * 1024);
    assert.equal(hostConfig().PidsLimit, 40);
  });

  it('docker update --restart and a raw RestartPolicy set the policy inspect shows', async () => {
    const r = s.docker(['update', '--restart', 'on-failure:4', 'lim'], { cli: DOCKER_28 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(hostConfig().RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 4 });
    const raw = await s.request('POST', '/containers/lim/update', {
      body: JSON.stringify({ RestartPolicy: { Name: 'unless-stopped' } }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(raw.status, 200, raw.body.toString());
    assert.deepEqual(hostConfig().RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
  });

  const refusals: Array<[string, string, number]> = [
    ['a restart policy that is not one', '{"RestartPolicy":{"Name":"sometimes"}}', 400],
    ['a restart policy that is not an object', '{"RestartPolicy":"always"}', 400],
    ['a retry count that is not an integer', '{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":"x"}}', 400],
    ['a body that is not an object', '[1,2]', 400],
    ['a limit that is not a number', '{"Memory":"lots"}', 400],
    ['a memory limit under 6MB', '{"Memory":1024}', 400],
    ['a cpuset that is not one', '{"CpusetCpus":"0;reboot"}', 400],
  ];
  for (const [what, body, status] of refusals) {
    it(`refuses ${what} with ${status}`, async () => {
      const r = await s.request('POST', '/containers/lim/update', { body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, status, r.body.toString());
      assert.equal(hostConfig().PidsLimit, 40);
    });
  }

  it('no such container is a 404', async () => {
    const r = await s.request('POST', '/containers/nosuch/update', { body: '{"PidsLimit":5}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 404);
  });
});
