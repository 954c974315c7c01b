/** Push and pull against a real docker-registry, with docker and skopeo on the other side. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const t = tempRoot('berth-reg-');
let reg: TestRegistry;
const work = mkdtempSync(join(tmpdir(), 'berth-reg-work-'));
before(async () => {
  await startDockerd();
  reg = await startRegistry();
  assert.equal(t.run(['import', '--change', 'CMD ["echo", "pushed-by-berth"]', busyboxTar(), 'bb:1']).code, 0);
});
after(() => {
  stopDockerd();
  reg.stop();
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('berth push → docker pull → docker run', () => {
  it('docker runs what berth pushed; skopeo copies it', () => {
    const name = `${reg.host}/team/model:1`;
    assert.equal(t.run(['tag', 'bb:1', name]).code, 0);
    const p = t.run(['push', name]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^1: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    assert.equal(docker(['pull', name]).code, 0);
    assert.equal(docker(['run', '--rm', '--network', 'none', name]).stdout, 'pushed-by-berth\n');
    const dest = join(work, 'skopeo-oci');
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${name}`, `oci:${dest}:1`]);
    assert.ok(JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')).manifests.length === 1);
  });

  it('a second push uploads nothing and keeps the digest', () => {
    const name = `${reg.host}/team/model:1`;
    const first = t.run(['push', name]).stdout.match(/digest: (\S+)/)![1];
    const again = t.run(['push', name]);
    assert.match(again.stdout, /Layer already exists/);
    assert.equal(again.stdout.match(/digest: (\S+)/)![1], first);
  });

  it('pushing to another repository mounts the blobs', () => {
    const name = `${reg.host}/other/model:1`;
    assert.equal(t.run(['tag', 'bb:1', name]).code, 0);
    const p = t.run(['push', name]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /Mounted from another repository|Layer already exists/);
  });
});

describe('zstd', () => {
  it('push --compression-format zstd sends zstd layers that berth pulls and runs, and skopeo copies', () => {
    const name = `${reg.host}/team/zstd:1`;
    assert.equal(t.run(['tag', 'bb:1', name]).code, 0);
    const p = t.run(['push', '--compression-format', 'zstd', name]);
    assert.equal(p.code, 0, p.stderr);
    const digest = p.stdout.match(/digest: (\S+)/)![1]!;
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' }));
    assert.deepEqual(
      manifest.layers.map((l: { mediaType: string }) => l.mediaType),
      ['application/vnd.oci.image.layer.v1.tar+zstd'],
    );
    const blob = execFileSync('curl', ['-sfL', '-r', '0-3', `http://${reg.host}/v2/team/zstd/blobs/${manifest.layers[0].digest}`]);
    assert.deepEqual([...blob.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'zstd magic');
    const again = t.run(['push', '--compression-format', 'zstd', name]);
    assert.equal(again.stdout.match(/digest: (\S+)/)![1], digest, 'the compressed blob is cached: same digest');
    const fresh = tempRoot('berth-reg-zstd-');
    try {
      const pull = fresh.run(['pull', name]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.equal(fresh.run(['run', '--rm', '--network', 'none', name]).stdout, 'pushed-by-berth\n');
      assert.equal(fresh.run(['system', 'check']).code, 0);
    } finally {
      fresh.cleanup();
    }
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${name}`, `oci:${join(work, 'skopeo-zstd')}:1`]);
  });
});

describe('built images', () => {
  it('a layer kept only as its dir is regenerated, verified, pushed and runs elsewhere', () => {
    const ctx = join(work, 'built');
    execFileSync('mkdir', ['-p', ctx]);
    execFileSync('sh', ['-c', `printf 'FROM bb:1\\nRUN echo built-here > /b\\nCMD ["cat", "/b"]\\n' > ${ctx}/Dockerfile`]);
    const name = `${reg.host}/built/app:1`;
    const b = t.run(['build', '--network', 'none', '-t', name, ctx]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(t.run(['system', 'check']).code, 0);
    assert.equal(t.run(['push', name]).code, 0);
    assert.equal(docker(['run', '--rm', '--network', 'none', name]).stdout, 'built-here\n');
  });

  it("a layer dir changed on disk is refused by the registry's digest check, not pushed", () => {
    const ctx = join(work, 'tampered');
    execFileSync('mkdir', ['-p', ctx]);
    execFileSync('sh', ['-c', `printf 'FROM bb:1\nRUN echo original > /t\n' > ${ctx}/Dockerfile`]);
    const name = `${reg.host}/built/tampered:1`;
    assert.equal(t.run(['build', '--network', 'none', '-t', name, ctx]).code, 0);
    const layers = JSON.parse(t.run(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', name]).stdout) as string[];
    const dir = join(t.root, 'snapshots', 'layers', layers.at(-1)!.slice(7));
    execFileSync('sh', ['-c', `echo evil > ${dir}/evil`]);
    try {
      const p = t.run(['push', '--compression-format', 'none', name]);
      assert.equal(p.code, 1);
      assert.match(p.stderr, /DIGEST_INVALID/);
      assert.notEqual(docker(['pull', name]).code, 0, 'nothing was published under the tag');
    } finally {
      execFileSync('rm', [`${dir}/evil`]);
    }
    assert.equal(t.run(['push', '--compression-format', 'none', name]).code, 0);
  });
});

describe('push --compression-format auto, and chunked uploads', () => {
  /** The media types of a pushed manifest's layers, as the registry serves them. */
  async function layerTypes(name: string): Promise<string[]> {
    const [, repo, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(name)!;
    const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    return ((await res.json()) as { layers: Array<{ mediaType: string }> }).layers.map((l) => l.mediaType);
  }
  // Pieces of 1 MB: the layers below go up in many PATCHes whose ends fall inside files.
  const chunked = { env: { BERTH_UPLOAD_CHUNK: String(1 << 20) } };

  it('a layer that is mostly random bytes goes up uncompressed, even when small text files come first in its tar', async () => {
    const ctx = join(work, 'weights');
    mkdirSync(join(ctx, 'a-notes'), { recursive: true });
    // 1 MB of text sorted before 16 MB of weights: a sample of the tar's first megabyte
    // alone would say that gzip pays.
    for (let i = 0; i < 100; i++) writeFileSync(join(ctx, 'a-notes', `${i}.txt`), 'learning rate 0.001, batch 64\n'.repeat(340));
    const weights = randomBytes(16 << 20);
    writeFileSync(join(ctx, 'weights.bin'), weights);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nCOPY . /ctx/\n');
    const name = `${reg.host}/auto/weights:1`;
    assert.equal(t.run(['build', '-q', '-t', name, ctx]).code, 0);
    const p = t.run(['push', name], chunked);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /does not compress; pushing it uncompressed/);
    assert.equal((await layerTypes(name)).at(-1), 'application/vnd.oci.image.layer.v1.tar');
    // What went up in pieces is the whole layer: docker pulls it and finds the same bytes.
    assert.equal(docker(['pull', name]).code, 0);
    const sum = docker(['run', '--rm', '--network', 'none', name, 'sha256sum', '/ctx/weights.bin']).stdout.split(' ')[0];
    assert.equal(sum, createHash('sha256').update(weights).digest('hex'));
  });

  it('a layer of text is gzipped', async () => {
    const ctx = join(work, 'text');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'vocab.txt'), Array.from({ length: 60_000 }, (_, i) => `token${i}`).join('\n'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nCOPY vocab.txt /\n');
    const name = `${reg.host}/auto/text:1`;
    assert.equal(t.run(['build', '-q', '-t', name, ctx]).code, 0);
    const p = t.run(['push', name], chunked);
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await layerTypes(name)).at(-1), 'application/vnd.oci.image.layer.v1.tar+gzip');
  });

  it('a chunked upload whose layer no longer has its size fails with a clear error, tags nothing, and works once the layer is whole', () => {
    const ctx = join(work, 'changed');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'weights.bin'), randomBytes(3 << 20));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nCOPY weights.bin /\n');
    const name = `${reg.host}/auto/changed:1`;
    assert.equal(t.run(['build', '-q', '-t', name, ctx]).code, 0);
    const layers = JSON.parse(t.run(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', name]).stdout) as string[];
    const file = join(t.root, 'snapshots', 'layers', layers.at(-1)!.slice(7), 'weights.bin');
    const original = readFileSync(file);
    const { atime, mtime } = statSync(file);
    try {
      for (const changed of [original.subarray(0, original.length - 4096), Buffer.concat([original, Buffer.alloc(4096)])]) {
        writeFileSync(file, changed);
        const p = t.run(['push', name], chunked);
        assert.equal(p.code, 1, p.stdout);
        assert.match(p.stderr, /bytes short of its size|is longer than its/);
        assert.notEqual(docker(['pull', name]).code, 0, 'nothing was published under the tag');
      }
    } finally {
      writeFileSync(file, original);
      utimesSync(file, atime, mtime);
    }
    const p = t.run(['push', name], chunked);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(docker(['pull', name]).code, 0);
  });
});

describe('docker push → berth pull → berth run', () => {
  it('berth runs what docker pushed', () => {
    const name = `${reg.host}/fromdocker/app:2`;
    assert.equal(docker(['import', '--change', 'CMD ["echo", "pushed-by-docker"]', busyboxTar(), name]).code, 0);
    assert.equal(docker(['push', name]).code, 0);
    const fresh = tempRoot('berth-reg-pull-');
    try {
      const pull = fresh.run(['pull', name]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, /Status: Downloaded newer image/);
      assert.equal(fresh.run(['run', '--rm', '--network', 'none', name]).stdout, 'pushed-by-docker\n');
      assert.match(fresh.run(['inspect', '-f', '{{json .RepoDigests}}', name]).stdout, new RegExp(`${reg.host}/fromdocker/app@sha256:`));
      assert.equal(fresh.run(['system', 'check']).code, 0);
    } finally {
      fresh.cleanup();
    }
  });

  it('a missing image and a missing registry give clear errors', () => {
    const r = t.run(['pull', `${reg.host}/no/such:1`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not found/);
    const down = t.run(['pull', '127.0.0.1:1/x:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach registry 127\.0\.0\.1:1/);
  });
});
