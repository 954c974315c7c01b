/**
 * build --cache-to / --cache-from: two state roots stand for two CI runners and a local
 * registry for the team's. Runner A exports its layers (mode=max) and its cache mount;
 * runner B, empty, runs only the step whose input changed, with the cache mount warm.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxTar } from '../helpers/busybox.ts';
import { tempRoot } from '../helpers/berth.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const DOCKERFILE = (base: string) => `FROM ${base} AS deps
RUN --mount=type=cache,id=scratch,target=/scratch,sharing=private echo wheels > /deps.txt && echo x > /scratch/x && echo ran-deps-stage
FROM ${base}
RUN --mount=type=cache,id=pip,target=/root/.cache/pip,sharing=locked echo fill > /root/.cache/pip/wheel-1 && echo ran-install
COPY --from=deps /deps.txt /deps.txt
COPY app.py /app/app.py
RUN --mount=type=cache,id=pip,target=/root/.cache/pip sh -c 'if [ -f /root/.cache/pip/wheel-1 ]; then echo pip-cache-hit; else echo pip-cache-miss; fi > /app/pip-state; echo ran-app-step'
`;

describe('build remote cache (registry, local)', () => {
  let reg: TestRegistry;
  const a = tempRoot('berth-cache-a-');
  const b = tempRoot('berth-cache-b-');
  const work = mkdtempSync(join(tmpdir(), 'berth-cache-ctx-'));
  let base = '';
  before(async () => {
    reg = await startRegistry();
    base = `${reg.host}/bb:base`;
    assert.equal(a.run(['import', busyboxTar(), base]).code, 0);
    assert.equal(a.run(['push', base]).code, 0);
    mkdirSync(join(work, 'ctx'));
    writeFileSync(join(work, 'ctx', 'Dockerfile'), DOCKERFILE(base));
    writeFileSync(join(work, 'ctx', 'app.py'), 'print(1)\n');
  });
  after(() => {
    reg?.stop();
    a.cleanup();
    b.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it("runner B builds from runner A's registry cache: only the changed step runs, its cache mount warm", () => {
    const ref = `${reg.host}/cache:ml`;
    const ra = a.run(['build', '--progress', 'plain', '--cache-to', `type=registry,ref=${ref},mode=max,mounts=true`, '-t', 'ml:a', join(work, 'ctx')]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.match(ra.stderr, /#\d+ [\d.]+ ran-deps-stage/);
    assert.match(ra.stderr, /exporting cache to/);
    writeFileSync(join(work, 'ctx', 'app.py'), 'print(2)\n');
    const rb = b.run(['build', '--progress', 'plain', '--cache-from', `type=registry,ref=${ref}`, '-t', 'ml:b', join(work, 'ctx')]);
    assert.equal(rb.code, 0, rb.stderr);
    assert.doesNotMatch(rb.stderr, /#\d+ [\d.]+ ran-deps-stage/, 'the deps stage (mode=max) came from the cache');
    assert.doesNotMatch(rb.stderr, /#\d+ [\d.]+ ran-install/, 'the install step came from the cache');
    assert.match(rb.stderr, /#\d+ [\d.]+ ran-app-step/, 'the step after the changed file ran');
    const state = b.run(['run', '--rm', 'ml:b', 'cat', '/app/pip-state']);
    assert.equal(state.stdout.trim(), 'pip-cache-hit', state.stderr);
  });

  const ran = (out: string, what: string) => new RegExp(`#\\d+ [\\d.]+ ${what}`).test(out);

  it('a local cache dir (OCI layout) serves a fresh runner; its index lists the cache config', () => {
    const dir = join(work, 'local-cache');
    const ra = a.run(['build', '--progress', 'plain', '--cache-to', `type=local,dest=${dir},mode=max,mounts=true`, '-t', 'ml:local', join(work, 'ctx')]);
    assert.equal(ra.code, 0, ra.stderr);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    assert.equal(index.manifests[0]!.annotations?.['org.opencontainers.image.ref.name'], 'latest');
    const root = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as {
      manifests: { mediaType: string; annotations?: Record<string, string> }[];
    };
    assert.equal(root.manifests.at(-1)!.mediaType, 'application/vnd.buildkit.cacheconfig.v0');
    assert.ok(
      root.manifests.some((m) => m.annotations?.['dev.berth.cache-mount.id'] === 'pip'),
      'the pip cache mount is in the index',
    );
    assert.ok(!root.manifests.some((m) => m.annotations?.['dev.berth.cache-mount.id'] === 'scratch'), 'a sharing=private mount is not exported');
    const c = tempRoot('berth-cache-c-');
    try {
      const rc = c.run(['build', '--progress', 'plain', '--cache-from', `type=local,src=${dir}`, '-t', 'ml:c', join(work, 'ctx')]);
      assert.equal(rc.code, 0, rc.stderr);
      assert.ok(!ran(rc.stderr, 'ran-deps-stage') && !ran(rc.stderr, 'ran-install') && !ran(rc.stderr, 'ran-app-step'), rc.stderr);
    } finally {
      c.cleanup();
    }
  });

  it('mode=min leaves out the intermediate stage; mounts are exported only with mounts=true', () => {
    const dir = join(work, 'min-cache');
    const ra = a.run(['build', '--progress', 'plain', '--cache-to', `type=local,dest=${dir}`, '-t', 'ml:min', join(work, 'ctx')]);
    assert.equal(ra.code, 0, ra.stderr);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const root = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as {
      manifests: { mediaType: string; digest: string; annotations?: Record<string, string> }[];
    };
    assert.ok(!root.manifests.some((m) => m.annotations?.['dev.berth.cache-mount.id']));
    // berth's own config (BuildKit's, with BuildKit's keys, is last).
    const own = root.manifests.find((m) => m.mediaType === 'application/vnd.dev.berth.cacheconfig.v0')!;
    const config = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', own.digest.slice(7)), 'utf8')) as { records: unknown[] };
    // Five layer steps in all; the deps stage's RUN is not on the final image's chain.
    assert.equal(config.records.length, 4);
  });

  it('an inline cache (--cache-to type=inline) pushed with the image serves another runner', () => {
    const image = `${reg.host}/ml:inline`;
    const ra = a.run(['build', '--progress', 'plain', '--cache-to', 'type=inline', '-t', image, join(work, 'ctx')]);
    assert.equal(ra.code, 0, ra.stderr);
    const cfg = JSON.parse(a.run(['image', 'inspect', image]).stdout) as unknown[];
    assert.ok(cfg.length === 1);
    assert.equal(a.run(['push', image]).code, 0);
    const c = tempRoot('berth-cache-e-');
    try {
      const rc = c.run(['build', '--progress', 'plain', '--cache-from', image, '-t', 'ml:e', join(work, 'ctx')]);
      assert.equal(rc.code, 0, rc.stderr);
      assert.ok(!ran(rc.stderr, 'ran-install') && !ran(rc.stderr, 'ran-app-step'), rc.stderr);
      // The deps stage is not in an inline cache (its layers are not the image's).
      assert.ok(ran(rc.stderr, 'ran-deps-stage'), rc.stderr);
    } finally {
      c.cleanup();
    }
  });

  it('refuses bad --cache-to and --cache-from values before building', () => {
    // The whole list of bad specs is in test/unit/remote-cache-format.test.ts; here, that the CLI stops on one.
    for (const [flag, spec, want] of [
      ['--cache-to', 'type=s3,ref=x', /unsupported cache type "s3"/],
      ['--cache-to', `type=registry,ref=${reg.host}/c:1,mode=most`, /mode is min or max/],
      ['--cache-from', 'type=local,src=/tmp/x,digest=sha256:abc', /digest is sha256/],
    ] as const) {
      const r = b.run(['build', flag, spec, join(work, 'ctx')]);
      assert.notEqual(r.code, 0, `${flag} ${spec}`);
      assert.match(r.stderr, want, `${flag} ${spec}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /#\d+ \[/, 'no step started');
    }
  });

  it('a cache whose blobs do not match their digests, or whose config is oversized, is a warning and a cold build', () => {
    const dir = join(work, 'local-cache');
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const rootPath = join(dir, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7));
    const root = JSON.parse(readFileSync(rootPath, 'utf8')) as { manifests: { mediaType: string; digest: string; size: number }[] };
    // Every layer blob and the mount blob replaced by bytes of the same size that hash to something else.
    const bad = join(work, 'bad-cache');
    rmSync(bad, { recursive: true, force: true });
    mkdirSync(join(bad, 'blobs', 'sha256'), { recursive: true });
    for (const f of readdirSync(join(dir, 'blobs', 'sha256'))) {
      const bytes = readFileSync(join(dir, 'blobs', 'sha256', f));
      const isLayer = root.manifests.some((m) => m.digest.slice(7) === f && m.mediaType.includes('layer'));
      writeFileSync(join(bad, 'blobs', 'sha256', f), isLayer ? Buffer.alloc(bytes.length, 7) : bytes);
    }
    writeFileSync(join(bad, 'index.json'), readFileSync(join(dir, 'index.json')));
    const c = tempRoot('berth-cache-f-');
    try {
      const rc = c.run(['build', '--progress', 'plain', '--cache-from', `type=local,src=${bad}`, '-t', 'ml:f', join(work, 'ctx')]);
      assert.equal(rc.code, 0, rc.stderr);
      assert.match(rc.stderr, /does not match its descriptor|DATA_CORRUPT|not used/);
      assert.ok(ran(rc.stderr, 'ran-install') && ran(rc.stderr, 'ran-app-step'), 'the steps ran instead');
      assert.match(rc.stderr, /cache mount pip not restored/, 'the tampered mount layer was refused');
      // A cache index naming a config of 64 MiB is refused before it is read.
      const huge = join(work, 'huge-cache');
      mkdirSync(join(huge, 'blobs', 'sha256'), { recursive: true });
      const fake = {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: 'application/vnd.buildkit.cacheconfig.v0', digest: `sha256:${'a'.repeat(64)}`, size: 64 << 20 }],
      };
      const fakeBytes = Buffer.from(JSON.stringify(fake));
      const d = createHash('sha256').update(fakeBytes).digest('hex');
      writeFileSync(join(huge, 'blobs', 'sha256', d), fakeBytes);
      writeFileSync(
        join(huge, 'index.json'),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            { mediaType: fake.mediaType, digest: `sha256:${d}`, size: fakeBytes.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
          ],
        }),
      );
      // ... and a registry ref with no cache behind it is a warning too.
      const rh = c.run([
        'build',
        '--progress',
        'plain',
        '--cache-from',
        `type=local,src=${huge}`,
        '--cache-from',
        `${reg.host}/nothing:here`,
        '-t',
        'ml:g',
        join(work, 'ctx'),
      ]);
      assert.equal(rh.code, 0, rh.stderr);
      assert.match(rh.stderr, /failed to import cache .*more than 4 MiB/);
      assert.match(rh.stderr, /cache [^ ]*nothing:here not found/);
    } finally {
      c.cleanup();
    }
  });
});
