/**
 * `berth serve`'s container streams through real clients: start, attach (hijacked and
 * plain), wait, resize, logs and the archive endpoints, with the docker CLI 28 and raw HTTP
 * on the socket. Containers are created with berth's CLI on the server's state root.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthIn, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw HTTP exchange on the socket: the request, then `steps` (bytes to send, ms to wait, 'shut' to half-close); resolves with every byte the server sent until it closed. */
function rawExchange(socket: string, request: string, steps: Array<string | number | Buffer> = [], timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close within ${timeoutMs}ms; got ${JSON.stringify(Buffer.concat(parts).toString())}`));
    }, timeoutMs);
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts));
    });
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write(request);
      void (async () => {
        for (const s of steps) {
          if (typeof s === 'number') await sleep(s);
          else if (s === 'shut') sock.end();
          else sock.write(s);
        }
      })();
    });
  });
}

/** Runs `command` under `script`, so the docker CLI has a terminal, feeding it `steps` (text, or ms to wait). */
function inTerminal(command: string, steps: Array<string | number>, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, out });
    });
    void (async () => {
      for (const s of steps) {
        if (typeof s === 'number') await sleep(s);
        else child.stdin.write(s);
      }
    })();
  });
}

function attachRequest(id: string, query: string, upgrade = true): string {
  const headers = upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : '';
  return `POST /v1.41/containers/${id}/attach?${query} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n${headers}\r\n`;
}

const HANDSHAKE = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';

describe('berth serve: container streams', () => {
  let s: ServeHandle;
  const t = tempRoot('berth-api-io-');
  const create = (...args: string[]) => {
    const r = berthIn(s.root, ['create', '--network', 'none', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  /** The docker CLI inspects before start -a, attach and logs: that endpoint is routes/containers.ts'. */
  const cliCanInspect = async (id: string) => (await s.request('GET', `/containers/${id}/json`)).status === 200;
  const state = (id: string) => berthIn(s.root, ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout.trim();

  before(async () => {
    s = await startServe({ root: t.root });
    const r = berthIn(s.root, ['import', busyboxTar(), 'bb:1']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    const ids = berthIn(s.root, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) berthIn(s.root, ['rm', '-f', ...ids]);
    await s.stop();
    t.cleanup();
  });

  test('docker start -a prints the output from the first byte and exits with the status', async (c) => {
    const id = create('bb:1', 'sh', '-c', 'echo first; echo err >&2; exit 3');
    if (!(await cliCanInspect(id))) return c.skip('GET /containers/{id}/json is not on this branch');
    const r = s.docker(['start', '-a', id]);
    assert.equal(r.stdout, 'first\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.code, 3);
    assert.equal(state(id), 'exited 3');
  });

  test('start: 204, 304 when running, 404 unknown; a missing command is 400 in docker words, and --rm is removed', async () => {
    const id = create('bb:1', 'sleep', '30');
    assert.equal((await s.request('POST', `/v1.41/containers/${id}/start`)).status, 204);
    assert.equal(state(id), 'running 0');
    assert.equal((await s.request('POST', `/v1.41/containers/${id}/start`)).status, 304);
    const missing = await s.request('POST', '/v1.41/containers/nosuch/start');
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body.toString()).message, /No such container: nosuch/);
    berthIn(s.root, ['rm', '-f', id]);
    const bad = create('--rm', 'bb:1', 'nosuchcmd');
    const r = await s.request('POST', `/v1.41/containers/${bad}/start`);
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body.toString()).message, /exec: "nosuchcmd": executable file not found in \$PATH/);
    assert.notEqual(berthIn(s.root, ['inspect', bad]).code, 0, 'the --rm container is gone');
    const cli = create('bb:1', 'nosuchcmd');
    if (await cliCanInspect(cli)) {
      // `start` prints the daemon's words and exits 1 (`run` maps them to 127).
      const c = s.docker(['start', '-a', cli]);
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stderr, /Error response from daemon: failed to create shim task: .*exec: "nosuchcmd": executable file not found in \$PATH/);
    }
  });

  test('a container started through the API outlives the server', async () => {
    const id = create('bb:1', 'sh', '-c', 'sleep 2; echo survived');
    assert.equal((await s.request('POST', `/containers/${id}/start`)).status, 204);
    const t0 = Date.now();
    await s.stop();
    assert.ok(Date.now() - t0 < 4000, 'SIGTERM stops the server (its links to monitors do not hold it)');
    s = await startServe({ root: s.root });
    const w = await s.request('POST', `/containers/${id}/wait`);
    assert.deepEqual(JSON.parse(w.body.toString()), { Error: null, StatusCode: 0 });
    const logs = await s.request('GET', `/containers/${id}/logs?stdout=1`);
    assert.equal(logs.body.subarray(8).toString(), 'survived\n');
  });

  test('hijacked attach before start: the 101 bytes exactly, frames exactly, half-close does not end it', async () => {
    const id = create('bb:1', 'echo', 'hi');
    const got = rawExchange(s.socket, attachRequest(id, 'stderr=1&stdout=1&stream=1'), ['shut']);
    await sleep(300);
    assert.equal((await s.request('POST', `/v1.41/containers/${id}/start`)).status, 204);
    const bytes = await got;
    assert.equal(bytes.subarray(0, HANDSHAKE.length).toString(), HANDSHAKE);
    assert.equal(bytes.subarray(HANDSHAKE.length).toString('hex'), `0100000000000003${Buffer.from('hi\n').toString('hex')}`);
  });

  test('stdin piped before start reaches the container, and its half-close ends the container stdin', async () => {
    const id = create('-i', 'bb:1', 'cat');
    const got = rawExchange(s.socket, attachRequest(id, 'stdin=1&stdout=1&stderr=1&stream=1'), ['hello\n', 'shut']);
    await sleep(300);
    assert.equal((await s.request('POST', `/v1.41/containers/${id}/start`)).status, 204);
    const bytes = await got;
    assert.equal(bytes.subarray(HANDSHAKE.length).toString('hex'), `0100000000000006${Buffer.from('hello\n').toString('hex')}`);
    assert.equal(state(id), 'exited 0');
  });

  test('plain 200 attach (dockerode) streams the frames and closes at the exit', async () => {
    const id = create('bb:1', 'sh', '-c', 'echo out; echo err >&2');
    const got = rawExchange(s.socket, attachRequest(id, 'stream=true&stdout=true&stderr=true', false));
    await sleep(300);
    assert.equal((await s.request('POST', `/containers/${id}/start`)).status, 204);
    const text = (await got).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /Content-Type: application\/vnd\.docker\.raw-stream/);
    assert.ok(text.includes('\x01\x00\x00\x00\x00\x00\x00\x04out\n'), text);
    assert.ok(text.includes('\x02\x00\x00\x00\x00\x00\x00\x04err\n'), text);
  });

  test('docker attach to a running container sees its later output and its status', async (c) => {
    const id = create('bb:1', 'sh', '-c', 'sleep 1; echo late; exit 4');
    if (!(await cliCanInspect(id))) return c.skip('GET /containers/{id}/json is not on this branch');
    assert.equal(s.docker(['start', id]).code, 0);
    const r = s.docker(['attach', id]);
    assert.equal(r.stdout, 'late\n');
    assert.equal(r.code, 4);
  });

  test('docker start -ai on a TTY under a pty: raw both ways, typed input, the status; ctrl-p ctrl-q detaches', async (c) => {
    const id = create('-t', '-i', 'bb:1', 'sh');
    if (!(await cliCanInspect(id))) return c.skip('GET /containers/{id}/json is not on this branch');
    const r = await inTerminal(`docker start -ai ${id}`, [1500, 'echo typed-$((6*7))\r', 500, 'exit 3\r'], { DOCKER_HOST: s.host });
    assert.match(r.out, /typed-42\r\n/);
    assert.equal(r.code, 3);
    assert.equal(state(id), 'exited 3');
    const d = create('-t', '-i', 'bb:1', 'sh');
    const detached = await inTerminal(`docker start -ai ${d}`, [1500, '\x10\x11', 500], { DOCKER_HOST: s.host });
    assert.equal(detached.code, 0, detached.out);
    assert.equal(state(d), 'running 0');
    // The server watches for them too: a raw TTY attach that sends them is closed, the container runs on.
    const raw = await rawExchange(s.socket, attachRequest(d, 'stdin=1&stdout=1&stream=1'), [300, '\x10\x11'], 5000);
    assert.ok(raw.toString().startsWith(HANDSHAKE));
    assert.equal(state(d), 'running 0');
  });

  test('docker run: --rm echo, piped -i, -it under a pty, -d with logs -f, a missing command (127)', async (c) => {
    const probe = await s.request('POST', '/containers/create', { body: '{', headers: { 'Content-Type': 'application/json' } });
    if (probe.status === 404) return c.skip('POST /containers/create is not on this branch');
    const hi = s.docker(['run', '--rm', '--network', 'none', 'bb:1', 'echo', 'hi']);
    assert.equal(hi.stdout, 'hi\n', hi.stderr);
    assert.equal(hi.code, 0);
    const piped = s.docker(['run', '-i', '--rm', '--network', 'none', 'bb:1', 'cat'], { input: 'x\n' });
    assert.equal(piped.stdout, 'x\n', piped.stderr);
    const status = s.docker(['run', '--rm', '--network', 'none', 'bb:1', 'sh', '-c', 'echo out; exit 7']);
    assert.equal(status.code, 7);
    const missing = s.docker(['run', '--rm', '--network', 'none', 'bb:1', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /executable file not found in \$PATH/);
    const tty = await inTerminal(
      `stty cols 100 rows 30; docker run -it --rm --network none bb:1 sh`,
      [1500, 'stty size; echo typed-$((6*7))\r', 500, 'exit 3\r'],
      { DOCKER_HOST: s.host },
    );
    assert.match(tty.out, /30 100\r\n/);
    assert.match(tty.out, /typed-42\r\n/);
    assert.equal(tty.code, 3);
    const d = s.docker(['run', '-d', '--network', 'none', 'bb:1', 'sh', '-c', 'for i in 1 2 3; do echo l$i; sleep 0.3; done']);
    assert.equal(d.code, 0, d.stderr);
    const follow = s.docker(['logs', '-f', d.stdout.trim()]);
    assert.equal(follow.stdout, 'l1\nl2\nl3\n');
    assert.equal(s.docker(['ps', '-aq', '--filter', 'status=running']).stdout.includes(d.stdout.trim().slice(0, 12)), false);
  });

  test('wait: not-running, next-exit and removed; an unknown condition is 400', async () => {
    const id = create('bb:1', 'sh', '-c', 'sleep 1; exit 5');
    const created = await s.request('POST', `/containers/${id}/wait`);
    assert.deepEqual(JSON.parse(created.body.toString()), { Error: null, StatusCode: 0 }, 'a created container is not running');
    const next = s.request('POST', `/containers/${id}/wait?condition=next-exit`);
    await s.request('POST', `/containers/${id}/start`);
    assert.deepEqual(JSON.parse((await next).body.toString()), { Error: null, StatusCode: 5 });
    const rm = create('--rm', 'bb:1', 'sh', '-c', 'exit 6');
    const removed = s.request('POST', `/containers/${rm}/wait?condition=removed`);
    await s.request('POST', `/containers/${rm}/start`);
    assert.deepEqual(JSON.parse((await removed).body.toString()), { Error: null, StatusCode: 6 });
    assert.notEqual(berthIn(s.root, ['inspect', rm]).code, 0);
    const bad = await s.request('POST', `/containers/${id}/wait?condition=sometime`);
    assert.equal(bad.status, 400);
    assert.equal((await s.request('POST', '/containers/nosuch/wait')).status, 404);
    const w = s.docker(['wait', id]);
    assert.equal(w.stdout, '5\n');
  });

  test('wait headers come at once, and a client that drops the wait leaves the server serving', async () => {
    const id = create('bb:1', 'sleep', '30');
    await s.request('POST', `/containers/${id}/start`);
    const head = await rawExchange(
      s.socket,
      `POST /containers/${id}/wait?condition=next-exit HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      [300, 'shut'],
      5000,
    ).catch((e: Error) => Buffer.from(e.message));
    assert.match(head.toString(), /HTTP\/1\.1 200 OK/);
    assert.equal((await s.request('GET', '/_ping')).status, 200);
    berthIn(s.root, ['rm', '-f', id]);
  });

  test('resize: 409 for a stopped container, 200 for a running tty, 400 for a bad size', async () => {
    const stopped = create('bb:1', 'true');
    const r = await s.request('POST', `/containers/${stopped}/resize?h=30&w=100`);
    assert.equal(r.status, 409);
    assert.equal(JSON.parse(r.body.toString()).message, `Container ${stopped} is not running`);
    const id = create('-t', '-i', 'bb:1', 'sh', '-c', 'sleep 1; stty size');
    const got = rawExchange(s.socket, attachRequest(id, 'stdout=1&stderr=1&stream=1&stdin=1'), []);
    await sleep(200);
    await s.request('POST', `/containers/${id}/start`);
    const ok = await s.request('POST', `/containers/${id}/resize?h=33&w=111`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-length'], '0');
    assert.match((await got).toString(), /33 111\r\n/);
    assert.equal((await s.request('POST', `/containers/${id}/resize?h=x&w=1`)).status, 400);
  });

  test('docker logs: frames per line, --tail, -t; logs -f follows until the exit', async (c) => {
    const id = create('bb:1', 'sh', '-c', 'echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three');
    await s.request('POST', `/containers/${id}/start`);
    await s.request('POST', `/containers/${id}/wait`);
    const raw = await s.request('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
    assert.equal(raw.body.toString('hex'), ['0100000000000004', '6f6e650a', '0200000000000004', '74776f0a', '0100000000000006', '74687265650a'].join(''));
    const none = await s.request('GET', `/containers/${id}/logs`);
    assert.equal(none.status, 400);
    const stamped = await s.request('GET', `/containers/${id}/logs?stdout=1&tail=1&timestamps=1`);
    assert.match(stamped.body.subarray(8).toString(), /^\d{4}-\d\d-\d\dT[\d:.]+Z three\n$/);
    if (!(await cliCanInspect(id))) return c.skip('GET /containers/{id}/json is not on this branch');
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
      assert.equal(berthIn(s.root, ['exec', id, 'cat', '/data/sub/f']).stdout, 'inside\n');
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
