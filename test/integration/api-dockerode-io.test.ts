/** dockerode against `berth serve` on a container's streams: plain attach before start, wait, followed logs demultiplexed. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { berthIn, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';

/** Collects what dockerode's demuxer sends to stdout and to stderr. */
function demuxed(docker: Docker, stream: NodeJS.ReadableStream): Promise<{ out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve) => stream.on('end', () => resolve({ out: o, err: e })));
}

describe('berth serve: dockerode on container streams', () => {
  let s: ServeHandle;
  let docker: Docker;
  const t = tempRoot('berth-api-dockerode-io-');
  const create = (...args: string[]) => {
    const r = berthIn(s.root, ['create', '--network', 'none', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  before(async () => {
    s = await startServe({ root: t.root });
    docker = new Docker({ socketPath: s.socket });
    const r = berthIn(s.root, ['import', busyboxTar(), 'bb:1']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await s.stop();
    t.cleanup();
  });

  test('attach (not hijacked) before start, then start and wait: the output demuxed and the status', async () => {
    const c = docker.getContainer(create('bb:1', 'sh', '-c', 'echo out; echo err >&2; exit 4'));
    const stream = (await c.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    const got = demuxed(docker, stream);
    await c.start();
    const status = (await c.wait()) as { StatusCode: number };
    assert.equal(status.StatusCode, 4);
    assert.deepEqual(await got, { out: 'out\n', err: 'err\n' });
  });

  test('logs: whole, then followed until the exit', async () => {
    const c = docker.getContainer(create('bb:1', 'sh', '-c', 'for i in 1 2 3; do echo n$i; sleep 0.3; done; echo e >&2'));
    await c.start();
    const follow = (await c.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    assert.deepEqual(await demuxed(docker, follow), { out: 'n1\nn2\nn3\n', err: 'e\n' });
    const whole = (await c.logs({ stdout: true, stderr: false })) as Buffer;
    assert.equal(whole.toString('hex'), ['n1', 'n2', 'n3'].map((l) => `0100000000000003${Buffer.from(`${l}\n`).toString('hex')}`).join(''));
  });
});
