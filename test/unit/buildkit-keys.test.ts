/**
 * BuildKit's cache keys as berth computes them, against the record digests docker 20.10's
 * BuildKit (v0.8) wrote into the inline cache of an image built from:
 *   FROM <busybox image>  /  ENV STAGE=one  /  ARG V=1  /  WORKDIR /app  /  COPY a.txt /app/
 *   RUN echo one > /one && date > /stamp  /  COPY sub ./sub  /  RUN echo two > /two
 * with `--network none`, a.txt = "hello\n" (0644), sub/s.txt = "subfile\n" (0644), sub 0755.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  contextChecksum,
  copyDigest,
  copySourceNode,
  execDigest,
  goJson,
  imageSourceNode,
  llbInlineRecords,
  mkdirDigest,
  octalMode,
  rootKey,
  UnsupportedForKeys,
} from '../../src/builder/remote-cache/buildkit-keys.ts';
import type { Digest } from '../../src/oci/digest.ts';
import { writeBuildkitKeysContext } from '../helpers/buildkit-keys-context.ts';

const BASE = 'sha256:e266bf67748127d53a6f043f13bf296c72a78f523ff1847bad29511650b36174' as Digest;
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const amd64 = { os: 'linux', architecture: 'amd64' };

describe("BuildKit's cache keys", () => {
  const ctx = mkdtempSync(join(tmpdir(), 'berth-bk-keys-'));
  writeFileSync(join(ctx, 'a.txt'), 'hello\n');
  chmodSync(join(ctx, 'a.txt'), 0o644);
  mkdirSync(join(ctx, 'sub'), { mode: 0o755 });
  chmodSync(join(ctx, 'sub'), 0o755);
  writeFileSync(join(ctx, 'sub', 's.txt'), 'subfile\n');
  chmodSync(join(ctx, 'sub', 's.txt'), 0o644);
  after(() => rmSync(ctx, { recursive: true, force: true }));
  const none = () => false;

  it('FROM an image: the source key of its chain ID', () => {
    assert.equal(imageSourceNode([BASE]).digest, 'sha256:f4de5e0ab29983a4631c820b1a8afdbf2e928107483ed24ace1e110ee867da07');
  });

  it('RUN: the exec op of args, env (ENV and ARG), cwd and network', () => {
    const env = [PATH, 'STAGE=one', 'V=1'];
    const run = (cmd: string) => rootKey(execDigest({ args: ['/bin/sh', '-c', cmd], env, cwd: '/app', user: '', network: 2, platform: amd64 }), 0);
    assert.equal(run('echo one > /one && date > /stamp'), 'sha256:bee6ba0f909b0baf4cf81113f17745d05735e3c27adc7889f4528735a5526747');
    assert.equal(run('echo two > /two'), 'sha256:239dc6dc160ff53e3a03d49bccb310296607b2796844c2d800b96ca116a359d6');
    // No WORKDIR, no ENV: the first Dockerfile's one RUN.
    const plain = execDigest({ args: ['/bin/sh', '-c', 'echo one > /one'], env: [PATH], cwd: '/', user: '', network: 2, platform: amd64 });
    assert.equal(rootKey(plain, 0), 'sha256:1e5ee4ee6f6110a47ed876ddf717ad12328eaafb9d2b8dc009bc9c8c3bdfd8d3');
  });

  it('RUN --mount=type=cache: the mounts, sorted, each cache named "/" and its id or target', () => {
    const run = (cmd: string, cacheMounts: NonNullable<Parameters<typeof execDigest>[0]['cacheMounts']>) =>
      rootKey(execDigest({ args: ['/bin/sh', '-c', cmd], env: [PATH], cwd: '/', user: '', network: 2, platform: amd64, cacheMounts }), 0);
    assert.equal(
      run('echo hi > /hi', [{ dest: '/root/.cache', id: '//root/.cache', sharing: 'shared' }]),
      'sha256:a85bd30b3dac8a375416443fbc8f9199a2d9ecb299909f11db822cbcdf06dbf3',
    );
    assert.equal(
      run('echo two > /two', [{ dest: '/c', id: '/pip', sharing: 'locked' }]),
      'sha256:699940b142d00f5a7b6804d56bed0909904b086ee7b7a358a1b22f269c47596f',
    );
  });

  it("WORKDIR's mkdir and COPY's file op", () => {
    assert.equal(rootKey(mkdirDigest('/app'), 0), 'sha256:807b3e8722c68572736f54d83fd741a5b1d69ccbef218fae52b4149a56d232ce');
    assert.equal(rootKey(copyDigest(['/a.txt'], '/app/'), 0), 'sha256:4246240add2be28e0b1ac58c7fd911a09797ac0790227da9a9e580067e8a53ce');
    assert.equal(rootKey(copyDigest(['/sub'], '/app/sub'), 0), 'sha256:3fadb15e45e4515df354632185b81238b9a26941b289286459070d5f6094d18d');
  });

  it("COPY's source: the content checksum of a file and of a directory", async () => {
    assert.equal((await copySourceNode(ctx, ['/a.txt'], none)).digest, 'sha256:c24a47b576469b52903dd7e5045a62fee5855b447dee1771d67b829458d2c08e');
    assert.equal((await copySourceNode(ctx, ['/sub'], none)).digest, 'sha256:b3a0b527e32d2a112b2d4f1002c080850d734badf5732a92b706fbb098c5fb56');
    // An ignored entry is not in the directory's checksum; a change of mode or bytes is.
    const full = await contextChecksum(ctx, 'sub', none);
    writeFileSync(join(ctx, 'sub', 'ignored'), 'x');
    assert.equal(await contextChecksum(ctx, 'sub', (rel) => rel === 'sub/ignored'), full);
    assert.notEqual(await contextChecksum(ctx, 'sub', none), full);
    rmSync(join(ctx, 'sub', 'ignored'));
    chmodSync(join(ctx, 'sub', 's.txt'), 0o600);
    assert.notEqual(await contextChecksum(ctx, 'sub', none), full);
    chmodSync(join(ctx, 'sub', 's.txt'), 0o644);
    // A symlink is not mapped (BuildKit follows it inside a directory): no key rather than a wrong one.
    symlinkSync('s.txt', join(ctx, 'sub', 'link'));
    await assert.rejects(contextChecksum(ctx, 'sub', none), UnsupportedForKeys);
    rmSync(join(ctx, 'sub', 'link'));
    // A source below a symlink that leaves the context is not read.
    symlinkSync('/etc', join(ctx, 'out'));
    await assert.rejects(copySourceNode(ctx, ['/out/passwd'], none), UnsupportedForKeys);
    await assert.rejects(copySourceNode(ctx, ['/out'], none), UnsupportedForKeys);
    rmSync(join(ctx, 'out'));
  });

  it('COPY of two and three sources, COPY . (the context root, .dockerignore applied), WORKDIR under USER root', async () => {
    // A second Dockerfile docker's BuildKit built, in a context of its own (a multi-stage build, with USER and SHELL).
    const c3 = mkdtempSync(join(tmpdir(), 'berth-bk-keys3-'));
    try {
      writeBuildkitKeysContext(c3);
      const skip = (rel: string) => rel === 'f3';
      const key = (d: string) => rootKey(d, 0);
      assert.equal(key(copyDigest(['/f1', '/f2'], '/multi/')), 'sha256:e20251ca0b442f096a9fdd4d54349349ed92744525049ba1f7d999528f998ab0');
      assert.equal(key(copyDigest(['/f1', '/f2', '/d'], '/three/')), 'sha256:ffc4616f37f216797d989a7da4c9d282020dcfe00367819a51da1011db9228d8');
      assert.equal(key(copyDigest(['/'], '/all')), 'sha256:4be93e6dab0a2ce34020cb661ba4379d414001305a54d9b432de1eb563523f7c');
      assert.equal((await copySourceNode(c3, ['/f1', '/f2'], skip)).digest, 'sha256:c13d88371b7b94fd6d3296e5f265c7c809e21f864db5bd7b3be85e58883b0564');
      assert.equal((await copySourceNode(c3, ['/f1', '/f2', '/d'], skip)).digest, 'sha256:870462dc542d84a2f2bc1870730014b14cbd497f40844e87a6a282c8bf081af6');
      assert.equal((await copySourceNode(c3, ['/'], skip)).digest, 'sha256:f5c1491b86895409c6d97102f0e371643922dc29b26b2bf3f072a3e978026ea0');
      assert.equal(key(mkdirDigest('/rel', 'root')), 'sha256:14d81870af829fe6dd2357bfb3885d598093bbbe6664ce93b2d5f3470f87d7e0');
    } finally {
      rmSync(c3, { recursive: true, force: true });
    }
  });

  it('COPY --chown (IDs, a name, user:group), --chmod and ADD of a file and a directory', () => {
    const key = (srcs: string[], dest: string, opts: Parameters<typeof copyDigest>[2]) => rootKey(copyDigest(srcs, dest, opts), 0);
    assert.equal(key(['/a.txt'], '/o1/', { chown: '1000:1000' }), 'sha256:f5270a969868b8fc84488949091e2906c0fa4ced66df249f64fc6163406edfdc');
    assert.equal(key(['/a.txt', '/sub'], '/o2/', { chown: 'user' }), 'sha256:c19bb8b55d94bab42acd48580d3f64ca29cef63185a9ea9d193ff769731bfbbd');
    assert.equal(key(['/a.txt'], '/o3', { mode: octalMode('600') }), 'sha256:0d52f971b3f8d3b0a78bb956f7202e3617bcadfdb02f1413bbab9d29763fe344');
    assert.equal(key(['/a.txt'], '/o4/', { unpack: true }), 'sha256:98b98566ffef32c2a3d12713edb1a81ce3872fb5231ee1a67db77011dab8e27e');
    assert.equal(key(['/sub'], '/o5', { unpack: true }), 'sha256:231d95b4702a8ac9bd027a941ae3628abda419e06aea42bdafdc5efeac444859');
    assert.equal(key(['/a.txt'], '/o6/', { chown: 'root:user' }), 'sha256:15ccc56472b28747bdaa1903dbae6b46dc5c9dad89602e6e739e06c3c7aed3df');
    assert.equal(octalMode('0755'), 0o755);
    assert.equal(octalMode('9'), undefined);
    assert.equal(octalMode('-1'), undefined);
  });

  it("writes strings as Go's encoding/json does", () => {
    assert.equal(goJson({ a: 'x<y>&z\u2028\b\f\n' }), '{"a":"x\\u003cy\\u003e\\u0026z\\u2028\\u0008\\u000c\\n"}');
    assert.equal(goJson(['\\b']), '["\\\\b"]'); // a backslash, then b: no \u0008
  });

  it("inline records: each once, linked by index, results only where the layer is the image's", () => {
    const from = imageSourceNode([BASE]);
    const d1 = `sha256:${'1'.repeat(64)}` as Digest;
    const src = { digest: 'sha256:src', inputs: [] };
    const copy = { digest: 'sha256:copy', inputs: [[from], [src]], result: [BASE, d1] };
    const run = { digest: 'sha256:run', inputs: [[copy]], result: [BASE, d1, `sha256:${'9'.repeat(64)}` as Digest] };
    const recs = llbInlineRecords(run, [BASE, d1, `sha256:${'2'.repeat(64)}` as Digest], 't', 0);
    assert.deepEqual(
      recs.map((r) => [r.digest, r.layers?.[0]?.layer, r.inputs?.map((i) => i.map((l) => l.link))]),
      [
        [from.digest, undefined, undefined],
        ['sha256:src', undefined, undefined],
        ['sha256:copy', 1, [[0], [1]]],
        ['sha256:run', undefined, [[2]]],
      ],
    );
  });
});
