/**
 * Issue 23's acceptance on examples/ml itself: runner A builds it with `--cache-to
 * type=registry,mode=max,mounts=true`; runner B, empty but for the same base image, changes
 * app.py and builds with `--cache-from`: the apt step and the others before app.py are cache
 * hits, and the apt cache mount (added as teams write it, `sharing=locked`) is warm for the
 * step after app.py, which counts the .deb files it finds there. The base is the debootstrap
 * image scripts/make-debian-base.sh makes (test/helpers/debian-base.ts); apt reaches the machine's Debian mirror.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, tempRoot } from '../helpers/berth.ts';
import { debianBase, debianBaseMissing } from '../helpers/debian-base.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const APT_MOUNT = '--mount=type=cache,target=/var/cache/apt,sharing=locked';

/** examples/ml's Dockerfile with an apt cache mount on its apt step, and a step after app.py that counts what the mount holds. */
function mlWithAptCache(): string {
  const original = readFileSync(join(REPO, 'examples', 'ml', 'Dockerfile'), 'utf8');
  const text = original
    .replace('RUN apt-get update', `RUN ${APT_MOUNT} apt-get update`)
    .replace('COPY app.py .\n', `COPY app.py .\nRUN ${APT_MOUNT} sh -c 'ls /var/cache/apt/archives | grep -c "\\.deb$" > /app/apt-debs; true'\n`);
  assert.notEqual(text, original);
  assert.equal(text.split(APT_MOUNT).length, 3, 'both edits applied to examples/ml/Dockerfile');
  return text;
}

describe('examples/ml: a second CI runner from the registry cache', {
  skip: debianBaseMissing() ?? false,
}, () => {
  let reg: TestRegistry;
  const a = tempRoot('berth-ml-a-');
  const b = tempRoot('berth-ml-b-');
  const work = mkdtempSync(join(tmpdir(), 'berth-ml-cache-'));
  const ctx = join(work, 'ctx');
  before(async () => {
    reg = await startRegistry();
    assert.equal(a.run(['import', debianBase(), 'debian:bookworm-slim']).code, 0);
    // Runner B has the same base image (as both would pull it): the id a cache key starts from.
    const archive = join(work, 'base.tar');
    assert.equal(a.run(['save', '-o', archive, 'debian:bookworm-slim']).code, 0);
    assert.equal(b.run(['load', '-i', archive]).code, 0);
    rmSync(archive);
    mkdirSync(ctx);
    for (const f of ['apt-packages.txt', 'app.py']) copyFileSync(join(REPO, 'examples', 'ml', f), join(ctx, f));
    writeFileSync(join(ctx, 'Dockerfile'), mlWithAptCache());
  });
  after(() => {
    reg?.stop();
    a.cleanup();
    b.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('runner B runs only the changed app.py and the step after it, with the apt cache mount warm', () => {
    const ref = `${reg.host}/team/ml-cache:main`;
    const ra = a.run(['build', '--progress', 'plain', '--cache-to', `type=registry,ref=${ref},mode=max,mounts=true`, '-t', 'ml:a', ctx], { timeout: 600_000 });
    assert.equal(ra.code, 0, ra.stderr.slice(-3000));
    const debsA = Number(a.run(['run', '--rm', '--network', 'none', '--entrypoint', 'cat', 'ml:a', '/app/apt-debs']).stdout);
    assert.ok(debsA > 0, 'runner A kept the downloaded packages in its mount');

    writeFileSync(join(ctx, 'app.py'), `${readFileSync(join(ctx, 'app.py'), 'utf8')}\n# changed on the branch runner B builds\n`);
    const rb = b.run(['build', '--progress', 'plain', '--cache-from', `type=registry,ref=${ref}`, '-t', 'ml:b', ctx], { timeout: 600_000 });
    assert.equal(rb.code, 0, rb.stderr.slice(-3000));
    // Each step's block: its title line, then CACHED or what it ran.
    const cached = (title: RegExp) => new RegExp(`#(\\d+) \\[[^\\]]*\\] ${title.source}[^\\n]*\\n(?:#\\1 [^\\n]*\\n)*?#\\1 CACHED`).test(rb.stderr);
    assert.ok(cached(/COPY apt-packages\.txt/), rb.stderr);
    assert.ok(cached(/RUN --mount=type=cache,target=\/var\/cache\/apt,sharing=locked apt-get update/), rb.stderr);
    assert.ok(cached(/RUN useradd/), rb.stderr);
    assert.ok(!cached(/COPY app\.py/), 'the changed file is copied');
    assert.doesNotMatch(rb.stderr, /Get:\d+ http/, 'runner B downloaded no package');
    // The step after app.py ran with runner A's apt cache in its mount.
    const debsB = Number(b.run(['run', '--rm', '--network', 'none', '--entrypoint', 'cat', 'ml:b', '/app/apt-debs']).stdout);
    assert.equal(debsB, debsA);
    const app = b.run(['run', '--rm', '--network', 'none', 'ml:b']);
    assert.match(app.stdout, /^numpy [\d.]+: n=1234 /, app.stderr);
  });
});
