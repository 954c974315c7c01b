/**
 * `/volumes`, `/networks` and `/system/df` through the docker CLI 28 and raw HTTP: create,
 * ls with filters, inspect, rm, prune; in-use conflicts and unknown names with docker's
 * words; network connect and disconnect of a container before it starts (what compose does)
 * and a clear refusal for a running one; hostile bodies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const json = (b: Buffer) => JSON.parse(b.toString());

/**
 * A request on a connection of its own: the docker and berth CLIs run with spawnSync, which
 * blocks this process's loop, so a pooled keep-alive connection the server closed meanwhile
 * would be written to before its close is seen (EPIPE).
 */
let serve: ServeHandle;
const request = (method: string, path: string, o: { body?: string; headers?: Record<string, string> } = {}) =>
  serve.request(method, path, { ...o, headers: { Connection: 'close', ...o.headers } });

describe('berth serve: volumes, networks, system df', () => {
  let s: ServeHandle;
  const berth = (args: string[]) => {
    const r = berthIn(s.root, args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  before(async () => {
    s = await startServe();
    serve = s;
    berth(['import', busyboxTar(), 'bb:1']);
  });
  after(async () => {
    berthIn(s.root, ['rm', '-f', 'holder', 'c2', 'r1']);
    await s.stop();
  });

  test('volume create, ls with filters, inspect', () => {
    assert.equal(s.docker(['volume', 'create', 'vol1']).stdout, 'vol1\n');
    assert.equal(s.docker(['volume', 'create', '--label', 'tier=db', 'vol2']).stdout, 'vol2\n');
    const ls = s.docker(['volume', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+vol1\nlocal\s+vol2\n$/);
    assert.equal(s.docker(['volume', 'ls', '-q', '--filter', 'label=tier=db']).stdout, 'vol2\n');
    assert.equal(s.docker(['volume', 'ls', '-q', '--filter', 'label=tier']).stdout, 'vol2\n');
    assert.equal(s.docker(['volume', 'ls', '-q', '--filter', 'name=ol1']).stdout, 'vol1\n');
    const [v] = JSON.parse(s.docker(['volume', 'inspect', 'vol2']).stdout);
    assert.equal(v.Name, 'vol2');
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.deepEqual(v.Labels, { tier: 'db' });
    assert.ok(v.Mountpoint.startsWith(`${s.root}/volumes/vol2/`), v.Mountpoint);
  });

  test('a volume in use is not removed (409), an unknown one is 404, both in docker words', async () => {
    berth(['create', '--name', 'holder', '-v', 'vol1:/data', 'bb:1', 'true']);
    const id = berth(['inspect', '--format', '{{.Id}}', 'holder']);
    assert.deepEqual(s.docker(['volume', 'ls', '-q', '--filter', 'dangling=true']).stdout, 'vol2\n');
    const rm = s.docker(['volume', 'rm', 'vol1']);
    assert.equal(rm.code, 1);
    assert.equal(rm.stderr, `Error response from daemon: remove vol1: volume is in use - [${id}]\n`);
    assert.equal((await request('DELETE', '/volumes/vol1')).status, 409);
    const unknown = s.docker(['volume', 'rm', 'vol9']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'Error response from daemon: get vol9: no such volume\n');
    assert.equal((await request('GET', '/volumes/vol9')).status, 404);
    assert.equal((await request('DELETE', '/volumes/vol9?force=1')).status, 204);
  });

  test('volume prune (API 1.41: every unused volume) keeps the one in use; rm removes', () => {
    assert.equal(s.docker(['volume', 'create', 'vol3']).code, 0);
    const p = s.docker(['volume', 'prune', '-f', '--filter', 'label=tier=db']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^Deleted Volumes:\nvol2\n\nTotal reclaimed space: /);
    const all = s.docker(['volume', 'prune', '-f']);
    assert.match(all.stdout, /^Deleted Volumes:\nvol3\n/);
    assert.equal(s.docker(['volume', 'ls', '-q']).stdout, 'vol1\n');
  });

  test('volume create bodies: docker defaults, hostile input 400, unknown driver 404', async () => {
    const ok = await request('POST', '/volumes/create', { body: '{"Name":"api1","Driver":"local","Labels":{"a":"b"},"DriverOpts":{}}\n' });
    assert.equal(ok.status, 201);
    const v = json(ok.body);
    assert.deepEqual([v.Name, v.Driver, v.Scope, v.Labels.a, v.Options], ['api1', 'local', 'local', 'b', null]);
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const anon = json((await request('POST', '/volumes/create', { body: '{}' })).body);
    assert.match(anon.Name, /^[0-9a-f]{64}$/);
    const list = json((await request('GET', '/volumes')).body);
    assert.equal(list.Warnings, null);
    assert.ok(list.Volumes.some((x: { Name: string }) => x.Name === 'api1'));
    for (const [body, status] of [
      ['{"Name":', 400],
      ['[1]', 400],
      ['{"Name":5}', 400],
      ['{"Name":"bad/name"}', 400],
      ['{"Name":"x","Labels":["a"]}', 400],
      ['{"Name":"x","Labels":{"a":1}}', 400],
      ['{"Name":"x","Driver":"nfs"}', 404],
      ['{"Name":"x","DriverOpts":{"type":"nfs"}}', 501],
    ] as const) {
      const r = await request('POST', '/volumes/create', { body });
      assert.equal(r.status, status, body);
      assert.equal(typeof json(r.body).message, 'string', body);
    }
    // On a connection of its own: the server refuses the body before reading it all and drops the connection.
    const huge = await request('POST', '/volumes/create', { body: `{"Name":"${'a'.repeat(5 << 20)}"}`, headers: { Connection: 'close' } });
    assert.equal(huge.status, 400);
    assert.equal((await request('GET', `/volumes?filters=${encodeURIComponent('{"colour":["red"]}')}`)).status, 400);
    assert.equal((await request('GET', '/volumes?filters=%7B')).status, 400);
    assert.equal((await request('DELETE', '/volumes/api1')).status, 204);
    assert.equal((await request('DELETE', `/volumes/${anon.Name}`)).status, 204);
  });

  test('network create, ls with the predefined networks and filters, inspect', () => {
    const c = s.docker(['network', 'create', '--label', 'team=ml', 'net1']);
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ls = s.docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    assert.equal(ls.stdout, 'bridge bridge local\nhost host local\nnet1 bridge local\nnone null local\n');
    assert.equal(s.docker(['network', 'ls', '-q', '--filter', 'type=custom']).stdout, `${id.slice(0, 12)}\n`);
    assert.equal(s.docker(['network', 'ls', '-q', '--filter', 'label=team=ml']).stdout, `${id.slice(0, 12)}\n`);
    assert.equal(s.docker(['network', 'ls', '--format', '{{.Name}}', '--filter', 'driver=null']).stdout, 'none\n');
    assert.equal(s.docker(['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=builtin']).stdout, 'bridge\nhost\nnone\n');
    const [n] = JSON.parse(s.docker(['network', 'inspect', 'net1']).stdout);
    assert.equal(n.Name, 'net1');
    assert.equal(n.Id, id);
    assert.equal(n.Driver, 'bridge');
    assert.equal(n.Scope, 'local');
    assert.deepEqual(n.Labels, { team: 'ml' });
    assert.match(n.IPAM.Config[0].Subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    assert.deepEqual(n.Containers, {});
    // What it was created with: docker-compose compares these with its file's.
    assert.deepEqual(n.Options, {});
    assert.equal(JSON.parse(s.docker(['network', 'inspect', id.slice(0, 10)]).stdout)[0].Name, 'net1');
  });

  test('network errors in docker words: duplicate 409, bad name 400, unknown 404, predefined 403', async () => {
    const dup = s.docker(['network', 'create', 'net1']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /network with name net1 already exists/);
    assert.equal((await request('POST', '/networks/create', { body: '{"Name":"net1"}' })).status, 409);
    const bad = await request('POST', '/networks/create', { body: '{"Name":"bad name!"}' });
    assert.equal(bad.status, 400);
    assert.match(json(bad.body).message, /invalid network name/);
    const unknown = s.docker(['network', 'rm', 'nosuch']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /network nosuch not found/);
    assert.equal((await request('GET', '/networks/nosuch')).status, 404);
    const predefined = await request('DELETE', '/networks/bridge');
    assert.equal(predefined.status, 403);
    assert.match(json(predefined.body).message, /bridge is a pre-defined network and cannot be removed/);
    assert.equal((await request('POST', '/networks/create', { body: '{"Name":"host"}' })).status, 403);
    for (const [body, status] of [
      ['{"Name":', 400],
      ['"net"', 400],
      ['{}', 400],
      ['{"Name":"x","Driver":"overlay"}', 404],
      ['{"Name":"x","IPAM":{"Config":[{"Subnet":"nonsense"}]}}', 400],
      ['{"Name":"x","IPAM":{"Config":"no"}}', 400],
      ['{"Name":"x","Internal":true}', 501],
      ['{"Name":"x","Options":{"com.docker.network.bridge.enable_icc":"false"}}', 501],
      ['{"Name":"x","Labels":{"a":[1]}}', 400],
    ] as const) {
      const r = await request('POST', '/networks/create', { body });
      assert.equal(r.status, status, body);
    }
    assert.equal((await request('GET', `/networks?filters=${encodeURIComponent('{"type":["weird"]}')}`)).status, 400);
  });

  test('connect and disconnect a created container, as compose does before it starts', async () => {
    berth(['create', '--name', 'c2', 'bb:1', 'true']);
    const con = s.docker(['network', 'connect', '--alias', 'web', 'net1', 'c2']);
    assert.equal(con.code, 0, con.stderr);
    assert.equal(berth(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'c2']), 'net1');
    // A network a container names is not dangling, and not pruned.
    assert.equal(s.docker(['network', 'ls', '-q', '--filter', 'dangling=true']).stdout, '');
    assert.equal(s.docker(['network', 'prune', '-f']).stdout, '');
    const dis = s.docker(['network', 'disconnect', 'net1', 'c2']);
    assert.equal(dis.code, 0, dis.stderr);
    assert.equal(berth(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'c2']), 'none');
    assert.equal(s.docker(['network', 'ls', '--format', '{{.Name}}', '--filter', 'dangling=true']).stdout, 'net1\n');
    const again = await request('POST', '/networks/net1/disconnect', { body: '{"Container":"c2"}' });
    assert.equal(again.status, 403);
    assert.equal((await request('POST', '/networks/net1/disconnect', { body: '{"Container":"c2","Force":true}' })).status, 200);
    // The raw body compose sends: the service name as an alias.
    const raw = await request('POST', '/v1.41/networks/net1/connect', { body: '{"Container":"c2","EndpointConfig":{"Aliases":["svc"]}}' });
    assert.equal(raw.status, 200, raw.body.toString());
    for (const [path, body, status] of [
      ['/networks/net1/connect', '{"Container":"nosuch"}', 404],
      ['/networks/nosuch/connect', '{"Container":"c2"}', 404],
      ['/networks/net1/connect', '{}', 400],
      ['/networks/net1/connect', '{"Container":"c2","EndpointConfig":{"Aliases":"svc"}}', 400],
      ['/networks/net1/connect', '{bad', 400],
      ['/networks/bridge/connect', '{"Container":"c2","EndpointConfig":{"Aliases":["x"]}}', 400],
    ] as const) {
      assert.equal((await request('POST', path, { body })).status, status, `${path} ${body}`);
    }
  });

  test("docker-compose 1.29's bodies (docker-py's nulls): project network and volume, created, inspected, removed", async () => {
    const labels = { 'com.docker.compose.network': 'default', 'com.docker.compose.project': 'proj', 'com.docker.compose.version': '1.29.2' };
    const net = await request('POST', '/v1.41/networks/create', {
      body: JSON.stringify({
        Name: 'proj_default',
        Driver: null,
        Options: null,
        IPAM: { Driver: null, Config: null, Options: null },
        CheckDuplicate: true,
        Labels: labels,
        Internal: false,
        Attachable: true,
      }),
    });
    assert.equal(net.status, 201, net.body.toString());
    assert.match(json(net.body).Id, /^[0-9a-f]{64}$/);
    assert.equal(json(net.body).Warning, '');
    const seen = json((await request('GET', '/v1.41/networks/proj_default')).body);
    // What compose compares with its file before it reuses the network.
    assert.deepEqual([seen.Driver, seen.Options, seen.Internal, seen.EnableIPv6, seen.Labels], ['bridge', {}, false, false, labels]);
    const byLabel = json((await request('GET', `/v1.41/networks?filters=${encodeURIComponent('{"label":["com.docker.compose.project=proj"]}')}`)).body);
    assert.deepEqual(
      byLabel.map((n: { Name: string }) => n.Name),
      ['proj_default'],
    );
    const vol = await request('POST', '/v1.41/volumes/create', {
      body: JSON.stringify({ Name: 'proj_data', Driver: null, DriverOpts: null, Labels: { 'com.docker.compose.project': 'proj' } }),
    });
    assert.equal(vol.status, 201, vol.body.toString());
    assert.equal(json(vol.body).Driver, 'local');
    assert.equal((await request('DELETE', '/v1.41/volumes/proj_data')).status, 204);
    assert.equal((await request('DELETE', '/v1.41/networks/proj_default')).status, 204);
    assert.equal((await request('GET', '/v1.41/networks/proj_default')).status, 404);
  });

  test('a running container: no connect to another network (501), its network is not removed (403)', async () => {
    assert.equal(s.docker(['network', 'create', 'net2']).code, 0);
    berth(['run', '-d', '--name', 'r1', '--network', 'net2', 'bb:1', 'sleep', '60']);
    const r1 = berth(['inspect', '--format', '{{.Id}}', 'r1']);
    const con = s.docker(['network', 'connect', 'net1', 'r1']);
    assert.equal(con.code, 1);
    assert.match(con.stderr, /cannot connect to another network a running container/);
    const rm = s.docker(['network', 'rm', 'net2']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /error while removing network: network net2 id [0-9a-f]{64} has active endpoints/);
    const [n] = JSON.parse(s.docker(['network', 'inspect', 'net2']).stdout);
    assert.deepEqual(Object.keys(n.Containers), [r1]);
    assert.equal(n.Containers[r1].Name, 'r1');
    assert.match(n.Containers[r1].IPv4Address, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    berth(['rm', '-f', 'r1']);
    assert.equal(s.docker(['network', 'rm', 'net2']).stdout, 'net2\n');
  });

  test('network prune removes what no container names; rm removes', () => {
    assert.equal(s.docker(['network', 'create', 'spare']).code, 0);
    // Created just now: not before an hour ago.
    assert.equal(s.docker(['network', 'prune', '-f', '--filter', 'until=1h']).stdout, '');
    const p = s.docker(['network', 'prune', '-f']);
    assert.equal(p.stdout, 'Deleted Networks:\nspare\n\n');
    berth(['rm', 'c2']);
    assert.equal(s.docker(['network', 'rm', 'net1']).stdout, 'net1\n');
    assert.equal(s.docker(['network', 'ls', '-q', '--filter', 'type=custom']).stdout, '');
  });

  test('docker system df prints the images, containers, volumes and build cache', async () => {
    const df = s.docker(['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\n/);
    assert.match(df.stdout, /\nImages\s+1\s+1\s+\S+/);
    assert.match(df.stdout, /\nContainers\s+1\s+0\s+/);
    assert.match(df.stdout, /\nLocal Volumes\s+1\s+1\s+/);
    assert.match(df.stdout, /\nBuild Cache\s+0\s+0\s+0B\s+0B\n/);
    const v = s.docker(['system', 'df', '-v']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /\nbb\s+1\s+[0-9a-f]{12}\s/);
    assert.match(v.stdout, /\nvol1\s+1\s+\S+\n/);
    assert.match(v.stdout, /\s+holder\n/);
    const raw = json((await request('GET', '/system/df')).body);
    assert.ok(raw.LayersSize > 0);
    assert.equal(raw.Images[0].Containers, 1);
    assert.equal(raw.Images[0].Size, raw.LayersSize);
    assert.equal(raw.Containers[0].Names[0], '/holder');
    assert.equal(raw.Volumes[0].UsageData.RefCount, 1);
    assert.deepEqual(raw.BuildCache, []);
  });
});
