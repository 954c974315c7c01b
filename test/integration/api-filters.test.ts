/**
 * The Engine API's `filters` go through the same module as the CLI's `--filter`
 * (services/filters): the same keys, the same 400s, and prunes that take `label!`, `until`
 * and, for images, `label` (before the shared module, a 501).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ServeHandle, startServe } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

let s: ServeHandle;
const berth = (args: string[]) => {
  const r = berthIn(s.root, args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
/** A request on a connection of its own (the CLIs above block this loop; see api-volumes-networks). */
// biome-ignore lint/suspicious/noExplicitAny: a JSON answer read loosely; the assertions check its shape
async function call(method: string, path: string, filters?: unknown): Promise<{ status: number; body: any }> {
  const q = filters === undefined ? '' : `${path.includes('?') ? '&' : '?'}filters=${encodeURIComponent(JSON.stringify(filters))}`;
  const r = await s.request(method, `${path}${q}`, { headers: { Connection: 'close' } });
  const text = r.body.toString();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
const names = (rows: Array<{ Names: string[] }>) => rows.map((r) => r.Names[0]).sort();

describe('berth serve: filters from the shared module', () => {
  before(async () => {
    s = await startServe();
    berth(['import', busyboxTar(), 'bb:1']);
    berth(['import', '-c', 'LABEL team=ml', busyboxTar(), 'lab:1']);
    berth(['create', '--name', 'a1', '--label', 'a=1', 'bb:1', 'true']);
    berth(['create', '--name', 'a2', '--label', 'a=2', '--label', 'keep=1', 'bb:1', 'true']);
    berth(['create', '--name', 'b1', 'bb:1', 'true']);
    berth(['volume', 'create', '--label', 'team=x', 'v1']);
    berth(['volume', 'create', 'v2']);
  });
  after(async () => {
    await s.stop();
  });

  test('containers: label, name, OR within a key, AND across keys', async () => {
    assert.deepEqual(names((await call('GET', '/containers/json?all=1', { label: ['a'] })).body), ['/a1', '/a2']);
    assert.deepEqual(names((await call('GET', '/containers/json?all=1', { label: { a: true, keep: true } })).body), ['/a2']);
    assert.deepEqual(names((await call('GET', '/containers/json?all=1', { name: ['a1', 'b1'] })).body), ['/a1', '/b1']);
    assert.deepEqual(names((await call('GET', '/containers/json?all=1', { status: ['created'], name: ['^/?b'] })).body), ['/b1']);
  });

  test("containers: docker's 400s", async () => {
    for (const [filters, message] of [
      [{ 'label!': ['a'] }, "invalid filter 'label!'"],
      [{ status: ['sleeping'] }, "invalid filter 'status=sleeping'"],
      [{ health: ['sick'] }, 'Unrecognised filter value for health: sick'],
      [{ label: 'a' }, "invalid filter 'label': its values must be a list"],
    ] as const) {
      const r = await call('GET', '/containers/json', filters);
      assert.equal(r.status, 400, JSON.stringify(filters));
      assert.equal(r.body.message, message);
    }
    assert.equal((await call('GET', '/containers/json?filters=%5B1%5D')).status, 400);
  });

  test('a pattern that would backtrack for ages answers at once', async () => {
    const started = Date.now();
    const r = await call('GET', '/containers/json?all=1', { name: ['(a+)+$', '(a|aa)*!'], id: ['(x+x+)+y'] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, []);
    assert.ok(Date.now() - started < 5000);
  });

  test('container prune takes label! and until', async () => {
    assert.equal((await call('POST', '/containers/prune', { until: ['soon'] })).status, 400);
    assert.equal((await call('POST', '/containers/prune', { status: ['exited'] })).body.message, "invalid filter 'status'");
    const r = await call('POST', '/containers/prune', { 'label!': ['keep'], until: ['-1h'] });
    assert.equal(r.status, 200);
    assert.equal(r.body.ContainersDeleted.length, 2);
    assert.deepEqual(names((await call('GET', '/containers/json?all=1')).body), ['/a2']);
  });

  test('volumes: list filters and prune with label! (all=true, API 1.43)', async () => {
    assert.deepEqual(
      (await call('GET', '/volumes', { name: ['v'], label: ['team'] })).body.Volumes.map((v: { Name: string }) => v.Name),
      ['v1'],
    );
    assert.equal((await call('GET', '/volumes', { dangling: ['x'] })).body.message, "invalid filter 'dangling=[x]'");
    const r = await call('POST', '/v1.43/volumes/prune', { all: ['true'], 'label!': ['team'] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.VolumesDeleted, ['v2']);
  });

  test('images: reference list filter; prune by label (every unused image with dangling=false)', async () => {
    const refs = (await call('GET', '/images/json', { reference: ['lab'] })).body.map((i: { RepoTags: string[] }) => i.RepoTags);
    assert.deepEqual(refs, [['lab:1']]);
    assert.equal((await call('POST', '/images/prune', { reference: ['bb'] })).status, 400);
    const r = await call('POST', '/images/prune', { dangling: ['false'], label: ['team=ml'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.ImagesDeleted.length, 1);
    assert.deepEqual(
      (await call('GET', '/images/json')).body.flatMap((i: { RepoTags: string[] }) => i.RepoTags),
      ['bb:1'],
    );
  });

  test("networks: docker's 400s", async () => {
    assert.equal((await call('GET', '/networks', { type: ['x'] })).body.message, "invalid filter: 'type'='x'");
    assert.equal((await call('POST', '/networks/prune', { until: ['bogus'] })).status, 400);
    assert.equal((await call('POST', '/networks/prune', { name: ['x'] })).body.message, "invalid filter 'name'");
  });
});
