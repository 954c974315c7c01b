/**
 * `POST /build` (the classic builder's endpoint) through real clients: docker CLI 28 (no
 * buildx), the 20.10 CLI (which sends every default), and dockerode's gzip'd context with
 * followProgress; plus bodies that are not a context, or far too big.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { DOCKER_20, jsonMessages as messages, startServe, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

/** A context dir with these files, and the same as a tar. */
function context(root: string, name: string, files: Record<string, string>): { dir: string; tar: Buffer } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return { dir, tar: execFileSync('tar', ['-C', dir, '--format=ustar', '-cf', '-', ...Object.keys(files)]) };
}

/** A tar of hand-made entries (links and names a tar tool would not write). */
async function packTar(entries: Array<{ name: string; type?: 'file' | 'symlink'; linkname?: string; body?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname });
    else pack.entry({ name: e.name, mode: 0o644 }, e.body ?? '');
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('berth serve: POST /build', () => {
  let s: ServeHandle;
  const work = mkdtempSync(join(tmpdir(), 'berth-api-build-'));
  const berth = (args: readonly string[]) => berthIn(s.root, args);
  const simple = () =>
    context(work, 'simple', {
      Dockerfile: 'FROM bb:1\nRUN echo from-run && echo a > /a\nCOPY f /f\nCMD ["cat", "/a", "/f"]\n',
      f: 'file-f\n',
    });

  before(async () => {
    s = await startServe();
    const imp = berth(['import', busyboxTar(), 'bb:1']);
    assert.equal(imp.code, 0, imp.stderr);
  });
  after(async () => {
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('docker build -t (CLI 28, classic builder): Step lines, RUN output, Successfully built and tagged', () => {
    const { dir } = simple();
    const r = s.docker(['build', '-t', 'cap:1', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^Step 1\/4 : FROM bb:1$/m);
    assert.match(r.stdout, /^ ---> [a-f0-9]{12}$/m);
    assert.match(r.stdout, /^Step 2\/4 : RUN echo from-run && echo a > \/a$/m);
    assert.match(r.stdout, /^ ---> Running in [a-f0-9]{12}$/m);
    assert.match(r.stdout, /^from-run$/m);
    assert.match(r.stdout, /^Step 4\/4 : CMD \["cat", "\/a", "\/f"\]$/m);
    const built = /^Successfully built ([a-f0-9]{12})$/m.exec(r.stdout);
    assert.ok(built, r.stdout);
    assert.match(r.stdout, /^Successfully tagged cap:1$/m);
    // A config step runs in a container in the classic builder; the last step's id is the image's.
    assert.match(
      r.stdout,
      new RegExp(
        `CMD \\["cat", "/a", "/f"\\]\\n ---> Running in ([a-f0-9]{12})\\nRemoving intermediate container \\1\\n ---> ${built[1]}\\nSuccessfully built`,
      ),
    );
    assert.equal(s.docker(['images', 'cap', '--format', '{{.Tag}} {{.ID}}']).stdout.trim(), `1 ${built[1]}`);
    const run = berth(['run', '--rm', 'cap:1']);
    assert.equal(run.stdout, 'a\nfile-f\n', run.stderr);
    // Again: every step is cached, and the image is the same.
    const again = s.docker(['build', '-t', 'cap:1', dir]);
    assert.equal(again.stdout.match(/ ---> Using cache\n ---> [a-f0-9]{12}\n/g)?.length, 3, again.stdout); // RUN, COPY and CMD
    assert.doesNotMatch(again.stdout, /Running in/);
    assert.match(again.stdout, new RegExp(`Successfully built ${built[1]}`));
  });

  test("the context keeps its files' modes and symlinks: a COPY'd script runs", () => {
    const { dir } = context(work, 'exec', {
      Dockerfile: 'FROM bb:1\nCOPY . /app/\nRUN /app/run.sh && readlink /app/link.sh\n',
      'run.sh': '#!/bin/sh\necho script-ran\n',
    });
    execFileSync('chmod', ['755', join(dir, 'run.sh')]);
    execFileSync('ln', ['-s', 'run.sh', join(dir, 'link.sh')]);
    const r = s.docker(['build', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^script-ran\nrun\.sh$/m);
  });

  test('build -q prints only the image id; --iidfile gets it from aux', () => {
    const { dir } = simple();
    const iid = join(work, 'iid');
    const r = s.docker(['build', '-q', '--iidfile', iid, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[a-f0-9]{64}\n$/);
    // In quiet mode the CLI writes what it printed (as with dockerd, whose quiet stream has no aux).
    assert.equal(readFileSync(iid, 'utf8').trim(), r.stdout.trim());
    const id = s.docker(['image', 'inspect', 'cap:1', '--format', '{{.Id}}']).stdout.trim();
    assert.equal(r.stdout.trim(), id);
  });

  test('--add-host, --shm-size and --ulimit reach every RUN step; bad values are 400s before the upload', async () => {
    const { dir } = context(work, 'stephost', {
      Dockerfile:
        'FROM bb:1\nRUN grep -q "10.9.8.7.*gpu-box" /etc/hosts && df -k /dev/shm | tail -1 | awk \'{print "shm " $2}\' && echo "nofile $(ulimit -n)"\n',
    });
    const r = s.docker(['build', '--no-cache', '--add-host', 'gpu-box:10.9.8.7', '--shm-size', '256m', '--ulimit', 'nofile=1234:2345', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^shm 262144$/m);
    assert.match(r.stdout, /^nofile 1234$/m);
    for (const [query, why] of [
      ['extrahosts=nohost', /not host:ip/],
      ['extrahosts=a%3Anot-an-ip', /not host:ip/],
      ['shmsize=-1', /not a number of bytes/],
      ['ulimits=%7B%7D', /not a JSON array/],
      ['ulimits=%5B%7B%22Name%22%3A%22nofile%22%2C%22Soft%22%3A%22x%22%2C%22Hard%22%3A1%7D%5D', /integer Soft and Hard/],
      ['ulimits=%5B%7B%22Name%22%3A%22bogus%22%2C%22Soft%22%3A1%2C%22Hard%22%3A1%7D%5D', /invalid ulimit type: bogus/],
    ] as const) {
      const bad = await s.request('POST', `/build?${query}`, { body: 'not read' });
      assert.equal(bad.status, 400, query);
      assert.match(JSON.parse(bad.body.toString()).message, why, query);
    }
  });

  test('CLI 20.10 sends every default (buildargs={}, cachefrom=[], ulimits=null...) and builds', async () => {
    const { dir } = context(work, 'args', {
      Dockerfile: 'FROM bb:1 AS base\nARG GREETING=none\nRUN echo "$GREETING" > /g\nFROM base AS final\nLABEL from=dockerfile\n',
    });
    const r = s.docker(['build', '-t', 'args:1', '--build-arg', 'GREETING=hello', '--label', 'extra=yes', '--target', 'final', dir], { cli: DOCKER_20 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Successfully tagged args:1/);
    // The request's log line is written once its reply has ended, which the CLI need not wait for.
    const sent = /POST \/v1\.41\/build\?buildargs=.*cachefrom=%5B%5D.*ulimits=null.*version=1 200/;
    for (let i = 0; i < 50 && !sent.test(s.log()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(s.log(), sent);
    assert.equal(berth(['run', '--rm', 'args:1', 'cat', '/g']).stdout, 'hello\n');
    const labels = s.docker(['image', 'inspect', 'args:1', '--format', '{{json .Config.Labels}}']).stdout.trim();
    assert.deepEqual(JSON.parse(labels), { extra: 'yes', from: 'dockerfile' });
  });

  test('a failing RUN ends the stream with errorDetail.code, and the CLI exits with it', async () => {
    const { dir, tar } = context(work, 'fail', { Dockerfile: 'FROM bb:1\nRUN exit 3\n' });
    const r = s.docker(['build', dir]);
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(r.stderr + r.stdout, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
    const raw = await s.request('POST', '/v1.41/build', { body: tar, headers: { 'Content-Type': 'application/x-tar' } });
    assert.equal(raw.status, 200);
    const last = messages(raw.body).at(-1)!;
    assert.deepEqual(last.errorDetail, { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
    assert.equal(last.error, "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
  });

  test('a Dockerfile syntax error is an HTTP error in dockerd words; a missing base image an error in the stream', async () => {
    const syntax = s.docker(['build', context(work, 'syntax', { Dockerfile: 'FROM bb:1\nFOO bar\n' }).dir]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO/);
    const raw = await s.request('POST', '/build', { body: context(work, 'syntax', { Dockerfile: 'FROM bb:1\nFOO bar\n' }).tar });
    assert.equal(raw.status, 400);
    const missing = s.docker(['build', context(work, 'missing', { Dockerfile: 'FROM 127.0.0.1:1/nosuch:1\n' }).dir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr + missing.stdout, /nosuch/);
  });

  test('dockerode buildImage with a gzip context and followProgress', async () => {
    const docker = new Docker({ socketPath: s.socket });
    const { dir } = context(work, 'dockerode', { Dockerfile: 'FROM bb:1\nRUN echo dn > /dn\n' });
    const stream = await docker.buildImage({ context: dir, src: ['Dockerfile'] }, { t: 'capdn:1' });
    const out: Array<{ stream?: string; aux?: { ID: string }; error?: string }> = await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ stream?: string }>) => (err ? reject(err) : resolve(res))),
    );
    const id = out.find((m) => m.aux)?.aux?.ID;
    assert.match(id ?? '', /^sha256:[a-f0-9]{64}$/);
    assert.ok(out.some((m) => m.stream === 'Successfully tagged capdn:1\n'));
    assert.equal((await docker.getImage('capdn:1').inspect()).Id, id);
    // The same context gzip'd by hand, through a raw request: the magic bytes decide.
    const gz = gzipSync(context(work, 'gz', { Dockerfile: 'FROM bb:1\nCMD ["true"]\n' }).tar);
    const raw = await s.request('POST', '/build?t=capgz%3A1', { body: gz, headers: { 'Content-Type': 'application/tar' } });
    assert.ok(
      messages(raw.body).some((m) => m.stream === 'Successfully tagged capgz:1\n'),
      raw.body.toString(),
    );
  });

  test('docker-py (what docker-compose builds with): images.build, a BuildError on a failing RUN', () => {
    const { dir } = simple();
    const fail = context(work, 'py-fail', { Dockerfile: 'FROM bb:1\nRUN exit 4\n' }).dir;
    const script = [
      'import docker, sys',
      `c = docker.DockerClient(base_url='unix://${s.socket}')`,
      `img, _ = c.images.build(path='${dir}', tag='py:1', rm=True)`,
      'print(img.id, img.tags)',
      'try:',
      `    c.images.build(path='${fail}')`,
      'except docker.errors.BuildError as e:',
      '    print("BuildError", e)',
    ].join('\n');
    const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const id = s.docker(['image', 'inspect', 'py:1', '--format', '{{.Id}}']).stdout.trim();
    // The same build as cap:1 earlier, so the same image: it has both names.
    const [first, second] = r.stdout.split('\n');
    assert.match(first!, new RegExp(`^${id} \\[.*'py:1'.*\\]$`));
    assert.equal(second, "BuildError The command '/bin/sh -c exit 4' returned a non-zero code: 4");
  });

  test('a client that goes away mid-build stops the build: its RUN is killed and its context removed', async () => {
    const { tar } = context(work, 'slow', { Dockerfile: 'FROM bb:1\nRUN echo started && sleep 60\n' });
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: s.socket, method: 'POST', path: '/build?nocache=1', headers: { 'Content-Length': String(tar.length) } }, (res) => {
        res.on('data', (c: Buffer) => {
          if (c.toString().includes('started')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('the RUN never started')), 30_000);
      req.end(tar);
    });
    const leftovers = () => readdirSync(s.root).filter((n) => n.startsWith('tmp-context-'));
    for (let i = 0; i < 100 && leftovers().length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(leftovers(), []);
    assert.ok(Date.now() - started < 30_000, 'the sleep was not waited for');
    assert.equal((await s.request('GET', '/_ping')).status, 200);
  });

  test('hostile bodies and parameters: not a tar, far too big, a Dockerfile outside the context, bad JSON', async () => {
    const before = s.docker(['images', '-q']).stdout;
    const notTar = await s.request('POST', '/build?t=bad%3A1', { body: 'FROM bb:1\n'.repeat(100) });
    assert.equal(notTar.status, 400);
    assert.match(JSON.parse(notTar.body.toString()).message, /not a tar archive/);
    // A declared length beyond any limit is refused before a byte is read, and the connection closes.
    const huge = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { socketPath: s.socket, method: 'POST', path: '/build', headers: { 'Content-Length': String(2 ** 50), 'Content-Type': 'application/x-tar' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
    });
    assert.equal(huge.status, 400);
    assert.match(JSON.parse(huge.body).message, /build context is too large/);
    const { tar } = simple();
    const outside = await s.request('POST', '/build?dockerfile=..%2F..%2Fetc%2Fpasswd', { body: tar });
    assert.equal(outside.status, 400);
    assert.match(JSON.parse(outside.body.toString()).message, /must be within the build context/);
    const noFile = await s.request('POST', '/build?dockerfile=nosuch', { body: tar });
    assert.equal(noFile.status, 404);
    for (const q of ['buildargs=%7Bnope', 'labels=%5B1%5D', 'buildargs=%7B%22A%22%3A1%7D', 't=BAD%20NAME', 'networkmode=container%3Ax']) {
      const r = await s.request('POST', `/build?${q}`, { body: tar });
      assert.ok(r.status === 400 || r.status === 501, `${q}: ${r.status}`);
    }
    // A Dockerfile that is a link out of the context reads nothing outside it; an entry that climbs out is refused.
    const linked = await s.request('POST', '/build', { body: await packTar([{ name: 'Dockerfile', type: 'symlink', linkname: '/etc/passwd' }]) });
    assert.equal(linked.status, 404);
    assert.match(JSON.parse(linked.body.toString()).message, /Cannot locate specified Dockerfile/);
    const climbing = await s.request('POST', '/build', {
      body: await packTar([
        { name: '../../escape', body: 'x' },
        { name: 'Dockerfile', body: 'FROM bb:1\n' },
      ]),
    });
    assert.equal(climbing.status, 400, climbing.body.toString());
    const badConfig = await s.request('POST', '/build', { body: tar, headers: { 'X-Registry-Config': '%%%' } });
    assert.equal(badConfig.status, 400);
    // A truncated gzip: an error, not a hang, and nothing is built.
    const cut = gzipSync(tar).subarray(0, 200);
    const truncated = await s.request('POST', '/build?t=cut%3A1', { body: cut });
    assert.equal(truncated.status, 400);
    assert.equal(s.docker(['images', '-q']).stdout, before);
    assert.equal((await s.request('GET', '/_ping')).status, 200);
  });
});
