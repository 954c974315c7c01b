/**
 * The container endpoints but the streams, driven by the real docker CLI 28 against `berth
 * serve`, plus raw HTTP for what a hostile or sloppy client sends. Containers are started
 * with berth's own CLI (the state is shared), so these tests need no attach or start route.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ContainerView, json, runnersFor, startServe, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';

/**
 * POSTs `size` bytes of JSON-ish body on a raw socket and returns what the server answered:
 * the server may answer and close before the body is all sent, which a plain client reports
 * as EPIPE instead of the reply.
 */
function sendHuge(socketPath: string, path: string, size: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    let reply = '';
    sock.on('data', (d) => (reply += d.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(reply));
    sock.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`);
    const chunk = Buffer.alloc(64 << 10, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < size && !sock.destroyed) {
        sent += chunk.length;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
      sock.end();
    };
    pump();
  });
}

describe('berth serve: containers', () => {
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

  test('create maps the body: name, labels, env, workdir, ports, binds, and inspect shows them', () => {
    const id = ok([
      'create',
      '--name',
      'c1',
      '--label',
      'team=ml',
      '-e',
      'A=1',
      '-w',
      '/work',
      '-p',
      '127.0.0.1:0:80',
      '--tmpfs',
      '/scratch',
      '--stop-timeout',
      '3',
      'bb:1',
      'sleep',
      '60',
    ]).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const [view] = JSON.parse(ok(['inspect', 'c1'])) as ContainerView[];
    assert.equal(view!.Id, id);
    assert.equal(view!.Name, '/c1');
    assert.equal(view!.Config.Labels.team, 'ml');
    assert.ok(view!.Config.Env.includes('A=1'));
    assert.equal(view!.Config.WorkingDir, '/work');
    assert.equal(view!.Config.Tty, false);
    assert.equal(view!.Config.OpenStdin, false);
    assert.equal(view!.HostConfig.AutoRemove, false);
    assert.deepEqual(view!.HostConfig.PortBindings['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: '' }]);
    assert.equal(view!.State.Status, 'created');
    assert.deepEqual(view!.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    // The CLI's inspect of the same container agrees with the API's.
    const [mine] = JSON.parse(berth(['inspect', 'c1'])) as ContainerView[];
    assert.deepEqual(mine!.Config, view!.Config);
    assert.deepEqual(mine!.HostConfig, view!.HostConfig);
  });

  test('create: a missing image is 404 with the ref as typed (the CLI pulls on it), a name in use is 409', async () => {
    const r = await s.request('POST', '/v1.41/containers/create', {
      body: JSON.stringify({ Image: 'nosuch:9' }),
      headers: { 'Content-Type': 'application/json', Connection: 'close' },
    });
    assert.equal(r.status, 404);
    assert.equal(json(r.body).message, 'No such image: nosuch:9');
    const volumesBefore = berth(['volume', 'ls', '-q']);
    const dup = docker(['create', '--name', 'c1', '-v', '/anon', 'bb:1', 'true']);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /Conflict\. The container name "\/c1" is already in use by container "[0-9a-f]{64}"\. You have to remove \(or rename\)/);
    const bind = docker(['create', '--mount', 'type=bind,source=/nonexistent-berth-src,target=/x', 'bb:1', 'true']);
    assert.notEqual(bind.code, 0);
    assert.match(bind.stderr, /bind source path does not exist: \/nonexistent-berth-src/);
    assert.doesNotMatch(bind.stderr, /Unable to find image/);
    // Refused before anything was made for it: no anonymous volume is left behind.
    assert.equal(berth(['volume', 'ls', '-q']), volumesBefore);
  });

  test('ps -a with filters: label, name, status, ancestor, id; rows carry names, state and status text', () => {
    const running = berth(['run', '-d', '--name', 'r1', '--label', 'team=ml', '--label', 'tier=web', 'bb:1', 'sleep', '300']);
    assert.equal(berthIn(s.root, ['run', '--name', 'done1', 'bb:1', 'sh', '-c', 'exit 3']).code, 3);
    const names = (args: string[]) =>
      ok(['ps', '-a', '--format', '{{.Names}}', ...args])
        .split('\n')
        .filter(Boolean)
        .sort();
    assert.deepEqual(names(['--filter', 'label=team=ml']), ['c1', 'r1']);
    assert.deepEqual(names(['--filter', 'label=tier']), ['r1']);
    assert.deepEqual(names(['--filter', 'name=done']), ['done1']);
    assert.deepEqual(names(['--filter', 'status=exited']), ['done1']);
    assert.deepEqual(names(['--filter', 'status=running']), ['r1']);
    assert.deepEqual(names(['--filter', 'status=created']), ['c1']);
    assert.deepEqual(names(['--filter', 'exited=3']), ['done1']);
    assert.deepEqual(names(['--filter', 'ancestor=bb:1']), ['c1', 'done1', 'r1']);
    assert.deepEqual(names(['--filter', `id=${running.slice(0, 10)}`]), ['r1']);
    assert.deepEqual(names(['--filter', 'ancestor=nosuch']), []);
    // berth ps takes the same filters and finds the same containers.
    assert.equal(berth(['ps', '-a', '--filter', 'label=team=ml', '--filter', 'status=running', '--format', '{{.Names}}']), 'r1');
    // Without -a only the running one; the status column is docker's text.
    const plain = ok(['ps', '--format', '{{.Names}}|{{.Status}}|{{.Image}}']).trim();
    assert.match(plain, /^r1\|Up .+\|bb:1$/);
    assert.match(ok(['ps', '-a', '--filter', 'name=done1', '--format', '{{.Status}}']), /^Exited \(3\) .* ago\n$/);
  });

  test('inspect of a running container: state, pid, network; unknown is docker\'s "No such object"', () => {
    const [v] = JSON.parse(ok(['inspect', 'r1'])) as ContainerView[];
    assert.equal(v!.State.Running, true);
    assert.equal(v!.State.Status, 'running');
    assert.ok(v!.State.Pid > 0);
    assert.ok(v!.NetworkSettings.Networks.bridge, JSON.stringify(v!.NetworkSettings));
    assert.match(v!.NetworkSettings.Networks.bridge.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    const r = docker(['inspect', 'nosuch-ctr']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such object: nosuch-ctr/);
  });

  test("top lists the container's processes; stats --no-stream shows its memory", () => {
    const t = ok(['top', 'r1']);
    assert.match(t.split('\n')[0]!, /PID/);
    assert.match(t, /sleep 300/);
    const st = ok(['stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.PIDs}}', 'r1']).trim();
    assert.match(st, /^r1\|[\d.]+[KMG]?i?B \/ [\d.]+[KMG]i?B\|1$/);
  });

  test('diff lists what the container changed; export is a tar of its rootfs', () => {
    berth(['exec', 'r1', 'sh', '-c', 'mkdir -p /tmp && echo x > /tmp/added && rm /bin/false']);
    const d = ok(['diff', 'r1']).split('\n').filter(Boolean);
    assert.ok(d.includes('A /tmp/added'), d.join('\n'));
    assert.ok(d.includes('D /bin/false'), d.join('\n'));
    assert.ok(d.includes('C /bin'), d.join('\n'));
    const tar = spawnSync('sh', ['-c', `docker export r1 | tar t`], { env: { ...process.env, DOCKER_HOST: s.host } });
    assert.equal(tar.status, 0, tar.stderr.toString());
    const entries = tar.stdout.toString().split('\n');
    assert.ok(entries.includes('bin/busybox'), entries.slice(0, 20).join(' '));
    assert.ok(entries.includes('tmp/added'));
    assert.ok(!entries.includes('bin/false'));
    // ps -s: the bytes it wrote, and those with its image's.
    const size = ok(['ps', '-s', '--filter', 'name=r1', '--format', '{{.Size}}']).trim();
    assert.match(size, /^\d+(\.\d+)?[kMG]?B \(virtual [\d.]+[kMG]?B\)$/);
    assert.notEqual(size.split(' ')[0], '0B');
    // The container was frozen only for the export.
    const [v] = JSON.parse(ok(['inspect', 'r1'])) as ContainerView[];
    assert.equal(v!.State.Paused, false);
  });

  test('pause and unpause freeze and thaw it; ps shows it paused', () => {
    ok(['pause', 'r1']);
    assert.match(ok(['ps', '--filter', 'name=r1', '--format', '{{.Status}}']), /\(Paused\)/);
    assert.equal(JSON.parse(ok(['inspect', 'r1']))[0].State.Paused, true);
    const again = docker(['pause', 'r1']);
    assert.match(again.stderr, /is already paused/);
    ok(['unpause', 'r1']);
    assert.equal(JSON.parse(ok(['inspect', 'r1']))[0].State.Status, 'running');
    assert.match(docker(['unpause', 'r1']).stderr, /is not paused/);
  });

  test("rm of a running container is 409 with docker's words; rename; kill; stop of a stopped one prints its name", () => {
    const rm = docker(['rm', 'r1']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
    ok(['rename', 'r1', 'r2']);
    assert.equal(JSON.parse(ok(['inspect', 'r2']))[0].Name, '/r2');
    assert.match(docker(['rename', 'r2', 'c1']).stderr, /Conflict\. The container name "\/c1" is already in use/);
    ok(['kill', 'r2']);
    assert.match(ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'r2']), /^exited 137/);
    const k = docker(['kill', 'r2']);
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /is not running/);
    assert.equal(ok(['stop', 'r2']), 'r2\n');
  });

  test('restart starts a stopped container again, and a running one under a new process; stop stops it', () => {
    ok(['restart', '-t', '1', 'r2']);
    const first = JSON.parse(ok(['inspect', 'r2']))[0].State;
    assert.equal(first.Status, 'running');
    ok(['restart', '-t', '1', 'r2']);
    const second = JSON.parse(ok(['inspect', 'r2']))[0].State;
    assert.equal(second.Status, 'running');
    assert.notEqual(second.Pid, first.Pid);
    // The restarted container is a working one.
    assert.equal(berth(['exec', 'r2', 'echo', 'alive']), 'alive');
    ok(['stop', '-t', '1', 'r2']);
    assert.equal(JSON.parse(ok(['inspect', 'r2']))[0].State.Status, 'exited');
  });

  test('rm removes; container prune -f removes the stopped ones and reports them', () => {
    ok(['rm', 'r2']);
    assert.match(docker(['inspect', 'r2']).stderr, /No such object/);
    const keep = berth(['run', '-d', '--name', 'keep', 'bb:1', 'sleep', '300']);
    ok(['create', '--name', 'old-a', '--label', 'batch=a', 'bb:1', 'true']);
    const b = ok(['create', '--name', 'old-b', '--label', 'batch=b', 'bb:1', 'true']).trim();
    // The newest first, and -n counts stopped ones too.
    assert.equal(ok(['ps', '-n', '1', '--format', '{{.Names}}']), 'old-b\n');
    assert.equal(ok(['ps', '-a', '--filter', 'before=old-b', '--filter', 'since=keep', '--format', '{{.Names}}']), 'old-a\n');
    // A container that never ran: its filesystem is mounted for the export and the diff only.
    const tar = spawnSync('sh', ['-c', 'docker export old-a | tar t'], { env: { ...process.env, DOCKER_HOST: s.host } });
    assert.ok(tar.stdout.toString().split('\n').includes('bin/busybox'), tar.stderr.toString());
    assert.equal(ok(['diff', 'old-a']), '');
    const a = JSON.parse(ok(['inspect', 'old-a']))[0].Id as string;
    assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(`/active/${a}/merged`), 'the overlay was taken down again');
    const some = ok(['container', 'prune', '-f', '--filter', 'label=batch=b']);
    assert.match(some, new RegExp(`Deleted Containers:\n${b}\n`));
    assert.match(ok(['ps', '-a', '--format', '{{.Names}}']), /old-a/);
    const out = ok(['container', 'prune', '-f']);
    assert.match(out, /Deleted Containers:/);
    const left = ok(['ps', '-a', '--format', '{{.Names}}']).split('\n').filter(Boolean);
    assert.deepEqual(left, ['keep']);
    assert.ok(keep);
    ok(['rm', '-f', 'keep']);
    assert.equal(ok(['ps', '-aq']), '');
  });

  test('hostile input: malformed JSON, bad filters, unknown containers, restart policies, huge bodies', async () => {
    // One connection per request: a kept-alive socket the server has since closed fails as EPIPE.
    const request = (method: string, path: string, body?: string) =>
      s.request(method, path, { body, headers: { Connection: 'close', ...(body ? { 'Content-Type': 'application/json' } : {}) } });
    const post = (path: string, body: string) => request('POST', path, body);
    const bad = await post('/containers/create', '{"Image": "bb:1",');
    assert.equal(bad.status, 400);
    assert.match(json(bad.body).message!, /invalid JSON/);
    const wrongType = await post('/containers/create', JSON.stringify({ Image: 'bb:1', Cmd: 5 }));
    assert.equal(wrongType.status, 400);
    assert.match(json(wrongType.body).message!, /Cmd/);
    const sometimes = await post('/containers/create', JSON.stringify({ Image: 'bb:1', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }));
    assert.equal(sometimes.status, 400);
    assert.match(json(sometimes.body).message!, /invalid restart policy: unknown policy 'sometimes'/);
    const shared = await post('/containers/create', JSON.stringify({ Image: 'bb:1', HostConfig: { NetworkMode: 'container:x' } }));
    assert.equal(shared.status, 400);
    const filters = await request('GET', '/containers/json?filters=%7Bnot-json');
    assert.equal(filters.status, 400);
    const unknownFilter = await request('GET', `/containers/json?filters=${encodeURIComponent('{"colour":["red"]}')}`);
    assert.equal(unknownFilter.status, 400);
    assert.match(json(unknownFilter.body).message!, /invalid filter 'colour'/);
    for (const [method, path] of [
      ['GET', '/containers/nosuch/json'],
      ['DELETE', '/containers/nosuch'],
      ['POST', '/containers/nosuch/stop'],
      ['POST', '/containers/nosuch/kill'],
      ['GET', '/containers/nosuch/top'],
      ['GET', '/containers/nosuch/changes'],
      ['GET', '/containers/nosuch/stats?stream=0'],
    ] as const) {
      const r = await request(method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(json(r.body).message, 'No such container: nosuch');
    }
    const sig = await request('POST', '/containers/nosuch/kill?signal=NOPE');
    assert.equal(sig.status, 400);
    const huge = await sendHuge(s.socket, '/containers/create', 10 << 20);
    assert.match(huge, /^HTTP\/1\.1 400 /);
    assert.match(huge, /too large/);
    assert.equal((await request('GET', '/containers/json?all=1')).status, 200);
  });
});
