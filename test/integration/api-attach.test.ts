/**
 * `berth serve`'s container start, attach (hijacked and plain), wait and resize through real
 * clients: the docker CLI 28 and raw HTTP on the socket. Containers are created with berth's
 * CLI on the server's state root (the API's create is routes/containers.ts').
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { berthAsync, berthIn, tempRoot } from '../helpers/berth.ts';
import { runnersFor, startServe, type ServeHandle } from '../helpers/api-server.ts';
import { attachRequest, HANDSHAKE, inTerminal, rawExchange, sleep } from '../helpers/api-streams.ts';

describe('berth serve: container streams', () => {
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

  test('docker start -a prints the output from the first byte and exits with the status', async () => {
    const id = create('bb:1', 'sh', '-c', 'echo first; echo err >&2; exit 3');
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
    // `start` prints the daemon's words and exits 1 (`run` maps them to 127).
    const c = s.docker(['start', '-a', cli]);
    assert.equal(c.code, 1, c.stderr);
    assert.match(c.stderr, /Error response from daemon: failed to create shim task: .*exec: "nosuchcmd": executable file not found in \$PATH/);
  });

  test('two starts at once run one monitor: one 204, one 304', async () => {
    const id = create('bb:1', 'sh', '-c', 'sleep 1; echo once');
    const [a, b] = await Promise.all([s.request('POST', `/containers/${id}/start`), s.request('POST', `/containers/${id}/start`)]);
    assert.deepEqual([a.status, b.status].sort(), [204, 304]);
    const w = await s.request('POST', `/containers/${id}/wait`);
    assert.deepEqual(JSON.parse(w.body.toString()), { Error: null, StatusCode: 0 });
    const logs = await s.request('GET', `/containers/${id}/logs?stdout=1`);
    assert.equal(logs.body.subarray(8).toString(), 'once\n');
  });

  test('attach to a container a CLI runs attached follows its live output', async () => {
    const run = berthAsync(s.root, ['run', '--network', 'none', '--name', 'cli-attached', 'bb:1', 'sh', '-c', 'sleep 3; echo live']);
    for (let i = 0; i < 100 && state('cli-attached') !== 'running 0'; i++) await sleep(50);
    const bytes = await rawExchange(s.socket, attachRequest('cli-attached', 'stdout=1&stream=1'), [], 15_000);
    assert.equal(bytes.subarray(HANDSHAKE.length).toString('hex'), `0100000000000005${Buffer.from('live\n').toString('hex')}`);
    assert.equal((await run).stdout, 'live\n');
  });

  test('a container started through the API outlives the server', async () => {
    const id = create('bb:1', 'sh', '-c', 'sleep 2; echo survived');
    assert.equal((await s.request('POST', `/containers/${id}/start`)).status, 204);
    const t0 = Date.now();
    await s.stop({ keepContainers: true });
    assert.ok(Date.now() - t0 < 4900, 'SIGTERM stops the server (its links to monitors do not hold it)');
    s = await startServe({ root: s.root });
    const w = await s.request('POST', `/containers/${id}/wait`);
    assert.deepEqual(JSON.parse(w.body.toString()), { Error: null, StatusCode: 0 });
    const logs = await s.request('GET', `/containers/${id}/logs?stdout=1`);
    assert.equal(logs.body.subarray(8).toString(), 'survived\n');
  });

  test('hijacked attach before start: the 101 bytes exactly, frames exactly, half-close does not end it', async () => {
    const id = create('bb:1', 'echo', 'hi');
    const got = rawExchange(s.socket, attachRequest(id, 'stderr=1&stdout=1&stream=1'), ['shut']);
    await got.answered;
    assert.equal((await s.request('POST', `/v1.41/containers/${id}/start`)).status, 204);
    const bytes = await got;
    assert.equal(bytes.subarray(0, HANDSHAKE.length).toString(), HANDSHAKE);
    assert.equal(bytes.subarray(HANDSHAKE.length).toString('hex'), `0100000000000003${Buffer.from('hi\n').toString('hex')}`);
    // docker's order of events for an attached start.
    await s.request('POST', `/containers/${id}/wait`);
    const filters = encodeURIComponent(JSON.stringify({ container: [id] }));
    const events = await s.request('GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${filters}`);
    const actions = events.body
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).Action as string);
    assert.deepEqual(actions, ['create', 'attach', 'start', 'die']);
  });

  test('stdin piped before start reaches the container, and its half-close ends the container stdin', async () => {
    const id = create('-i', 'bb:1', 'cat');
    const got = rawExchange(s.socket, attachRequest(id, 'stdin=1&stdout=1&stderr=1&stream=1'), ['hello\n', 'shut']);
    await got.answered;
    assert.equal((await s.request('POST', `/v1.41/containers/${id}/start`)).status, 204);
    const bytes = await got;
    assert.equal(bytes.subarray(HANDSHAKE.length).toString('hex'), `0100000000000006${Buffer.from('hello\n').toString('hex')}`);
    assert.equal(state(id), 'exited 0');
  });

  test('plain 200 attach (dockerode) streams the frames and closes at the exit', async () => {
    const id = create('bb:1', 'sh', '-c', 'echo out; echo err >&2');
    const got = rawExchange(s.socket, attachRequest(id, 'stream=true&stdout=true&stderr=true', false));
    await got.answered;
    assert.equal((await s.request('POST', `/containers/${id}/start`)).status, 204);
    const text = (await got).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /Content-Type: application\/vnd\.docker\.raw-stream/);
    assert.ok(text.includes('\x01\x00\x00\x00\x00\x00\x00\x04out\n'), text);
    assert.ok(text.includes('\x02\x00\x00\x00\x00\x00\x00\x04err\n'), text);
  });

  test('docker attach to a running container sees its later output and its status', async () => {
    const id = create('bb:1', 'sh', '-c', 'sleep 1; echo late; exit 4');
    assert.equal(s.docker(['start', id]).code, 0);
    const r = s.docker(['attach', id]);
    assert.equal(r.stdout, 'late\n');
    assert.equal(r.code, 4);
  });

  test('docker start -ai on a TTY under a pty: raw both ways, typed input, the status; ctrl-p ctrl-q detaches', async () => {
    const id = create('-t', '-i', 'bb:1', 'sh');
    const r = await inTerminal(`docker start -ai ${id}`, [2500, 'echo typed-$((6*7))\r', 500, 'exit 3\r'], { DOCKER_HOST: s.host });
    assert.match(r.out, /typed-42\r\n/);
    assert.equal(r.code, 3);
    assert.equal(state(id), 'exited 3');
    const d = create('-t', '-i', 'bb:1', 'sh');
    const detached = await inTerminal(`docker start -ai ${d}`, [2500, '\x10\x11', 500], { DOCKER_HOST: s.host });
    assert.equal(detached.code, 0, detached.out);
    assert.equal(state(d), 'running 0');
    // The server watches for them too: a raw TTY attach that sends them is closed, the container runs on.
    const raw = await rawExchange(s.socket, attachRequest(d, 'stdin=1&stdout=1&stream=1'), [300, '\x10\x11'], 5000);
    assert.ok(raw.toString().startsWith(HANDSHAKE));
    assert.equal(state(d), 'running 0');
  });

  test('docker run: --rm echo, piped -i, -it under a pty, -d with logs -f, a missing command (127)', async () => {
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
      [2500, 'stty size; echo typed-$((6*7))\r', 500, 'exit 3\r'],
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
    const id = create('-t', '-i', 'bb:1', 'sh', '-c', 'sleep 2; stty size');
    const got = rawExchange(s.socket, attachRequest(id, 'stdout=1&stderr=1&stream=1&stdin=1'), []);
    await got.answered;
    await s.request('POST', `/containers/${id}/start`);
    const ok = await s.request('POST', `/containers/${id}/resize?h=33&w=111`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-length'], '0');
    assert.match((await got).toString(), /33 111\r\n/);
    assert.equal((await s.request('POST', `/containers/${id}/resize?h=x&w=1`)).status, 400);
  });
});
