/**
 * Build writes stay in the rootfs: an image whose tree has dirs replaced by symlinks to a
 * host dir (absolute and relative targets) gets COPY, ADD (a file and a tar), WORKDIR, a RUN's
 * workdir and a RUN mount target through those links, and a RUN that swaps the parent of
 * its mount points for such a link before they are removed. The host dir is left untouched, and the
 * writes land where docker puts them: at the link's target read inside the rootfs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-build-in-root-');
const work = mkdtempSync(join(tmpdir(), 'berth-build-in-root-ctx-'));
// The host dir the image's links name: it must end as it started.
const canary = mkdtempSync(join(tmpdir(), 'berth-canary-'));
before(() => {
  writeFileSync(join(canary, 'keep'), 'host');
  // What a removal of mount points through a link would take: an empty file and an empty dir.
  writeFileSync(join(canary, 'empty'), '');
  mkdirSync(join(canary, 'emptydir'));
  assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0);
});
after(() => {
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
  rmSync(canary, { recursive: true, force: true });
});

function hostTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${n.name}` : n.name;
      out.push(r);
      if (n.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}

describe('build writes through an image symlink stay in the rootfs', () => {
  const ctx = join(work, 'ctx');
  before(() => {
    mkdirSync(join(ctx, 'tree', 'sub'), { recursive: true });
    writeFileSync(join(ctx, 'f'), 'file\n');
    writeFileSync(join(ctx, 'tree', 'a'), 'a\n');
    writeFileSync(join(ctx, 'tree', 'sub', 'b'), 'b\n');
    // Big enough to be a fill (copied on into the commit, through the destination's fd).
    writeFileSync(join(ctx, 'tree', 'sub', 'big'), Buffer.alloc(300 << 10, 7));
    writeFileSync(join(ctx, 'big'), Buffer.alloc(400 << 10, 9));
    mkdirSync(join(work, 'tarsrc'));
    writeFileSync(join(work, 'tarsrc', 'fromtar'), 'tar\n');
    execFileSync('tar', ['-C', join(work, 'tarsrc'), '-cf', join(ctx, 'x.tar'), '.']);
    const rel = `../../../../../../..${canary}`;
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        'FROM bb:1',
        // Dirs of the image replaced by links to the host's canary dir.
        `RUN mkdir -p /etc/app /opt && ln -s ${canary} /abs && ln -s ${rel} /opt/rel && ln -s ${canary} /etc/app/conf.d`,
        'COPY f /abs/f',
        'COPY big /abs/big',
        'COPY tree/ /opt/rel/tree/',
        'COPY f /etc/app/conf.d/deep/er/',
        'ADD f /opt/rel/added',
        'ADD x.tar /abs/untar/',
        'WORKDIR /abs/wd',
        // For COPY --from: a relative link whose `..` climbs out of the dir a link led to.
        `RUN ln -s ../${basename(canary)}/f /abs/up`,
        'RUN --mount=type=tmpfs,target=/opt/rel/mnt echo ran > here',
        // The step swaps the parent of its mount points for a link: the mount points runc
        // made are removed after it, and that must not reach through the link.
        `RUN --mount=type=tmpfs,target=/evil/empty --mount=type=tmpfs,target=/evil/emptydir mv /evil /evil2 && ln -s ${canary} /evil`,
        '',
      ].join('\n'),
    );
  });

  it('leaves the host dir unchanged and writes at the link target inside the image', () => {
    const before = hostTree(canary);
    const r = t.run(['build', '--network', 'none', '-t', 'hostile:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(hostTree(canary), before, 'a build wrote through an image symlink onto the host');
    const inside = t.run([
      'run',
      '--rm',
      '--network',
      'none',
      'hostile:1',
      'sh',
      '-c',
      `cd ${canary} && find . | sort && cat f tree/sub/b added untar/fromtar wd/here deep/er/f && wc -c < big && wc -c < tree/sub/big`,
    ]);
    assert.equal(inside.code, 0, inside.stderr);
    const [list, contents] = [inside.stdout.split('\n').filter((l) => l.startsWith('.')), inside.stdout.split('\n').filter((l) => !l.startsWith('.'))];
    for (const p of ['./f', './tree/a', './tree/sub/b', './added', './untar/fromtar', './wd/here', './deep/er/f'])
      assert.ok(list.includes(p), `${p} missing in the image: ${list.join(' ')}`);
    assert.ok(!list.includes('./keep'), 'the host dir content is not in the image');
    assert.deepEqual(contents.filter(Boolean), ['file', 'b', 'file', 'tar', 'ran', 'file', String(400 << 10), String(300 << 10)]);
    // The links themselves are still links (docker follows them, it does not replace them).
    const links = t.run(['run', '--rm', '--network', 'none', 'hostile:1', 'sh', '-c', 'for l in /abs /opt/rel /etc/app/conf.d; do readlink $l; done']);
    assert.deepEqual(links.stdout.trim().split('\n'), [canary, `../../../../../../..${canary}`, canary], links.stderr);
  });

  it('COPY --from reads through the image links inside the image only', () => {
    writeFileSync(join(ctx, 'Dockerfile.from'), 'FROM bb:1\nCOPY --from=hostile:1 /abs/f /abs/up /opt/rel/tree/sub/b* /got/\n');
    const r = t.run(['build', '--network', 'none', '-f', join(ctx, 'Dockerfile.from'), '-t', 'from:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    const got = t.run(['run', '--rm', '--network', 'none', 'from:1', 'sh', '-c', 'cd /got && ls && cat f up b']);
    assert.deepEqual(got.stdout.trim().split('\n'), ['b', 'big', 'f', 'up', 'file', 'file', 'b'], got.stderr);
    // The host's file behind the link is not the image's.
    writeFileSync(join(ctx, 'Dockerfile.keep'), 'FROM bb:1\nCOPY --from=hostile:1 /abs/keep /keep\n');
    const k = t.run(['build', '--network', 'none', '-f', join(ctx, 'Dockerfile.keep'), '-t', 'keep:1', ctx]);
    assert.notEqual(k.code, 0, 'COPY --from read a host file through an image link');
    assert.match(k.stderr, /not found/);
  });
});
