/** Push and pull against a real docker-registry, with docker and skopeo on the other side. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { docker, startDockerd } from '../helpers/dockerd.ts';
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
    assert.deepEqual(manifest.layers.map((l: { mediaType: string }) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+zstd']);
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

  it('a layer dir changed on disk is refused by the registry\'s digest check, not pushed', () => {
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
      assert.equal(p.code, 125);
      assert.match(p.stderr, /DIGEST_INVALID/);
      assert.notEqual(docker(['pull', name]).code, 0, 'nothing was published under the tag');
    } finally {
      execFileSync('rm', [`${dir}/evil`]);
    }
    assert.equal(t.run(['push', '--compression-format', 'none', name]).code, 0);
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
    assert.equal(r.code, 125);
    assert.match(r.stderr, /not found/);
    const down = t.run(['pull', '127.0.0.1:1/x:1']);
    assert.equal(down.code, 125);
    assert.match(down.stderr, /cannot reach registry 127\.0\.0\.1:1/);
  });
});
