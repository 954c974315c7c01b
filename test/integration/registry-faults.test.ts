/** A registry that lies or breaks mid-transfer never leaves a bad blob; interrupted pulls resume. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, berthAsync, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startProxy, type FaultyProxy } from '../helpers/proxy.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

/** The entries of a dir under a state root; none while the store is not made yet. */
function listIn(root: string, dir: string): string[] {
  try {
    return readdirSync(join(root, dir));
  } catch {
    return [];
  }
}

let reg: TestRegistry;
let proxy: FaultyProxy;
const src = tempRoot('berth-faults-src-');
before(async () => {
  reg = await startRegistry();
  proxy = await startProxy(reg.host);
  assert.equal(src.run(['import', busyboxTar(), `${reg.host}/faults/bb:1`]).code, 0);
  // Push uncompressed so the layer blob is large enough (2 MB) to break in the middle.
  assert.equal(src.run(['push', '--compression-format', 'none', `${reg.host}/faults/bb:1`]).code, 0);
});
after(async () => {
  await proxy.close();
  reg.stop();
  src.cleanup();
});

describe('faulty registry', () => {
  for (const fault of ['corrupt', 'truncate', 'drop'] as const) {
    it(`${fault}: the pull fails cleanly, stores no bad blob, and a retry succeeds`, async () => {
      const t = tempRoot(`berth-faults-${fault}-`);
      try {
        const name = `${proxy.host}/faults/bb:1`;
        proxy.fault = fault;
        const r = await berthAsync(t.root, ['pull', name]);
        assert.notEqual(r.code, 0, 'the pull must fail');
        assert.match(r.stderr, /^berth: Error: /m);
        assert.equal(t.run(['system', 'check']).code, 0);
        assert.equal(t.run(['images', '-q']).stdout, '');
        proxy.fault = 'none';
        proxy.ranges.length = 0;
        const ok = await berthAsync(t.root, ['pull', name]);
        assert.equal(ok.code, 0, ok.stderr);
        if (fault !== 'corrupt') assert.ok(proxy.ranges.length > 0, 'the retry should resume with a Range request');
        assert.equal(t.run(['run', '--rm', '--network', 'none', name, 'echo', 'ok']).stdout, 'ok\n');
        assert.equal(t.run(['system', 'check']).code, 0);
      } finally {
        t.cleanup();
      }
    });
  }

  it('a pull killed with SIGKILL halfway resumes and succeeds', async () => {
    const t = tempRoot('berth-faults-kill-');
    try {
      const name = `${proxy.host}/faults/bb:1`;
      proxy.fault = 'slow';
      proxy.bytesSent = 0;
      const child = spawn(BERTH, ['--root', t.root, 'pull', name], { stdio: 'ignore' });
      for (let i = 0; i < 200 && proxy.bytesSent < 600_000; i++) await new Promise((r) => setTimeout(r, 25));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      assert.ok(
        readdirSync(join(t.root, 'content', 'ingest')).some((f) => f.startsWith('resume-')),
        'a partial download should remain',
      );
      proxy.fault = 'none';
      proxy.ranges.length = 0;
      const ok = await berthAsync(t.root, ['pull', name]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(
        proxy.ranges.some((r) => /^bytes=[1-9]\d*-$/.test(r)),
        `expected a resuming Range request, saw ${proxy.ranges.join(',')}`,
      );
      assert.equal(t.run(['system', 'check']).code, 0);
    } finally {
      t.cleanup();
    }
  });
});

describe('extraction during the download', () => {
  // A plain download writes ingest/resume-<hex>; a ranged one (2 MB in 256 kB parts) ranged-<hex>.
  const ways = [
    { name: 'one stream', ingest: 'resume-', env: process.env },
    { name: 'ranged parts', ingest: 'ranged-', env: { ...process.env, BERTH_RANGE_THRESHOLD: '100000', BERTH_RANGE_PART: '262144' } },
  ];
  for (const way of ways) {
    it(`${way.name}: a layer is being unpacked while its blob is still downloading, and is published only once verified`, async () => {
      const t = tempRoot('berth-overlap-');
      try {
        proxy.fault = 'slow';
        const child = spawn(BERTH, ['--root', t.root, 'pull', `${proxy.host}/faults/bb:1`], { stdio: 'ignore', env: way.env });
        const list = (dir: string) => listIn(t.root, dir);
        let overlapped = false;
        for (let i = 0; i < 400 && !overlapped; i++) {
          const unpacking = list('snapshots/layers/tmp').some((f) => !f.startsWith('rm-'));
          const downloading = list('content/ingest').some((f) => f.startsWith(way.ingest) && !f.endsWith('.parts'));
          const layers = list('snapshots/layers').filter((f) => /^[0-9a-f]{64}$/.test(f));
          assert.deepEqual(layers, [], 'no layer dir is published before its blob is verified');
          overlapped = unpacking && downloading;
          await new Promise((r) => setTimeout(r, 25));
        }
        assert.ok(overlapped, 'extraction should run while the blob downloads');
        const code = await new Promise((r) => child.on('exit', r));
        assert.equal(code, 0);
        assert.equal(t.run(['run', '--rm', '--network', 'none', `${proxy.host}/faults/bb:1`, 'echo', 'ok']).stdout, 'ok\n');
        assert.equal(t.run(['system', 'check']).code, 0);
      } finally {
        proxy.fault = 'none';
        t.cleanup();
      }
    });
  }
});

describe('big blobs in ranged parts', () => {
  // A 100 kB threshold and 256 kB parts split the 2 MB layer into 8 parts fetched 4 at a time.
  const env = { ...process.env, BERTH_RANGE_THRESHOLD: '100000', BERTH_RANGE_PART: '262144' };
  const pull = (root: string) => berthAsync(root, ['pull', `${proxy.host}/faults/bb:1`], { env });
  const partRanges = () => proxy.ranges.filter((r) => /^bytes=\d+-\d+$/.test(r));

  async function inRoot(prefix: string, fn: (t: ReturnType<typeof tempRoot>) => Promise<void>) {
    const t = tempRoot(prefix);
    try {
      await fn(t);
    } finally {
      proxy.fault = 'none';
      t.cleanup();
    }
  }

  it('a pull fetches the parts in parallel, verifies the whole, and runs', () =>
    inRoot('berth-ranged-ok-', async (t) => {
      proxy.fault = 'none';
      proxy.ranges.length = 0;
      const r = await pull(t.root);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(partRanges().length, 8, proxy.ranges.join(','));
      assert.equal(t.run(['run', '--rm', '--network', 'none', `${proxy.host}/faults/bb:1`, 'echo', 'ok']).stdout, 'ok\n');
      assert.equal(t.run(['system', 'check']).code, 0);
    }));

  it('a corrupt part fails the pull and leaves nothing behind; a retry succeeds', () =>
    inRoot('berth-ranged-bad-', async (t) => {
      proxy.fault = 'corrupt';
      const r = await pull(t.root);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /digest mismatch/);
      assert.deepEqual(
        readdirSync(join(t.root, 'content', 'ingest')).filter((f) => f.startsWith('ranged-')),
        [],
      );
      assert.equal(t.run(['system', 'check']).code, 0);
      proxy.fault = 'none';
      assert.equal((await pull(t.root)).code, 0);
    }));

  it('a dropped connection is retried for that part alone', () =>
    inRoot('berth-ranged-drop-', async (t) => {
      proxy.fault = 'drop-once';
      proxy.ranges.length = 0;
      const r = await pull(t.root);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(partRanges().length, 9, 'eight parts and one retried');
      assert.equal(t.run(['system', 'check']).code, 0);
    }));

  it('a registry that ignores Range gets one plain download', () =>
    inRoot('berth-ranged-norange-', async (t) => {
      proxy.fault = 'norange';
      const r = await pull(t.root);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(t.run(['run', '--rm', '--network', 'none', `${proxy.host}/faults/bb:1`, 'echo', 'ok']).stdout, 'ok\n');
    }));

  it('SIGKILL halfway keeps the finished parts, and the next pull fetches only the rest', () =>
    inRoot('berth-ranged-kill-', async (t) => {
      proxy.fault = 'slow';
      proxy.bytesSent = 0;
      const child = spawn(BERTH, ['--root', t.root, 'pull', `${proxy.host}/faults/bb:1`], { stdio: 'ignore', env });
      const parts = () => listIn(t.root, 'content/ingest').filter((f) => f.endsWith('.parts'));
      for (let i = 0; i < 400 && !parts().length; i++) await new Promise((r) => setTimeout(r, 25));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      assert.equal(parts().length, 1, 'a record of finished parts should remain');
      proxy.fault = 'none';
      proxy.ranges.length = 0;
      const ok = await pull(t.root);
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(partRanges().length < 8, `only the missing parts are fetched again: ${partRanges().join(',')}`);
      assert.equal(t.run(['system', 'check']).code, 0);
    }));
});

describe('extraction on a worker thread', () => {
  // A 1-byte threshold sends every layer to the worker thread, as a 32 MB+ layer goes.
  const env = { ...process.env, BERTH_THREAD_THRESHOLD: '1', BERTH_TIMING: '1' };
  for (const fault of ['none', 'corrupt'] as const) {
    it(`${fault === 'none' ? 'a clean pull' : 'a corrupt blob'}: the layer is extracted on the worker${fault === 'none' ? ' and runs' : ', and nothing is kept'}`, async () => {
      const t = tempRoot('berth-thread-');
      try {
        proxy.fault = fault;
        const name = `${proxy.host}/faults/bb:1`;
        const r = await berthAsync(t.root, ['pull', name], { env });
        assert.match(r.stderr, /layer extracted on a worker thread/);
        if (fault === 'none') {
          assert.equal(r.code, 0, r.stderr);
          // Once: a layer unpacked during its download is not extracted again from the stored blob.
          assert.equal(r.stderr.match(/layer extracted on a worker thread$/gm)?.length, 1, r.stderr);
          assert.equal(t.run(['run', '--rm', '--network', 'none', name, 'sh', '-c', 'ls /bin | wc -l']).stdout.trim() !== '0', true);
        } else {
          assert.notEqual(r.code, 0);
          assert.match(r.stderr, /digest/);
          assert.equal(t.run(['images', '-q']).stdout, '');
          assert.deepEqual(
            listIn(t.root, 'snapshots/layers').filter((f) => /^[0-9a-f]{64}$/.test(f)),
            [],
          );
        }
        assert.equal(t.run(['system', 'check']).code, 0);
      } finally {
        proxy.fault = 'none';
        t.cleanup();
      }
    });
  }
});

/** Pushes an image straight through the distribution API: blobs (monolithic), then the manifest. */
async function pushRaw(host: string, repo: string, tag: string, layer: Buffer, diffId: string): Promise<void> {
  const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const upload = async (b: Buffer) => {
    const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, `http://${host}`);
    location.searchParams.set('digest', digestOf(b));
    const put = await fetch(location, { method: 'PUT', body: new Uint8Array(b), headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(put.status, 201, await put.text());
    return { digest: digestOf(b), size: b.length };
  };
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const c = await upload(config);
  const l = await upload(layer);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l }],
  };
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: JSON.stringify(manifest),
    headers: { 'Content-Type': manifest.mediaType },
  });
  assert.equal(put.status, 201, await put.text());
}

describe('a layer whose bytes match their digest but cannot be extracted', () => {
  // gzip's magic, then noise: the registry serves it faithfully, and the extraction fails
  // within the first part while the later parts still download.
  const layer = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff]), randomBytes(2 << 20)]);
  before(() => pushRaw(reg.host, 'faults/broken', '1', layer, `sha256:${'0'.repeat(64)}`));
  const ways = [
    { name: 'one stream', env: process.env },
    { name: 'ranged parts', env: { ...process.env, BERTH_RANGE_THRESHOLD: '100000', BERTH_RANGE_PART: '262144' } },
    {
      name: 'ranged parts, on a worker thread',
      env: { ...process.env, BERTH_RANGE_THRESHOLD: '100000', BERTH_RANGE_PART: '262144', BERTH_THREAD_THRESHOLD: '1' },
    },
  ];
  for (const way of ways) {
    it(`${way.name}: the pull fails with the extraction's own error, and keeps nothing`, async () => {
      const t = tempRoot('berth-broken-');
      try {
        const r = await berthAsync(t.root, ['pull', `${reg.host}/faults/broken:1`], { env: way.env });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /^berth: Error: cannot decompress the layer: /m);
        assert.equal(t.run(['images', '-q']).stdout, '');
        assert.deepEqual(
          listIn(t.root, 'snapshots/layers').filter((f) => /^[0-9a-f]{64}$/.test(f)),
          [],
        );
        assert.equal(t.run(['system', 'check']).code, 0);
      } finally {
        t.cleanup();
      }
    });
  }
});
