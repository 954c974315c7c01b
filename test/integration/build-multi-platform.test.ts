/**
 * `build --platform linux/amd64,linux/arm64`: one build per platform (arm64 under
 * qemu-user-static, which the run-platform tests use too), an OCI index under the tag, `run
 * --platform` picking its child, push as an index and pull by its digest, save and load.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthAsync, tempRoot } from '../helpers/berth.ts';
import { busyboxRoot, busyboxTar } from '../helpers/busybox.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const t = busyboxRoot('berth-multiplat-');
const ctx = mkdtempSync(join(tmpdir(), 'berth-multiplat-ctx-'));
let reg: TestRegistry | undefined;
after(() => {
  reg?.stop();
  rmSync(ctx, { recursive: true, force: true });
});

const ok = (args: string[]): string => {
  const r = t.run(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const runOn = (platform: string, image: string, ...cmd: string[]) => ok(['run', '--rm', '--network', 'none', '--platform', platform, image, ...cmd]);

/** A Dockerfile in its own dir beside the busybox tars (a build's context). */
function dockerfile(name: string, text: string): string {
  writeFileSync(join(ctx, name), text);
  return join(ctx, name);
}

const TWO_STAGE = `FROM --platform=$BUILDPLATFORM bbmulti:1 AS gen
RUN uname -m > /built-on && cat /proc/sys/kernel/random/uuid > /once
FROM bbmulti:1
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH
COPY --from=gen /built-on /once /
RUN echo "$TARGETPLATFORM|$TARGETOS|$TARGETARCH|$TARGETVARIANT|$BUILDPLATFORM|$BUILDOS|$BUILDARCH|$(uname -m)" > /env
`;

let indexDigest = '';

before(() => {
  copyFileSync(busyboxTar(), join(ctx, 'bb-amd64.tar'));
  copyFileSync(busyboxTar('arm64'), join(ctx, 'bb-arm64.tar'));
});

describe('build --platform with several platforms', () => {
  it('builds a base image from scratch per platform into one index under the tag', () => {
    const df = dockerfile('Dockerfile.base', 'FROM scratch\nARG TARGETARCH\nADD bb-${TARGETARCH}.tar /\n');
    const id = ok(['build', '-q', '--platform', 'linux/amd64,linux/arm64', '-t', 'bbmulti:1', '-f', df, ctx]).trim();
    assert.equal(
      ok(['image', 'inspect', '-f', '{{.Descriptor.mediaType}} {{.Descriptor.digest}} {{.Architecture}}', 'bbmulti:1']),
      `application/vnd.oci.image.index.v1+json ${id} amd64\n`,
    );
    assert.equal(ok(['image', 'inspect', '--platform', 'linux/arm64', '-f', '{{.Os}}/{{.Architecture}}', 'bbmulti:1']), 'linux/arm64\n');
    // One row for the image, not one per platform.
    assert.deepEqual(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').filter(Boolean).sort(), ['bb:1', 'bbmulti:1']);
  });

  it('runs a FROM --platform=$BUILDPLATFORM stage once, natively, and each platform stage with its TARGET* args', () => {
    const df = dockerfile('Dockerfile.two', TWO_STAGE);
    const r = t.run(['build', '--progress', 'plain', '--no-cache', '--network', 'none', '--platform', 'linux/amd64,linux/arm64', '-t', 'app:1', '-f', df, ctx]);
    assert.equal(r.code, 0, r.stderr);
    indexDigest = /writing image (sha256:[a-f0-9]{64}) done/.exec(r.stderr)?.[1] ?? '';
    assert.ok(indexDigest, r.stderr);
    assert.equal(runOn('linux/amd64', 'app:1', 'uname', '-m'), 'x86_64\n');
    assert.equal(runOn('linux/arm64', 'app:1', 'uname', '-m'), 'aarch64\n');
    assert.equal(runOn('linux/amd64', 'app:1', 'cat', '/env'), 'linux/amd64|linux|amd64||linux/amd64|linux|amd64|x86_64\n');
    assert.equal(runOn('linux/arm64', 'app:1', 'cat', '/env'), 'linux/arm64|linux|arm64||linux/amd64|linux|amd64|aarch64\n');
    // The build stage ran on the build platform, once (with --no-cache): both platforms copied the same file.
    assert.equal(runOn('linux/arm64', 'app:1', 'cat', '/built-on'), 'x86_64\n');
    assert.equal(runOn('linux/arm64', 'app:1', 'cat', '/once'), runOn('linux/amd64', 'app:1', 'cat', '/once'));
    assert.match(r.stderr, /\[linux\/arm64 stage-1 3\/3\] RUN echo/);
  });

  it('keeps the other platforms through an image prune', () => {
    ok(['image', 'prune', '-f']);
    assert.equal(runOn('linux/arm64', 'app:1', 'uname', '-m'), 'aarch64\n');
  });

  it('writes every platform with -o: the index in an oci or docker archive, a directory per platform for local and tar', () => {
    const df = join(ctx, 'Dockerfile.two');
    const out = (spec: string) => ok(['build', '-q', '--network', 'none', '--platform', 'linux/amd64,linux/arm64', '-o', spec, '-f', df, ctx]);
    const oci = join(ctx, 'out-oci.tar');
    out(`type=oci,dest=${oci}`);
    // An independent reader finds the index the build made (the cached build makes the same one), and each platform's image.
    const raw = execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${oci}`]);
    assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, indexDigest);
    const index = JSON.parse(raw.toString()) as { manifests: Array<{ platform: { architecture: string } }> };
    assert.deepEqual(
      index.manifests.map((m) => m.platform.architecture),
      ['amd64', 'arm64'],
    );
    const arm = JSON.parse(execFileSync('skopeo', ['inspect', '--override-arch', 'arm64', `oci-archive:${oci}`]).toString()) as { Architecture: string };
    assert.equal(arm.Architecture, 'arm64');
    const docker = join(ctx, 'out-docker.tar');
    out(`type=docker,dest=${docker}`);
    const listed = JSON.parse(execFileSync('tar', ['-xOf', docker, 'manifest.json']).toString()) as unknown[];
    assert.equal(listed.length, 2);
    const dockerIndex = JSON.parse(execFileSync('tar', ['-xOf', docker, 'index.json']).toString()) as { manifests: Array<{ digest: string }> };
    assert.deepEqual(
      dockerIndex.manifests.map((m) => m.digest),
      [indexDigest],
    );
    const dir = join(ctx, 'out-local');
    out(`type=local,dest=${dir}`);
    assert.equal(readFileSync(join(dir, 'linux_amd64', 'env'), 'utf8'), 'linux/amd64|linux|amd64||linux/amd64|linux|amd64|x86_64\n');
    assert.equal(readFileSync(join(dir, 'linux_arm64', 'env'), 'utf8'), 'linux/arm64|linux|arm64||linux/amd64|linux|amd64|aarch64\n');
    assert.ok(!existsSync(join(dir, 'env')), 'nothing outside the platform directories');
    const tar = join(ctx, 'out.tar');
    out(`type=tar,dest=${tar}`);
    const names = execFileSync('tar', ['-tf', tar]).toString().split('\n');
    assert.ok(names.includes('linux_amd64/env') && names.includes('linux_arm64/env'), names.slice(0, 10).join(' '));
    assert.equal(
      execFileSync('tar', ['-xOf', tar, 'linux_arm64/bin/busybox'], { maxBuffer: 64 << 20 })
        .subarray(18, 20)
        .readUInt16LE(),
      183,
      'the arm64 tree holds the arm64 busybox (e_machine AArch64)',
    );
  });

  it('refuses unknown and duplicate platforms, and a base image without the platform', () => {
    const df = dockerfile('Dockerfile.hostile', 'FROM bbmulti:1\nRUN true\n');
    const cases: Array<[string, RegExp]> = [
      ['linux/foo', /failed to parse platform linux\/foo: .*unknown operating system or architecture/],
      ['plan9/amd64', /unknown operating system or architecture/],
      ['linux/amd64,linux/amd64', /duplicate platform linux\/amd64/],
      ['linux/arm64,linux/aarch64/v8', /duplicate platform linux\/arm64/],
      ['linux/amd64,', /invalid platform/],
      ['linux/amd64,linux/s390x', /bbmulti:1 was found but does not provide the specified platform \(linux\/s390x\)/],
    ];
    for (const [platform, want] of cases) {
      const r = t.run(['build', '-q', '--network', 'none', '--platform', platform, '-t', 'hostile:1', '-f', df, ctx]);
      assert.notEqual(r.code, 0, platform);
      assert.match(r.stderr, want, platform);
    }
    assert.equal(t.run(['image', 'inspect', 'hostile:1']).code, 1);
  });

  it('pushes the index with every child; a pull by its digest into a fresh root gets the same index', async () => {
    reg = await startRegistry();
    const name = `${reg.host}/multi/app:1`;
    ok(['tag', 'app:1', name]);
    const push = ok(['push', name]);
    const pushed = /digest: (sha256:[a-f0-9]{64})/.exec(push)?.[1];
    assert.ok(pushed, push);
    const res = await fetch(`http://${reg.host}/v2/multi/app/manifests/1`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    assert.equal(res.headers.get('docker-content-digest'), pushed);
    const index = (await res.json()) as { mediaType: string; manifests: Array<{ platform: { architecture: string } }> };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      index.manifests.map((m) => m.platform.architecture),
      ['amd64', 'arm64'],
    );
    const fresh = tempRoot('berth-multiplat-pull-');
    try {
      const byDigest = `${reg.host}/multi/app@${pushed}`;
      const pull = await berthAsync(fresh.root, ['pull', byDigest]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, new RegExp(`Digest: ${pushed}`));
      // The index came whole: the host's image is the one the digest names, and every platform is here.
      assert.match(
        (await berthAsync(fresh.root, ['image', 'inspect', '-f', '{{json .RepoDigests}} {{.Architecture}}', byDigest])).stdout,
        new RegExp(`${pushed!}.* amd64`),
      );
      const arm = await berthAsync(fresh.root, ['run', '--rm', '--network', 'none', '--pull', 'never', '--platform', 'linux/arm64', byDigest, 'uname', '-m']);
      assert.equal(arm.stdout, 'aarch64\n', arm.stderr);
      assert.equal((await berthAsync(fresh.root, ['images', '-q'])).stdout.trim().split('\n').length, 1, 'one image listed, as docker lists it');
      const host = await berthAsync(fresh.root, ['run', '--rm', '--network', 'none', '--pull', 'never', byDigest, 'uname', '-m']);
      assert.equal(host.stdout, 'x86_64\n', host.stderr);
      // Pushed again under another name, it is the same index.
      const again = `${reg.host}/multi/again:1`;
      assert.equal((await berthAsync(fresh.root, ['tag', byDigest, again])).code, 0);
      const repush = await berthAsync(fresh.root, ['push', again]);
      assert.match(repush.stdout, new RegExp(`digest: ${pushed}`), repush.stderr);
      // --platform takes that platform alone, as docker does; the digest still names what was pulled.
      const one = tempRoot('berth-multiplat-pull1-');
      try {
        assert.equal((await berthAsync(one.root, ['pull', '-q', '--platform', 'linux/arm64', byDigest])).code, 0);
        assert.equal(
          (await berthAsync(one.root, ['image', 'inspect', '-f', '{{.Architecture}} {{json .RepoDigests}}', byDigest])).stdout,
          `arm64 ["${reg.host}/multi/app@${pushed}"]\n`,
        );
        assert.equal((await berthAsync(one.root, ['images', '-q'])).stdout.trim().split('\n').length, 1);
      } finally {
        one.cleanup();
      }
    } finally {
      fresh.cleanup();
    }
  });

  it('save and load keep every platform of the image; rmi removes them all', () => {
    const archive = join(ctx, 'app.tar');
    ok(['save', '-o', archive, 'app:1']);
    const fresh = tempRoot('berth-multiplat-load-');
    try {
      const load = fresh.run(['load', '-i', archive]);
      assert.equal(load.code, 0, load.stderr);
      assert.equal(load.stdout, 'Loaded image: app:1\n');
      assert.equal(fresh.run(['image', 'inspect', '-f', '{{.Descriptor.digest}} {{.Architecture}}', 'app:1']).stdout, `${indexDigest} amd64\n`);
      const arm = fresh.run(['run', '--rm', '--network', 'none', '--platform', 'linux/arm64', '--pull', 'never', 'app:1', 'cat', '/env']);
      assert.equal(arm.stdout, 'linux/arm64|linux|arm64||linux/amd64|linux|amd64|aarch64\n', arm.stderr);
      // The archive is a docker-archive too: its manifest.json lists each platform, the names on the host's.
      const listed = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json']).toString()) as Array<{ RepoTags: string[] }>;
      assert.deepEqual(
        listed.map((m) => m.RepoTags),
        [['app:1'], []],
      );
      // rmi takes the multi-platform image whole.
      const rmi = fresh.run(['rmi', 'app:1']);
      assert.equal(rmi.code, 0, rmi.stderr);
      assert.equal(rmi.stdout.match(/^Deleted: sha256:/gm)?.length, 2, rmi.stdout);
      assert.equal(fresh.run(['images', '-aq']).stdout, '');
    } finally {
      fresh.cleanup();
    }
  });
});
