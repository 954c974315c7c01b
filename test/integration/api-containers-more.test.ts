/**
 * More of the container endpoints through real clients: random host ports, dockerode's
 * duplicated query, a stats stream, the 20.10 CLI, devices, network modes, diff over an
 * image's deletions, and berth's own CLI on the same services. Containers are started with
 * berth's CLI (the state is shared), so these tests need no start route.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DOCKER_20, type ContainerView, json, runnersFor, startServe, type ServeHandle } from '../helpers/api-server.ts';
import { BERTH } from '../helpers/berth.ts';

describe('berth serve: containers, more', () => {
  let s: ServeHandle;
  const { berth, ok } = runnersFor(() => s);
  const docker = (args: readonly string[], opts: { input?: string } = {}) => s.docker(args, opts);

  before(async () => {
    s = await startServe({ busybox: true });
  });
  after(async () => {
    if (!s) return;
    await s.stop();
  });

  test('diff: a file an image layer deleted and the container made again is added, not modified', () => {
    const ctx = mkdtempSync(join(tmpdir(), 'berth-api-ctx-'));
    try {
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nRUN rm /bin/false\n');
      berth(['build', '-q', '-t', 'bb:nofalse', ctx]);
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
    berth(['run', '-d', '--name', 'wh1', 'bb:nofalse', 'sleep', '300']);
    berth(['exec', 'wh1', 'touch', '/bin/false']);
    const d = ok(['diff', 'wh1']).split('\n').filter(Boolean).sort();
    assert.deepEqual(d, ['A /bin/false', 'C /bin']);
    ok(['rm', '-f', 'wh1']);
  });

  test('a random host port (HostPort "0") is chosen at start and shown by port, ps and inspect', () => {
    ok(['create', '--name', 'p1', '-p', '0:80', 'bb:1', 'sleep', '300']);
    berth(['start', 'p1']);
    const port = ok(['port', 'p1', '80/tcp']).trim();
    assert.match(port, /^0\.0\.0\.0:(\d+)$/);
    const hostPort = port.split(':')[1];
    assert.notEqual(hostPort, '0');
    assert.equal(ok(['ps', '--filter', `publish=${hostPort}`, '--filter', 'expose=80/tcp', '--format', '{{.Names}}']), 'p1\n');
    assert.equal(ok(['ps', '--filter', 'expose=81', '--format', '{{.Names}}']), '');
    assert.equal(ok(['ps', '--filter', 'health=none', '--filter', 'name=p1', '--format', '{{.Names}}']), 'p1\n');
    assert.equal(ok(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}']), '');
    assert.match(ok(['ps', '--filter', 'name=p1', '--format', '{{.Ports}}']), new RegExp(`0\\.0\\.0\\.0:${hostPort}->80/tcp`));
    ok(['rm', '-f', 'p1']);
  });

  test('dockerode repeats the body in the query: only name is taken from it; stats streams until the client leaves', async () => {
    const body = JSON.stringify({ Image: 'bb:1', Cmd: ['sleep', '300'], Labels: { from: 'body' } });
    const r = await s.request('POST', '/containers/create?name=q1&Image=nosuch&Cmd=false&Labels=%7B%7D', {
      body,
      headers: { 'Content-Type': 'application/json', Connection: 'close' },
    });
    assert.equal(r.status, 201, r.body.toString());
    const created = json(r.body) as { Id: string; Warnings: unknown[] };
    assert.deepEqual(created.Warnings, []);
    const [v] = JSON.parse(ok(['inspect', 'q1'])) as ContainerView[];
    assert.equal(v!.Id, created.Id);
    assert.equal(v!.Config.Labels.from, 'body');
    berth(['start', 'q1']);
    const objects = await new Promise<Array<{ id: string; pids_stats: { current: number } }>>((resolve, reject) => {
      const req = httpRequest({ socketPath: s.socket, path: '/containers/q1/stats', headers: { Connection: 'close' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
          const lines = text.split('\n').filter(Boolean);
          if (lines.length >= 2) {
            req.destroy();
            resolve(lines.slice(0, 2).map((l) => JSON.parse(l)));
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(objects[0]!.id, created.Id);
    assert.equal(objects[1]!.pids_stats.current, 1);
    // The server goes on answering after the client left mid-stream.
    assert.equal(JSON.parse(ok(['inspect', 'q1']))[0].State.Running, true);
    ok(['rm', '-f', 'q1']);
  });

  test('the docker CLI 20.10 lists and inspects through the same endpoints', () => {
    berth(['run', '-d', '--name', 'old1', 'bb:1', 'sleep', '300']);
    const r = s.docker(['ps', '--format', '{{.Names}} {{.Image}}'], { cli: DOCKER_20 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^old1 bb:1$/m);
    const i = s.docker(['inspect', '-f', '{{.State.Status}} {{.Name}}', 'old1'], { cli: DOCKER_20 });
    assert.equal(i.stdout, 'running /old1\n');
    ok(['rm', '-f', 'old1']);
  });

  test('a host device given to create is a device node in the container; a missing one is refused at create', () => {
    ok(['create', '--name', 'dev1', '--device', '/dev/null:/dev/mynull', 'bb:1', 'sleep', '300']);
    berth(['start', 'dev1']);
    assert.equal(berth(['exec', 'dev1', 'sh', '-c', 'echo gone > /dev/mynull && ls -l /dev/mynull']).slice(0, 1), 'c');
    assert.deepEqual(JSON.parse(ok(['inspect', 'dev1']))[0].HostConfig.Devices, [
      { PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rwm' },
    ]);
    ok(['rm', '-f', 'dev1']);
    const missing = docker(['create', '--device', '/dev/nosuch-device', 'bb:1', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/nosuch-device"/);
  });

  test("berth's own CLI has the same verbs on the same services: rename, pause, top, diff, export, restart", () => {
    berth(['run', '-d', '--name', 'cli1', 'bb:1', 'sleep', '300']);
    berth(['rename', 'cli1', 'cli2']);
    assert.equal(JSON.parse(ok(['inspect', 'cli2']))[0].Name, '/cli2');
    berth(['pause', 'cli2']);
    assert.equal(JSON.parse(ok(['inspect', 'cli2']))[0].State.Status, 'paused');
    berth(['unpause', 'cli2']);
    assert.match(berth(['top', 'cli2']), /sleep 300/);
    berth(['exec', 'cli2', 'touch', '/made']);
    assert.equal(berth(['diff', 'cli2']), ok(['diff', 'cli2']).trim());
    const tar = spawnSync('sh', ['-c', `"$0" --root "$1" export cli2 | tar t`, BERTH, s.root]);
    assert.ok(tar.stdout.toString().split('\n').includes('made'), tar.stderr.toString());
    assert.match(berth(['stats', '--no-stream', 'cli2']), /cli2\s+[\d.]+%/);
    berth(['restart', '-t', '0', 'cli2']);
    assert.equal(JSON.parse(ok(['inspect', 'cli2']))[0].State.Running, true);
    // A frozen container takes no signal: rm -f thaws it first, as docker does.
    berth(['pause', 'cli2']);
    ok(['rm', '-f', 'cli2']);
    assert.match(docker(['inspect', 'cli2']).stderr, /No such object/);
  });

  test('network modes: a user network with aliases, none and host; aliases on the bridge are refused', () => {
    berth(['network', 'create', 'api-net']);
    ok(['create', '--name', 'un', '--network', 'api-net', '--network-alias', 'web', 'bb:1', 'sleep', '300']);
    const [v] = JSON.parse(ok(['inspect', 'un'])) as ContainerView[];
    assert.equal(v!.HostConfig.NetworkMode, 'api-net');
    const endpoint = v!.NetworkSettings.Networks['api-net']!;
    assert.deepEqual(endpoint.Aliases, ['web']);
    assert.match(endpoint.NetworkID, /^[0-9a-f]{64}$/);
    for (const mode of ['none', 'host']) {
      ok(['create', '--name', `m-${mode}`, '--network', mode, 'bb:1', 'true']);
      assert.equal(ok(['inspect', '-f', '{{.HostConfig.NetworkMode}}', `m-${mode}`]), `${mode}\n`);
    }
    const refused = docker(['create', '--network', 'bridge', '--network-alias', 'x', 'bb:1', 'true']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /network-scoped alias/);
    const missing = docker(['create', '--network', 'nosuch-net', 'bb:1', 'true']);
    assert.notEqual(missing.code, 0);
    ok(['rm', 'un', 'm-none', 'm-host']);
    berth(['network', 'rm', 'api-net']);
  });
});
