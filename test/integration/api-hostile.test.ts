/**
 * `berth serve` under bad input and bad clients: malformed JSON, unknown names, missing
 * parameters, a huge body, clients that vanish mid-stream or read slowly, bad version prefixes,
 * header floods. Each gets its status or a clean close, and afterwards the server still serves
 * 200 concurrent requests. Also: the state is the CLI's own, and survives a server restart.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { burst, memoryOf, openFds, uploadUntilAnswered } from '../helpers/api-clients.ts';
import { type ServeHandle, startServe } from '../helpers/api-server.ts';
import { berthIn, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a streamed GET on the socket; resolves with the response once its headers and `minBytes` of body came. */
function openStream(
  socketPath: string,
  path: string,
  minBytes = 0,
): Promise<{ status: number; destroy: () => void; pause: () => void; readAll: () => Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: path.startsWith('/images/create') ? 'POST' : 'GET', agent: false }, (res) => {
      const parts: Buffer[] = [];
      let got = 0;
      let resolved = false;
      const handle = {
        status: res.statusCode ?? 0,
        destroy: () => req.destroy(),
        pause: () => res.pause(),
        readAll: () =>
          new Promise<Buffer>((ok) => {
            res.on('end', () => ok(Buffer.concat(parts)));
            res.resume();
          }),
      };
      res.on('data', (d: Buffer) => {
        parts.push(d);
        got += d.length;
        if (!resolved && got >= minBytes) {
          resolved = true;
          resolve(handle);
        }
      });
      if (minBytes === 0) {
        resolved = true;
        resolve(handle);
      }
    });
    req.on('error', reject);
    req.end();
  });
}

describe('berth serve: hostile input and clients', () => {
  const t = tempRoot('berth-api-hostile-');
  let s: ServeHandle;
  let registry: TestRegistry;
  let fdBaseline = 0;

  before(async () => {
    const r = t.run(['import', busyboxTar(), 'bb:1']);
    assert.equal(r.code, 0, r.stderr);
    s = await startServe({ root: t.root });
    registry = await startRegistry();
    assert.equal(t.run(['tag', 'bb:1', `${registry.host}/hostile:1`]).code, 0);
    assert.equal(t.run(['push', `${registry.host}/hostile:1`]).code, 0);
    assert.equal(t.run(['rmi', `${registry.host}/hostile:1`]).code, 0);
    await s.request('GET', '/containers/json');
    fdBaseline = openFds(s.pid);
  });
  after(async () => {
    for (const id of t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) t.run(['rm', '-f', id]);
    await s?.stop();
    if (s) rmSync(dirname(s.socket), { recursive: true, force: true });
    registry?.stop();
    t.cleanup();
  });

  const message = (body: Buffer) => (JSON.parse(body.toString()) as { message: string }).message;

  test('malformed JSON is a 400 with a message, on every JSON endpoint', async () => {
    for (const path of ['/containers/create', '/networks/create', '/volumes/create', '/v1.41/containers/create?name=x']) {
      const r = await s.request('POST', path, { body: '{"Image": "bb:1", bad', headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 400, path);
      assert.match(message(r.body), /JSON|json/, path);
    }
  });

  test('unknown containers and images are 404 with docker wording', async () => {
    for (const [method, path, want] of [
      ['GET', '/containers/nosuch/json', 'No such container: nosuch'],
      ['DELETE', '/containers/nosuch', 'No such container: nosuch'],
      ['POST', '/containers/nosuch/start', 'No such container: nosuch'],
      ['GET', '/containers/nosuch/logs?stdout=1', 'No such container: nosuch'],
      ['GET', '/images/nosuch:1/json', 'No such image: nosuch:1'],
      ['DELETE', '/images/nosuch:1', 'No such image: nosuch:1'],
    ] as const) {
      const r = await s.request(method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.match(message(r.body), new RegExp(want), `${method} ${path}`);
    }
    const create = await s.request('POST', '/containers/create', json({ Image: 'nosuch:1', Cmd: ['true'] }));
    assert.equal(create.status, 404);
    assert.equal(message(create.body), 'No such image: nosuch:1');
  });

  test('a missing required parameter is a 400', async () => {
    const created = await s.request('POST', '/containers/create?name=needs', json({ Image: 'bb:1', Cmd: ['sleep', '60'] }));
    assert.equal(created.status, 201, created.body.toString());
    const id = JSON.parse(created.body.toString()).Id as string;
    for (const [method, path, body] of [
      ['POST', '/containers/create', { Cmd: ['true'] }],
      ['POST', `/containers/${id}/exec`, { AttachStdout: true }],
      ['GET', `/containers/${id}/logs`, undefined],
      ['POST', '/networks/create', {}],
    ] as const) {
      const r = await s.request(method, path, body ? json(body) : {});
      assert.equal(r.status, 400, `${method} ${path}: ${r.body}`);
      assert.ok(message(r.body).length > 0);
    }
    assert.equal((await s.request('DELETE', `/containers/${id}?force=1`)).status, 204);
  });

  test('a bad version prefix is a 400 naming the supported range; a non-version prefix is a 404', async () => {
    assert.match(message((await s.request('GET', '/v9.99/containers/json')).body), /too new/);
    assert.match(message((await s.request('GET', '/v1.11/containers/json')).body), /too old/);
    for (const path of ['/v9.99/containers/json', '/v1.11/containers/json']) assert.equal((await s.request('GET', path)).status, 400);
    assert.equal((await s.request('GET', '/vX.1/containers/json')).status, 404);
  });

  test('a header flood and a very long URL get an error status and a closed connection', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        let reply = '';
        const sock = connect(s.socket, () => sock.write(text));
        sock.on('data', (d: Buffer) => (reply += d.toString('latin1')));
        sock.on('close', () => resolve(reply));
        sock.on('error', () => resolve(reply));
        sock.setTimeout(10_000, () => sock.destroy());
      });
    const headers = Array.from({ length: 5_000 }, (_, i) => `X-Flood-${i}: ${'v'.repeat(20)}\r\n`).join('');
    const flood = await raw(`GET /containers/json HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
    assert.match(flood, /^HTTP\/1\.1 (400|431) /);
    const longUrl = await raw(`GET /containers/json?all=${'a'.repeat(200_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.match(longUrl, /^HTTP\/1\.1 (400|414|431) /);
    assert.equal((await s.request('GET', '/_ping')).status, 200);
  });

  test('a body far too large is refused before it is all read, and memory stays bounded', async () => {
    const before = memoryOf(s.pid).rss;
    const GiB = 1 << 30;
    const fixed = await uploadUntilAnswered(
      s.socket,
      `POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${GiB}\r\n\r\n`,
      256 << 20,
    );
    assert.match(fixed.statusLine, /^HTTP\/1\.1 (400|413) /, fixed.reply);
    assert.ok(fixed.sent < 64 << 20, `the server took ${fixed.sent} bytes before refusing`);
    assert.ok(fixed.closed && fixed.sentInAll < 128 << 20, `the server read on after refusing: ${fixed.sentInAll} bytes`);
    const chunked = await uploadUntilAnswered(
      s.socket,
      'POST /networks/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      256 << 20,
    );
    assert.match(chunked.statusLine, /^HTTP\/1\.1 (400|413) /, chunked.reply);
    assert.ok(chunked.sent < 64 << 20, `the server took ${chunked.sent} bytes before refusing`);
    assert.ok(chunked.closed && chunked.sentInAll < 128 << 20, `the server read on after refusing: ${chunked.sentInAll} bytes`);
    assert.ok(memoryOf(s.pid).rss < before + (64 << 20), 'the refused bodies were not kept');
  });

  test('clients that disconnect mid-stream (logs -f, events, pull) leave the server serving', async () => {
    const run = t.run(['run', '-d', '--name', 'chatty', 'bb:1', 'sh', '-c', 'trap "exit 0" TERM; while :; do echo tick; sleep 0.05; done']);
    assert.equal(run.code, 0, run.stderr);
    const logs = await openStream(s.socket, '/containers/chatty/logs?follow=1&stdout=1&stderr=1', 16);
    assert.equal(logs.status, 200);
    logs.destroy();
    const events = await openStream(s.socket, '/events');
    assert.equal(events.status, 200);
    events.destroy();
    const pull = await openStream(s.socket, `/images/create?fromImage=${encodeURIComponent(`${registry.host}/hostile`)}&tag=1`);
    assert.equal(pull.status, 200);
    pull.destroy();
    // Events happen after their client left; the server must not write into a dead socket and crash.
    assert.equal(t.run(['rm', '-f', 'chatty']).code, 0);
    assert.equal((await s.request('GET', '/_ping')).status, 200);
    const full = await s.request('POST', `/images/create?fromImage=${encodeURIComponent(`${registry.host}/hostile`)}&tag=1`);
    assert.equal(full.status, 200);
    assert.match(full.body.toString(), /Digest: sha256:|Image is up to date|Downloaded newer image/);
    const inspect = await s.request('GET', `/images/${registry.host}/hostile:1/json`);
    assert.equal(inspect.status, 200);
    let fds = openFds(s.pid);
    for (let i = 0; i < 50 && fds > fdBaseline + 2; i++) {
      await sleep(100);
      fds = openFds(s.pid);
    }
    assert.ok(fds <= fdBaseline + 2, `the server holds ${fds} fds, ${fdBaseline} before the disconnects`);
  });

  test('a slow reader of a big log gets all of it, and the server keeps answering meanwhile', async (tc) => {
    const LINES = 100_000;
    const line = 'a'.repeat(99);
    const run = t.run(['run', '--name', 'loud', 'bb:1', 'awk', `BEGIN { for (i = 0; i < ${LINES}; i++) print "${line}" }`]);
    assert.equal(run.code, 0, run.stderr.slice(0, 500));
    const before = memoryOf(s.pid).rss;
    const stream = await openStream(s.socket, '/containers/loud/logs?stdout=1&stderr=1', 1);
    stream.pause();
    await sleep(1_500);
    const t0 = performance.now();
    assert.equal((await s.request('GET', '/_ping')).status, 200);
    tc.diagnostic(`ping while a reader stalls: ${(performance.now() - t0).toFixed(1)} ms`);
    const grown = memoryOf(s.pid).rss - before;
    tc.diagnostic(`server RSS growth while the reader stalls: ${(grown / 1048576).toFixed(1)} MiB (log ${((LINES * 100) / 1048576).toFixed(1)} MiB)`);
    assert.ok(grown < 16 << 20, 'the server holds neither the whole log nor what the stalled reader has not taken');
    const body = await stream.readAll();
    let payload = 0;
    for (let off = 0; off + 8 <= body.length; ) {
      const size = body.readUInt32BE(off + 4);
      payload += size;
      off += 8 + size;
    }
    assert.equal(payload, LINES * 100);
    assert.equal(t.run(['rm', 'loud']).code, 0);
  });

  test('after all that, 200 concurrent GET /containers/json all answer 200', async (tc) => {
    const r = await burst(s.socket, '/containers/json?all=1', 200);
    assert.deepEqual(
      r.statuses.filter((x) => x !== 200),
      [],
    );
    tc.diagnostic(`p99 ${r.p99Ms.toFixed(1)} ms, median ${r.latenciesMs[100].toFixed(1)} ms (information only)`);
  });

  test('state is shared: a CLI container is in docker ps through the API, an API one in berth ps', () => {
    const cli = t.run(['run', '-d', '--name', 'fromcli', 'bb:1', 'sleep', '300']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(s.docker(['ps', '--format', '{{.Names}} {{.Image}}']).stdout, /^fromcli bb:1$/m);
    const api = s.docker(['run', '-d', '--name', 'fromapi', 'bb:1', 'sleep', '300']);
    assert.equal(api.code, 0, api.stderr);
    assert.match(t.run(['ps']).stdout, /fromapi/);
    assert.equal(t.run(['exec', 'fromapi', 'echo', 'seen']).stdout, 'seen\n');
    assert.equal(s.docker(['exec', 'fromcli', 'echo', 'seen']).stdout, 'seen\n');
  });

  test('a server restarted mid-way (SIGTERM, then SIGKILL) keeps every container and image, running ones running', async () => {
    const running = () => s.docker(['ps', '--format', '{{.Names}}']).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(running(), ['fromapi', 'fromcli']);
    const images = () => s.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter(Boolean).sort();
    const imagesBefore = images();
    const exited = s.docker(['run', '--name', 'exited', 'bb:1', 'true']);
    assert.equal(exited.code, 0, exited.stderr);
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      // A request in flight when the server goes: a follow that never ends by itself.
      const follow = await openStream(s.socket, '/containers/fromapi/logs?follow=1&stdout=1');
      process.kill(s.pid, signal);
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(s.pid, 0);
          await sleep(50);
        } catch {
          break;
        }
      }
      follow.destroy();
      await s.stop({ keepContainers: true });
      rmSync(dirname(s.socket), { recursive: true, force: true });
      s = await startServe({ root: t.root });
      assert.deepEqual(running(), ['fromapi', 'fromcli'], `after ${signal}`);
      assert.deepEqual(images(), imagesBefore, `after ${signal}`);
      assert.match(s.docker(['ps', '-a', '--filter', 'name=exited', '--format', '{{.Status}}']).stdout, /^Exited \(0\)/);
      assert.equal(s.docker(['exec', 'fromcli', 'echo', 'alive']).stdout, 'alive\n');
    }
    assert.equal(berthIn(t.root, ['ps', '-q']).stdout.trim().split('\n').length, 2);
  });
});
