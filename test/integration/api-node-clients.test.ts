/**
 * Node clients against `berth serve`: dockerode (run, buildImage with a gzip'd context and
 * followProgress, logs with follow, pull, demuxStream), testcontainers (a GenericContainer with
 * an exposed port and a log wait strategy) and the dev containers CLI (up and exec).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { clientEnv, httpGetWhenUp, startServeWithBusybox } from '../helpers/api-clients.ts';
import { DOCKER_28, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn, REPO } from '../helpers/berth.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

/** Everything a stream gives until it ends, as text. */
function collect(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Record<string, unknown>[]) => (err ? reject(err) : resolve(out))),
  );
}

describe('node clients against berth serve', () => {
  let s: ServeHandle;
  let docker: Docker;
  let registry: TestRegistry;
  const work = mkdtempSync(join(tmpdir(), 'berth-api-node-'));

  before(async () => {
    s = await startServeWithBusybox();
    registry = await startRegistry();
    docker = new Docker({ socketPath: s.socket });
  });
  after(async () => {
    await s?.stop();
    registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('dockerode: ping, version, listContainers', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    assert.equal((await docker.version()).ApiVersion, '1.41');
    assert.ok(Array.isArray(await docker.listContainers({ all: true })));
    assert.deepEqual(
      (await docker.listImages()).flatMap((i) => i.RepoTags ?? []),
      ['bb:1'],
    );
  });

  test('dockerode: run demultiplexes stdout and stderr and returns the exit code', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const texts = Promise.all([collect(out), collect(err)]);
    const [result, container] = (await docker.run('bb:1', ['sh', '-c', 'echo out; echo err >&2; exit 4'], [out, err], { Tty: false })) as [
      { StatusCode: number },
      Docker.Container,
    ];
    assert.equal(result.StatusCode, 4);
    assert.deepEqual(await texts, ['out\n', 'err\n']);
    assert.equal((await container.inspect()).State.ExitCode, 4);
    await container.remove();
    await assert.rejects(container.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  test('dockerode: run with a TTY gives the raw stream', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const [result, container] = (await docker.run('bb:1', ['sh', '-c', 'echo tty-out'], out, {})) as [{ StatusCode: number }, Docker.Container];
    assert.equal(result.StatusCode, 0);
    assert.equal(await text, 'tty-out\r\n');
    await container.remove({ force: true });
  });

  test('dockerode: buildImage with a gzip context and followProgress', async () => {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nCOPY msg /msg\nRUN echo built >> /msg\nCMD ["cat", "/msg"]\n');
    writeFileSync(join(ctx, 'msg'), 'from-gzip-context\n');
    const tgz = join(work, 'ctx.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', ctx, '.']);
    const stream = await docker.buildImage(createReadStream(tgz) as unknown as NodeJS.ReadableStream, { t: 'dn:1' });
    const messages = await followProgress(docker, stream);
    assert.ok(
      messages.some((m) => typeof (m.aux as { ID?: string } | undefined)?.ID === 'string'),
      JSON.stringify(messages),
    );
    assert.ok(messages.some((m) => /Successfully tagged dn:1/.test(String(m.stream))));
    assert.ok(!messages.some((m) => m.error));
    const out = new PassThrough();
    const text = collect(out);
    const [result, container] = (await docker.run('dn:1', [], out, { Tty: false })) as [{ StatusCode: number }, Docker.Container];
    assert.equal(result.StatusCode, 0);
    // A Tty:false run into one stream gets the multiplexed frames, headers and all.
    assert.match(await text, /from-gzip-context\n[\s\S]*built\n/);
    await container.remove();
  });

  test('dockerode: a failing build ends the stream with an error followProgress reports', async () => {
    const ctx = join(work, 'bad');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nRUN exit 7\n');
    const tgz = join(work, 'bad.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', ctx, '.']);
    const stream = await docker.buildImage(createReadStream(tgz) as unknown as NodeJS.ReadableStream, { t: 'bad:1' });
    // followProgress ends normally; the failure is the last message, with the step's exit code.
    const messages = await followProgress(docker, stream);
    const last = messages.at(-1) as { error?: string; errorDetail?: { code?: number } };
    assert.match(String(last.error), /returned a non-zero code: 7/);
    assert.equal(last.errorDetail?.code, 7);
  });

  test('dockerode: logs with follow, demultiplexed by modem.demuxStream', async () => {
    const container = await docker.createContainer({
      Image: 'bb:1',
      Cmd: ['sh', '-c', 'for i in 1 2 3; do echo line$i; echo e$i >&2; sleep 0.2; done'],
      Tty: false,
    });
    await container.start();
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
    const out = new PassThrough();
    const err = new PassThrough();
    const texts = Promise.all([collect(out), collect(err)]);
    docker.modem.demuxStream(stream, out, err);
    stream.on('end', () => {
      out.end();
      err.end();
    });
    assert.deepEqual(await texts, ['line1\nline2\nline3\n', 'e1\ne2\ne3\n']);
    const buffered = (await container.logs({ stdout: true, stderr: false })) as unknown as Buffer;
    assert.ok(Buffer.isBuffer(buffered));
    assert.equal(buffered[0], 1, 'a stdout frame header');
    await container.remove();
  });

  test('dockerode: pull from a local registry with followProgress', async () => {
    const ref = `${registry.host}/pulled:1`;
    for (const args of [
      ['tag', 'bb:1', ref],
      ['push', ref],
      ['rmi', ref],
    ]) {
      const r = berthIn(s.root, args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const messages = await followProgress(docker, await docker.pull(ref));
    assert.ok(
      messages.some((m) => /Digest: sha256:/.test(String(m.status))),
      JSON.stringify(messages),
    );
    assert.equal((await docker.getImage(ref).inspect()).RepoTags.includes(ref), true);
    await assert.rejects(
      docker.pull(`${registry.host}/nosuch:1`).then((st) => followProgress(docker, st)),
      /not found|manifest unknown/,
    );
  });
});

describe('testcontainers against berth serve', () => {
  let s: ServeHandle;
  before(async () => {
    s = await startServeWithBusybox();
    process.env.DOCKER_HOST = s.host;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  });
  after(async () => {
    await s?.stop();
  });

  test('a GenericContainer with an exposed port and a log wait strategy starts, answers, stops', async () => {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('bb:1')
      .withCommand(['sh', '-c', 'echo from-testcontainers > /tmp/index.html; echo ready; exec httpd -f -p 80 -h /tmp'])
      .withExposedPorts(80)
      .withWaitStrategy(Wait.forLogMessage('ready'))
      .withStartupTimeout(30_000)
      .start();
    try {
      const port = container.getMappedPort(80);
      assert.ok(port > 0);
      assert.equal(await httpGetWhenUp(`http://127.0.0.1:${port}/`), 'from-testcontainers\n');
      assert.match(berthIn(s.root, ['ps']).stdout, /bb:1/);
    } finally {
      await container.stop();
    }
    assert.doesNotMatch(berthIn(s.root, ['ps', '-a']).stdout, /bb:1/, 'stop removes the container');
  });
});

describe('dev containers CLI against berth serve', () => {
  let s: ServeHandle;
  const folder = mkdtempSync(join(tmpdir(), 'berth-api-devc-'));
  before(async () => {
    s = await startServeWithBusybox();
    mkdirSync(join(folder, '.devcontainer'));
    writeFileSync(join(folder, '.devcontainer', 'devcontainer.json'), JSON.stringify({ build: { dockerfile: 'Dockerfile' } }));
    writeFileSync(join(folder, '.devcontainer', 'Dockerfile'), 'FROM bb:1\nRUN echo devc > /etc/devc\n');
    writeFileSync(join(folder, 'hello.txt'), 'in-workspace\n');
  });
  after(async () => {
    await s?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  /** `devcontainer SUBCOMMAND --workspace-folder F --docker-path D ...rest`: the options before a command to run. */
  const devcontainer = ([sub, ...rest]: string[]) => {
    const r = spawnSync(join(REPO, 'node_modules', '.bin', 'devcontainer'), [sub!, '--workspace-folder', folder, '--docker-path', DOCKER_28, ...rest], {
      env: clientEnv(s.host),
      timeout: 180_000,
      maxBuffer: 64 << 20,
    });
    return { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };

  test('devcontainer up builds and starts the container; devcontainer exec runs in it', () => {
    const up = devcontainer(['up']);
    const debug = () => `${up.stdout}\n${up.stderr}\n--- server log (tail) ---\n${s.log().split('\n').slice(-40).join('\n')}`;
    assert.equal(up.code, 0, debug());
    const result = JSON.parse(up.stdout.trim().split('\n').pop()!) as { outcome: string; containerId: string };
    assert.equal(result.outcome, 'success', debug());
    assert.match(berthIn(s.root, ['ps', '--no-trunc']).stdout, new RegExp(result.containerId));
    const hi = devcontainer(['exec', 'echo', 'hi']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout.trim(), 'hi');
    const ws = devcontainer(['exec', 'sh', '-c', 'cat /etc/devc; cat hello.txt']);
    assert.equal(ws.stdout, 'devc\nin-workspace\n', ws.stderr);
  });
});
