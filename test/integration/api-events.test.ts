/**
 * `GET /events` and `berth events` through real clients: the events of a container run by the
 * berth CLI (another process than the server) are listed by `docker events --since --until`
 * in docker's order; a live `docker events` receives an event while it is open; filters;
 * hostile parameters; a client that goes away mid-stream.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DOCKER_20, DOCKER_28, startServe, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

/** Unix seconds with nanoseconds, as the docker CLI sends `since` and `until`. */
const stamp = (ms = Date.now()) => (ms / 1000).toFixed(9);

/**
 * A request on a connection of its own: the docker and berth CLIs run with spawnSync, which
 * blocks this process's loop, so a pooled keep-alive connection the server closed meanwhile
 * would be written to before its close is seen (EPIPE).
 */
let serve: ServeHandle;
const request = (method: string, path: string, o: { body?: string; headers?: Record<string, string> } = {}) =>
  serve.request(method, path, { ...o, headers: { Connection: 'close', ...o.headers } });

describe('berth serve: events', () => {
  let s: ServeHandle;
  let t0: string;
  let t1: string;
  let runId: string;
  before(async () => {
    s = await startServe();
    serve = s;
    assert.equal(berthIn(s.root, ['import', busyboxTar(), 'bb:1']).code, 0);
    t0 = stamp(Date.now() - 1000);
    const r = berthIn(s.root, ['run', '--rm', '--name', 'ev1', '--label', 'com.example.k=v', 'bb:1', 'true']);
    assert.equal(r.code, 0, r.stderr);
    t1 = stamp(Date.now() + 1000);
    const lines = JSON.parse(`[${(await request('GET', `/events?since=${t0}&until=${t1}`)).body.toString().trim().split('\n').join(',')}]`);
    runId = lines.find((e: { Actor: { Attributes: { name?: string } } }) => e.Actor.Attributes.name === 'ev1').Actor.ID;
  });
  after(() => s.stop());

  test('docker events lists a CLI run --rm as create, attach, start, die, destroy', () => {
    const r = s.docker(['events', '--since', t0, '--until', t1, '--filter', 'container=ev1', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.stdout.trim().split('\n'),
      ['create', 'attach', 'start', 'die', 'destroy'].map((a) => `container ${a} ${runId}`),
    );
  });

  test('a detached container stopped and removed: create, start, kill (15), die, stop, destroy, from three processes', () => {
    const since = stamp();
    const trap = 'trap "exit 0" TERM; while true; do sleep 0.1; done';
    assert.equal(berthIn(s.root, ['run', '-d', '--name', 'ev2', 'bb:1', 'sh', '-c', trap]).code, 0);
    assert.equal(berthIn(s.root, ['stop', 'ev2']).code, 0);
    assert.equal(berthIn(s.root, ['rm', 'ev2']).code, 0);
    const r = s.docker([
      'events',
      '--since',
      since,
      '--until',
      stamp(Date.now() + 500),
      '--filter',
      'container=ev2',
      '--format',
      '{{json .Actor.Attributes}} {{.Action}}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = r.stdout
      .trim()
      .split('\n')
      .map((l) => {
        const [attrs, action] = [JSON.parse(l.slice(0, l.lastIndexOf(' '))), l.slice(l.lastIndexOf(' ') + 1)];
        return [action, attrs.signal ?? attrs.exitCode ?? ''].join(' ').trim();
      });
    assert.deepEqual(got, ['create', 'start', 'kill 15', 'die 0', 'stop', 'destroy']);
    // The same through docker 20.10's CLI.
    const old = s.docker(['events', '--since', since, '--until', stamp(), '--filter', 'container=ev2', '--format', '{{.Status}}'], { cli: DOCKER_20 });
    assert.equal(old.code, 0, old.stderr);
    assert.deepEqual(old.stdout.trim().split('\n'), ['create', 'start', 'kill', 'die', 'stop', 'destroy']);
  });

  test("docker's default lines: time, type, action, id and the sorted attributes", () => {
    const r = s.docker(['events', '--since', t0, '--until', t1, '--filter', 'event=die']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}\\S* container die ${runId} \\(com\\.example\\.k=v, exitCode=0, image=bb:1, name=ev1\\)\\n$`,
      ),
    );
  });

  test('the JSON of an event has the legacy fields for containers and an exact timeNano', async () => {
    const filters = encodeURIComponent(JSON.stringify({ event: ['start'], container: ['ev1'] }));
    const res = await request('GET', `/v1.41/events?since=${t0}&until=${t1}&filters=${filters}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    const [line, ...rest] = res.body.toString().trim().split('\n');
    assert.equal(rest.length, 0);
    const e = JSON.parse(line!);
    assert.deepEqual([e.status, e.id, e.from, e.Type, e.Action, e.Actor.ID, e.scope], ['start', runId, 'bb:1', 'container', 'start', runId, 'local']);
    assert.equal(e.Actor.Attributes['com.example.k'], 'v');
    const nano = /"timeNano":(\d+)/.exec(line!)![1]!;
    assert.equal(nano.length, 19);
    assert.equal(String(e.time), nano.slice(0, 10));
  });

  test('filters: type, image, label, and keys that all apply', () => {
    const run = (...f: string[]) =>
      s
        .docker(['events', '--since', t0, '--until', t1, ...f.flatMap((x) => ['--filter', x]), '--format', '{{.Type}} {{.Action}}'])
        .stdout.trim()
        .split('\n')
        .filter(Boolean);
    assert.deepEqual(run('type=image'), ['image import']);
    assert.deepEqual(run('image=bb', 'event=create'), ['container create']);
    assert.deepEqual(run('label=com.example.k=v', 'event=destroy'), ['container destroy']);
    assert.deepEqual(run('label=com.example.k=other'), []);
    assert.deepEqual(run('container=nosuch'), []);
  });

  test('a live docker events receives a volume created while it is open, then ends when killed', async () => {
    const child = spawn(DOCKER_28, ['events', '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}'], {
      env: { ...process.env, DOCKER_HOST: s.host },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      // The stream is open once the server has logged the request.
      for (let i = 0; i < 100 && !/GET \/v[\d.]+\/events/.test(s.log()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(berthIn(s.root, ['volume', 'create', 'live1']).code, 0);
      for (let i = 0; i < 100 && !out.includes('create live1'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(out, 'create live1\n');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    // The server is still up for the next client.
    assert.equal((await request('GET', '/_ping')).status, 200);
  });

  test('until in the future: the stream ends there by itself', async () => {
    const started = Date.now();
    const res = await request('GET', `/events?until=${stamp(Date.now() + 700)}`);
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started >= 600, `ended after ${Date.now() - started} ms`);
  });

  test('hostile parameters are 400 with a message', async () => {
    for (const q of [
      'since=yesterday',
      'until=12abc',
      `since=${t1}&until=${t0}`,
      'filters=%7Bnot-json',
      `filters=${encodeURIComponent('{"colour":["red"]}')}`,
      `filters=${encodeURIComponent('{"type":"container"}')}`,
      `filters=${encodeURIComponent('[1,2]')}`,
    ]) {
      const r = await request('GET', `/events?${q}${q.includes('until=') ? '' : `&until=${t1}`}`);
      assert.equal(r.status, 400, q);
      assert.equal(typeof JSON.parse(r.body.toString()).message, 'string', q);
    }
    const cli = s.docker(['events', '--since', t0, '--until', t1, '--filter', 'colour=red']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /invalid filter 'colour'/);
  });

  test('a client that disconnects mid-stream leaves the server serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ socketPath: s.socket, path: '/events', method: 'GET' }, (res) => {
        assert.equal(res.statusCode, 200);
        res.destroy();
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
    const pings = await Promise.all(Array.from({ length: 20 }, () => request('GET', '/_ping')));
    assert.ok(pings.every((p) => p.status === 200));
  });

  test('berth events prints what docker events does, and --format json', () => {
    const plain = berthIn(s.root, ['events', '--since', t0, '--until', t1, '--filter', 'container=ev1', '--filter', 'event=start']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, new RegExp(`^\\S+ container start ${runId} \\(com\\.example\\.k=v, image=bb:1, name=ev1\\)\\n$`));
    const json = berthIn(s.root, ['events', '--since', t0, '--until', t1, '--filter', 'type=container', '--format', 'json']);
    assert.deepEqual(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).Action),
      ['create', 'attach', 'start', 'die', 'destroy'],
    );
    const bad = berthIn(s.root, ['events', '--since', 'soon']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /failed to parse value as time or duration/);
  });
});
