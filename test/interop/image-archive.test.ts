/** save/load against a real Docker engine, skopeo and umoci. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const t = tempRoot('berth-archive-');
const work = mkdtempSync(join(tmpdir(), 'berth-archive-work-'));
before(async () => {
  await startDockerd();
  assert.equal(t.run(['import', '--change', 'CMD ["echo", "from-berth"]', busyboxTar(), 'arch:1']).code, 0);
});
after(() => {
  stopDockerd();
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('berth save → docker load', () => {
  it('docker runs the image berth saved', () => {
    const tar = join(work, 'berth.tar');
    const s = t.run(['save', '-o', tar, 'arch:1']);
    assert.equal(s.code, 0, s.stderr);
    const l = docker(['load', '-i', tar]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /Loaded image: arch:1/);
    const r = docker(['run', '--rm', '--network', 'none', 'arch:1']);
    assert.equal(r.stdout, 'from-berth\n', r.stderr);
    const id = t.run(['inspect', '-f', '{{.Id}}', 'arch:1']).stdout.trim();
    assert.equal(docker(['inspect', '-f', '{{.Id}}', 'arch:1']).stdout.trim(), id);
  });
});

describe('docker save → berth load', () => {
  it('keeps the config digest and the layer diffIDs', () => {
    const df = join(work, 'ctx');
    execFileSync('mkdir', ['-p', df]);
    writeFileSync(join(df, 'Dockerfile'), 'FROM arch:1\nRUN echo two > /two\nRUN echo three > /three\nENV STAGE=3\n');
    const b = docker(['build', '-q', '-t', 'fromdocker:1', df]);
    assert.equal(b.code, 0, b.stderr);
    const tar = join(work, 'docker.tar');
    assert.equal(docker(['save', '-o', tar, 'fromdocker:1']).code, 0);
    const l = t.run(['load', '-i', tar]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /Loaded image: fromdocker:1/);
    const fmt = '{{.Id}} {{json .RootFS.Layers}}';
    assert.equal(t.run(['inspect', '-f', fmt, 'fromdocker:1']).stdout, docker(['inspect', '-f', fmt, 'fromdocker:1']).stdout);
    const r = t.run(['run', '--rm', '--network', 'none', 'fromdocker:1', 'sh', '-c', 'cat /two /three; echo $STAGE']);
    assert.equal(r.stdout, 'two\nthree\n3\n', r.stderr);
    assert.equal(t.run(['system', 'check']).code, 0);
  });
});

describe('OCI archive', () => {
  it('skopeo and umoci read berth save --format oci-archive', () => {
    const tar = join(work, 'oci.tar');
    assert.equal(t.run(['save', '--format', 'oci-archive', '-o', tar, 'arch:1']).code, 0);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${tar}:1`]).toString()) as { Layers: string[]; Architecture: string };
    assert.equal(inspect.Layers.length, 1);
    assert.equal(inspect.Architecture, 'amd64');
    const layout = join(work, 'layout');
    execFileSync('mkdir', ['-p', layout]);
    execFileSync('tar', ['-xf', tar, '-C', layout]);
    const ls = execFileSync('umoci', ['ls', '--layout', layout]).toString();
    assert.match(ls, /^1$/m);
    const bundle = join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:1`, bundle]);
    assert.equal(spawnSync('test', ['-x', join(bundle, 'rootfs', 'bin', 'busybox')]).status, 0);
  });
});

describe('bad input loses nothing', () => {
  const bad: Array<[string, () => Buffer]> = [
    ['a truncated archive', () => execFileSync('head', ['-c', '3000', join(work, 'berth.tar')])],
    ['random bytes', () => Buffer.from('this is not a tar archive at all, not even close'.repeat(20))],
    ['a tar without a manifest', () => execFileSync('tar', ['-cf', '-', '-C', '/etc', 'hostname'])],
  ];
  for (const [name, make] of bad) {
    it(`load of ${name} fails with one clear line and the store stays consistent`, () => {
      const r = t.run(['load'], { input: make() });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^berth: Error: .+/);
      assert.equal(t.run(['system', 'check']).code, 0);
    });
  }

  it('an unknown reference gives a clear error', () => {
    const r = t.run(['image', 'inspect', 'no-such-image:9']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such image: no-such-image:9/);
    const bad = t.run(['tag', 'arch:1', 'Bad/Name']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid reference format/);
  });

  it('a corrupt blob is reported by system check', () => {
    const t2 = tempRoot('berth-corrupt-');
    try {
      assert.equal(t2.run(['import', busyboxTar(), 'c:1']).code, 0);
      const id = t2.run(['inspect', '-f', '{{.Id}}', 'c:1']).stdout.trim();
      writeFileSync(join(t2.root, 'content', 'blobs', 'sha256', id.slice(7)), '{"tampered":true}');
      const r = t2.run(['system', 'check']);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /does not match its digest/);
    } finally {
      t2.cleanup();
    }
  });
});

describe('image removal and archive integrity', () => {
  it('rmi refuses an image a container uses, unless -f', () => {
    assert.equal(t.run(['tag', 'arch:1', 'inuse:1']).code, 0);
    assert.equal(t.run(['create', '--name', 'holder', 'inuse:1', 'true']).code, 0);
    assert.equal(t.run(['rmi', 'inuse:1']).code, 0, 'untagging one of two names is fine');
    const r = t.run(['rmi', 'arch:1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /container [0-9a-f]{12} is using its referenced image/);
    assert.equal(t.run(['rm', 'holder']).code, 0);
  });

  it('an archive whose blob does not match its digest is refused, and nothing is loaded', () => {
    const tar = join(work, 'berth.tar');
    const dir = join(work, 'tampered');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('tar', ['-xf', tar, '-C', dir]);
    // Corrupt the config blob in place (the file keeps its digest name) and drop the
    // docker manifest so the OCI index, which names blobs by digest, is what load reads.
    const index = JSON.parse(execFileSync('cat', [join(dir, 'index.json')]).toString()) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(execFileSync('cat', [join(dir, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7))]).toString()) as {
      config: { digest: string };
    };
    writeFileSync(
      join(dir, 'blobs', 'sha256', manifest.config.digest.slice(7)),
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"x":1}',
    );
    execFileSync('rm', [join(dir, 'manifest.json')]);
    const fresh = tempRoot('berth-tamper-');
    try {
      const r = fresh.run(['load', '-i', dir]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /expected \d+ bytes|digest mismatch/);
      assert.equal(fresh.run(['images', '-q']).stdout, '');
      assert.equal(fresh.run(['system', 'check']).code, 0);
    } finally {
      fresh.cleanup();
    }
  });
});
