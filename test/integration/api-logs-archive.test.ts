/**
 * `berth serve`'s container logs and archive endpoints (`docker logs`, `docker cp`), bad
 * input to the stream endpoints, and clients that leave mid-stream.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { berthIn, tempRoot } from '../helpers/berth.ts';
import { runnersFor, startServe, type ServeHandle } from '../helpers/api-server.ts';
import { attachRequest, HANDSHAKE, rawExchange, sleep } from '../helpers/api-streams.ts';

describe('berth serve: container logs and archive', () => {
  let s: ServeHandle;
  const { create, state } = runnersFor(() => s);
  const t = tempRoot('berth-api-io-');

  before(async () => {
    s = await startServe({ root: t.root, busybox: true });
  });
  after(async () => {
    await s.stop();
    t.cleanup();
  });

  test('docker logs: frames per line, --tail, -t; logs -f follows until the exit', async () => {
    const id = create('bb:1', 'sh', '-c', 'echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three');
    await s.request('POST', `/containers/${id}/start`);
    await s.request('POST', `/containers/${id}/wait`);
    const raw = await s.request('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
    assert.equal(raw.body.toString('hex'), ['0100000000000004', '6f6e650a', '0200000000000004', '74776f0a', '0100000000000006', '74687265650a'].join(''));
    const none = await s.request('GET', `/containers/${id}/logs`);
    assert.equal(none.status, 400);
    const stamped = await s.request('GET', `/containers/${id}/logs?stdout=1&tail=1&timestamps=1`);
    assert.match(stamped.body.subarray(8).toString(), /^\d{4}-\d\d-\d\dT[\d:.]+Z three\n$/);
    const all = s.docker(['logs', id]);
    assert.equal(all.stdout, 'one\nthree\n');
    assert.equal(all.stderr, 'two\n');
    const tail = s.docker(['logs', '--tail', '1', '-t', id]);
    assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z three\n$/);
    const f = create('bb:1', 'sh', '-c', 'for i in 1 2 3 4; do echo n$i; sleep 0.3; done');
    await s.request('POST', `/containers/${f}/start`);
    const follow = s.docker(['logs', '-f', '--tail', '2', '-t', f]);
    assert.equal(follow.code, 0, follow.stderr);
    assert.match(follow.stdout, /Z n4\n$/);
    assert.ok(follow.stdout.split('\n').filter(Boolean).length >= 2);
  });

  test('bad input: unknown container (404, also on an upgrade), bad detach keys, bad since, no streams', async () => {
    const unknown = await rawExchange(s.socket, attachRequest('nosuch', 'stdout=1&stream=1'), [], 5000);
    assert.match(unknown.toString(), /^HTTP\/1\.1 404 .*\r\n[\s\S]*No such container: nosuch/);
    const id = create('bb:1', 'sh', '-c', 'echo a; sleep 1; echo b');
    const keys = await rawExchange(s.socket, attachRequest(id, 'stdout=1&stream=1&detachKeys=ctrl-%C3%A9'), [], 5000);
    assert.match(keys.toString(), /^HTTP\/1\.1 400 [\s\S]*Invalid detach keys/);
    assert.equal((await s.request('GET', `/containers/${id}/logs?stdout=1&since=yesterday`)).status, 400);
    assert.equal((await s.request('GET', '/containers/nosuch/logs?stdout=1')).status, 404);
    assert.equal((await s.request('POST', `/containers/${id}/resize?h=-1&w=5`)).status, 400);
    await s.request('POST', `/containers/${id}/start`);
    await s.request('POST', `/containers/${id}/wait`);
    // since and until pick lines by their time; logs=1 on an attach replays the log.
    const all = await s.request('GET', `/containers/${id}/logs?stdout=1&timestamps=1`);
    const second = all.body.subarray(8 + all.body.readUInt32BE(4) + 8).toString();
    const secondTime = Date.parse(second.split(' ')[0]!) / 1000;
    const since = await s.request('GET', `/containers/${id}/logs?stdout=1&since=${(secondTime - 0.001).toFixed(3)}`);
    assert.equal(since.body.subarray(8).toString(), 'b\n');
    const until = await s.request('GET', `/containers/${id}/logs?stdout=1&until=${(secondTime - 0.001).toFixed(3)}`);
    assert.equal(until.body.subarray(8).toString(), 'a\n');
    const replay = await rawExchange(s.socket, attachRequest(id, 'stdout=1&logs=1&stream=0'), [], 5000);
    assert.equal(
      replay.subarray(HANDSHAKE.length).toString('hex'),
      `0100000000000002${Buffer.from('a\n').toString('hex')}0100000000000002${Buffer.from('b\n').toString('hex')}`,
    );
  });

  test('a client disconnecting mid-stream (attach, logs -f) leaves the server up', async () => {
    const id = create('bb:1', 'sh', '-c', 'while true; do echo tick; sleep 0.1; done');
    await s.request('POST', `/containers/${id}/start`);
    await rawExchange(s.socket, attachRequest(id, 'stdout=1&stream=1'), [300], 1000).catch(() => undefined);
    await rawExchange(s.socket, `GET /containers/${id}/logs?stdout=1&follow=1 HTTP/1.1\r\nHost: x\r\n\r\n`, [300], 1000).catch(() => undefined);
    assert.equal((await s.request('GET', '/_ping')).status, 200);
    assert.equal(state(id), 'running 0');
    berthIn(s.root, ['rm', '-f', id]);
  });

  test('a client that reads nothing is dropped once too far behind; the container and the server go on', async () => {
    const id = create('bb:1', 'sh', '-c', 'head -c 18000000 /dev/urandom | base64 -w 65536; echo done');
    const sock = connect(s.socket);
    sock.on('error', () => undefined);
    await new Promise((r) => sock.on('connect', r));
    sock.write(attachRequest(id, 'stdout=1&stream=1'));
    await new Promise((r) => sock.once('data', r)); // the 101
    sock.pause(); // then reads nothing while the container writes 24 MB
    await s.request('POST', `/containers/${id}/start`);
    const w = await s.request('POST', `/containers/${id}/wait`);
    assert.deepEqual(JSON.parse(w.body.toString()), { Error: null, StatusCode: 0 });
    let received = 0;
    sock.on('data', (d: Buffer) => (received += d.length));
    await new Promise((r) => sock.on('close', r).resume());
    assert.ok(received < 22_000_000, `the server kept ${received} bytes for a client that read nothing`);
    assert.equal((await s.request('GET', '/_ping')).status, 200);
  });

  test('docker cp both ways, a HEAD stat, and hostile paths that stay inside the rootfs', async () => {
    const id = create(
      'bb:1',
      'sh',
      '-c',
      'mkdir -p /data/sub; echo inside > /data/sub/f; ln -s /etc /data/etclink; ln -s ../../../../../../etc/hostname /up; sleep 30',
    );
    await s.request('POST', `/containers/${id}/start`);
    await sleep(500);
    const dir = mkdtempSync(join(tmpdir(), 'berth-cp-'));
    try {
      const out = s.docker(['cp', `${id}:/data`, join(dir, 'data')]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(readFileSync(join(dir, 'data/sub/f'), 'utf8'), 'inside\n');
      writeFileSync(join(dir, 'in.txt'), 'from host\n');
      const into = s.docker(['cp', join(dir, 'in.txt'), `${id}:/data/sub/`]);
      assert.equal(into.code, 0, into.stderr);
      assert.equal(berthIn(s.root, ['exec', id, 'cat', '/data/sub/in.txt']).stdout, 'from host\n');
      // A new name in the container, a host dir in, and a tar on stdout, as docker cp does them.
      assert.equal(s.docker(['cp', join(dir, 'in.txt'), `${id}:/data/renamed.txt`]).code, 0);
      mkdirSync(join(dir, 'tree', 'deep'), { recursive: true });
      writeFileSync(join(dir, 'tree', 'deep', 'leaf'), 'leaf\n');
      assert.equal(s.docker(['cp', join(dir, 'tree'), `${id}:/data/`]).code, 0);
      assert.equal(berthIn(s.root, ['exec', id, 'cat', '/data/renamed.txt', '/data/tree/deep/leaf']).stdout, 'from host\nleaf\n');
      const tarOut = s.docker(['cp', `${id}:/data/sub/f`, '-']);
      assert.equal(tarOut.code, 0, tarOut.stderr);
      assert.ok(tarOut.stdout.startsWith('f\0'), 'a tar whose first entry is f');
      assert.ok(tarOut.stdout.includes('inside\n'));
      const head = await s.request('HEAD', `/containers/${id}/archive?path=/data/sub/f`);
      assert.equal(head.status, 200);
      const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString());
      assert.equal(stat.name, 'f');
      assert.equal(stat.size, 7);
      const link = await s.request('HEAD', `/containers/${id}/archive?path=/data/etclink`);
      assert.equal(JSON.parse(Buffer.from(String(link.headers['x-docker-container-path-stat']), 'base64').toString()).linkTarget, '/etc');
      const missing = await s.request('GET', `/containers/${id}/archive?path=/nope`);
      assert.equal(missing.status, 404);
      assert.match(JSON.parse(missing.body.toString()).message, new RegExp(`Could not find the file /nope in container ${id}`));
      // A link climbing out of the rootfs resolves inside it: the container's /etc/hostname, not the host's.
      const up = s.docker(['cp', '-L', `${id}:/up`, join(dir, 'up')]);
      assert.equal(up.code, 0, up.stderr);
      assert.notEqual(readFileSync(join(dir, 'up'), 'utf8'), readFileSync('/etc/hostname', 'utf8'));
      // A hostile tar: `../../` entries are refused, nothing lands outside.
      const evil = join(dir, 'evil');
      mkdirSync(join(evil, 'a'), { recursive: true });
      writeFileSync(join(evil, 'a', 'x'), 'x');
      const tar = spawnSync('tar', ['-C', evil, '-cf', '-', '--transform', 's|^a/x|../../../../../tmp/berth-escape-x|', 'a/x']).stdout;
      const put = await s.request('PUT', `/containers/${id}/archive?path=/data`, { body: tar, headers: { 'Content-Type': 'application/x-tar' } });
      assert.equal(put.status, 400, put.body.toString());
      assert.equal(existsSync('/tmp/berth-escape-x'), false);
      const dots = await s.request('GET', `/containers/${id}/archive?path=../../../etc/hostname`);
      assert.equal(dots.status, 200);
      // A dir's tar names its entries from the path's last component.
      const tarOf = await s.request('GET', `/containers/${id}/archive?path=/data/sub`);
      writeFileSync(join(dir, 'sub.tar'), tarOf.body);
      assert.deepEqual(
        spawnSync('tar', ['-tf', join(dir, 'sub.tar')])
          .stdout.toString()
          .split('\n')
          .filter(Boolean)
          .sort(),
        ['sub/', 'sub/f', 'sub/in.txt'],
      );
      // Into a link to /etc: the container's /etc gets the file, the host's does not.
      writeFileSync(join(evil, 'berth-api-io-probe'), 'probe');
      const probeTar = spawnSync('tar', ['-C', evil, '-cf', '-', 'berth-api-io-probe']).stdout;
      assert.equal((await s.request('PUT', `/containers/${id}/archive?path=/data/etclink`, { body: probeTar })).status, 200);
      assert.equal(berthIn(s.root, ['exec', id, 'cat', '/etc/berth-api-io-probe']).stdout, 'probe');
      assert.equal(existsSync('/etc/berth-api-io-probe'), false);
      // A tar that plants a link to / and writes through it stays inside the target dir.
      mkdirSync(join(evil, 't'));
      spawnSync('ln', ['-s', '/', join(evil, 't', 'root')]);
      mkdirSync(join(evil, 'u', 'root', 'tmp'), { recursive: true });
      writeFileSync(join(evil, 'u', 'root', 'tmp', 'berth-escape-y'), 'y');
      const linkTar = Buffer.concat([
        spawnSync('tar', ['-C', join(evil, 't'), '-cf', '-', 'root']).stdout.subarray(0, -1024),
        spawnSync('tar', ['-C', join(evil, 'u'), '-cf', '-', 'root/tmp/berth-escape-y']).stdout,
      ]);
      await s.request('PUT', `/containers/${id}/archive?path=/data`, { body: linkTar });
      assert.equal(existsSync('/tmp/berth-escape-y'), false);
      // docker cp's noOverwriteDirNonDir: a file named like a dir there is refused, and the dir stays.
      writeFileSync(join(evil, 'sub'), 'not a dir');
      const clash = await s.request('PUT', `/containers/${id}/archive?path=/data&noOverwriteDirNonDir=true`, {
        body: spawnSync('tar', ['-C', evil, '-cf', '-', 'sub']).stdout,
      });
      assert.equal(clash.status, 400);
      assert.match(JSON.parse(clash.body.toString()).message, /cannot overwrite directory/);
      const kept = berthIn(s.root, ['exec', id, 'cat', '/data/sub/f']);
      assert.equal(kept.stdout, 'inside\n', `exec exited ${kept.code}: ${kept.stderr}`);
      // `.wh.f` copied in is a file of that name, not a deletion of f.
      writeFileSync(join(evil, '.wh.f'), 'just a name');
      assert.equal(
        (await s.request('PUT', `/containers/${id}/archive?path=/data/sub`, { body: spawnSync('tar', ['-C', evil, '-cf', '-', '.wh.f']).stdout })).status,
        200,
      );
      assert.equal(berthIn(s.root, ['exec', id, 'cat', '/data/sub/f', '/data/sub/.wh.f']).stdout, 'inside\njust a name');
      const notDir = await s.request('PUT', `/containers/${id}/archive?path=/data/sub/f`, { body: probeTar });
      assert.equal(notDir.status, 400);
      assert.equal((await s.request('PUT', `/containers/${id}/archive?path=/nodir`, { body: probeTar })).status, 404);
      assert.equal((await s.request('PUT', `/containers/${id}/archive`, { body: probeTar })).status, 400);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      berthIn(s.root, ['rm', '-f', id]);
    }
  });
});
