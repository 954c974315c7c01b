/** `berth serve`'s core: ping, versions, errors, the socket's mode, TCP refusal, SIGTERM. */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { DOCKER_20, startServe, type ServeHandle } from '../helpers/api-server.ts';

describe('berth serve: core', () => {
  let s: ServeHandle;
  before(async () => {
    s = await startServe();
  });
  after(() => s.stop());

  test('ping answers GET and HEAD with the headers clients negotiate on', async () => {
    const get = await s.request('GET', '/_ping');
    assert.equal(get.status, 200);
    assert.equal(get.body.toString(), 'OK');
    assert.equal(get.headers['api-version'], '1.41');
    assert.equal(get.headers.ostype, 'linux');
    assert.equal(get.headers['builder-version'], '1');
    const head = await s.request('HEAD', '/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['api-version'], '1.41');
  });

  test('every route answers with and without a version prefix, 1.24 to 1.44', async () => {
    for (const path of ['/version', '/v1.24/version', '/v1.41/version', '/v1.44/version']) {
      const r = await s.request('GET', path);
      assert.equal(r.status, 200, path);
      assert.equal(JSON.parse(r.body.toString()).ApiVersion, '1.41');
    }
    for (const [path, word] of [
      ['/v1.45/info', 'too new'],
      ['/v1.11/info', 'too old'],
    ] as const) {
      const r = await s.request('GET', path);
      assert.equal(r.status, 400, path);
      assert.match(JSON.parse(r.body.toString()).message, new RegExp(word));
    }
  });

  test('unknown routes are 404 and swarm routes 503, each with a JSON message', async () => {
    const r = await s.request('GET', '/no/such/route');
    assert.equal(r.status, 404);
    assert.equal(typeof JSON.parse(r.body.toString()).message, 'string');
    const sw = await s.request('GET', '/v1.41/swarm');
    assert.equal(sw.status, 503);
    assert.match(JSON.parse(sw.body.toString()).message, /not a swarm manager/);
    const plugin = await s.request('GET', '/plugins/nosuch/json');
    assert.equal(plugin.status, 404);
  });

  test('info says what the clients check: swarm inactive, CPUs, memory, runtimes', async () => {
    const info = JSON.parse((await s.request('GET', '/info')).body.toString());
    assert.equal(info.Swarm.LocalNodeState, 'inactive');
    assert.ok(info.NCPU >= 1);
    assert.ok(info.MemTotal > 0);
    assert.ok(info.Runtimes.runc);
    assert.equal(info.OSType, 'linux');
    assert.ok(info.ServerVersion);
  });

  test('docker version and info (CLI 28 and 20.10) exit 0 against it', () => {
    for (const cli of [undefined, DOCKER_20]) {
      const v = s.docker(['version', '--format', '{{.Server.APIVersion}}'], { cli });
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout.trim(), '1.41');
      const i = s.docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.OSType}}'], { cli });
      assert.equal(i.code, 0, i.stderr);
      assert.equal(i.stdout.trim(), 'inactive linux');
    }
  });

  test('the socket is 0660 and the server logs one line per request at debug', () => {
    assert.equal(statSync(s.socket).mode & 0o777, 0o660);
    assert.match(s.log(), /GET \/v1\.41\/version 200/);
  });
});

describe('berth serve: listening', () => {
  const t = tempRoot('berth-serve-listen-');
  after(() => t.cleanup());

  test('TCP without TLS is refused unless --insecure-tcp is given', () => {
    const r = t.run(['serve', '-H', 'tcp://127.0.0.1:23999']);
    assert.equal(r.code, 1); // an engine error outside run/create, as dockerd exits on a bad start
    assert.match(r.stderr, /without TLS/);
    assert.match(r.stderr, /hint: .*--insecure-tcp/);
  });

  test('a bad address and a bad log level are clear errors', () => {
    assert.match(t.run(['serve', '-H', 'ftp://x']).stderr, /invalid host address/);
    assert.match(t.run(['serve', '--log-level', 'loud']).stderr, /invalid --log-level/);
  });

  test('SIGTERM closes the server and removes its socket; a second server on a live socket is refused', async () => {
    const s = await startServe({ root: t.root });
    const second = t.run(['serve', '-H', s.host]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /in use/);
    process.kill(s.pid, 'SIGTERM');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(s.pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.throws(() => process.kill(s.pid, 0));
    assert.throws(() => statSync(s.socket));
    await s.stop();
  });
});
