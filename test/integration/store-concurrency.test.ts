/** Several berth processes on one root at once must leave a consistent store, and prune beside them must not take what they use. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthAsync, tempRoot, type BerthResult } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const t = tempRoot('berth-concurrency-');
after(() => t.cleanup());

function assertClean(root: ReturnType<typeof tempRoot>): void {
  const check = root.run(['system', 'check']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.doesNotMatch(check.stdout, /^leftover:/m, check.stdout);
  assert.match(check.stdout, /^store is consistent$/m);
}

function assertAllOk(results: readonly BerthResult[]): void {
  for (const r of results) assert.equal(r.code, 0, r.stderr);
}

/** A build context with a Dockerfile; `n` makes each one's layer different. */
function context(dir: string, n: string, extra = ''): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), `FROM bb:1\nRUN echo ${n} > /n${extra}\n`);
  return dir;
}

describe('concurrent processes on one store', () => {
  it('8 concurrent import/tag/rmi processes leave system check clean', async () => {
    const tar = busyboxTar();
    assert.equal(t.run(['import', tar, 'base:0']).code, 0);
    const jobs: Array<Promise<BerthResult>> = [];
    for (let i = 0; i < 8; i++) {
      jobs.push(
        (async () => {
          const imp = await berthAsync(t.root, ['import', '--change', `ENV N=${i}`, tar, `img:${i}`]);
          if (imp.code !== 0) return imp;
          const tag = await berthAsync(t.root, ['tag', `img:${i}`, `copy:${i}`]);
          if (tag.code !== 0) return tag;
          return berthAsync(t.root, ['rmi', `copy:${i}`]);
        })(),
      );
    }
    assertAllOk(await Promise.all(jobs));
    assertClean(t);
    const images = t.run(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(images, ['base:0', ...Array.from({ length: 8 }, (_, i) => `img:${i}`)].sort());
  });
});

describe('pulls, builds and prune at once', () => {
  let reg: TestRegistry;
  const src = tempRoot('berth-concurrency-src-');
  let big = '';
  let small = '';
  before(async () => {
    reg = await startRegistry();
    big = `${reg.host}/c/big:1`;
    small = `${reg.host}/c/bb:1`;
    assert.equal(src.run(['import', busyboxTar(), 'bb:1']).code, 0);
    // A 6 MB layer of random bytes: long enough that pulls overlap on its partial download.
    const r = src.run(['build', '-q', '-t', big, context(join(src.root, 'ctx-big'), 'big', '\nRUN head -c 6000000 /dev/urandom > /big')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(src.run(['tag', 'bb:1', small]).code, 0);
    for (const name of [big, small]) {
      const p = src.run(['push', name]);
      assert.equal(p.code, 0, p.stderr);
    }
  });
  after(() => {
    reg.stop();
    src.cleanup();
  });

  /** Half the pulls fetch the big layer as ranged parts, half as one stream. */
  const pullEnv = (i: number) => (i % 2 ? { BERTH_RANGE_THRESHOLD: '1000000', BERTH_RANGE_PART: '1000000' } : {});

  it('8 concurrent pulls of one image into one root all succeed, and check is clean', async () => {
    const r = tempRoot('berth-concurrency-pull-');
    try {
      assertAllOk(await Promise.all(Array.from({ length: 8 }, (_, i) => berthAsync(r.root, ['pull', '-q', big], { env: pullEnv(i) }))));
      assertClean(r);
      assert.equal(r.run(['run', '--rm', '--network', 'none', big, 'sh', '-c', 'wc -c < /big']).stdout.trim(), '6000000');
    } finally {
      r.cleanup();
    }
  });

  it('8 concurrent builds in one root all succeed, and check is clean', async () => {
    const r = tempRoot('berth-concurrency-build-');
    try {
      assert.equal(r.run(['import', busyboxTar(), 'bb:1']).code, 0);
      const builds = Array.from({ length: 8 }, (_, i) => berthAsync(r.root, ['build', '-q', '-t', `b:${i}`, context(join(r.root, `ctx-${i}`), String(i))]));
      assertAllOk(await Promise.all(builds));
      assertClean(r);
      assert.equal(r.run(['run', '--rm', '--network', 'none', 'b:5', 'cat', '/n']).stdout, '5\n');
    } finally {
      r.cleanup();
    }
  });

  it('a prune loop beside pulls and builds takes nothing they use', async () => {
    const r = tempRoot('berth-concurrency-prune-');
    try {
      assert.equal(r.run(['import', busyboxTar(), 'bb:1']).code, 0);
      let working = true;
      let prunes = 0;
      const loop = (async () => {
        const failed: BerthResult[] = [];
        while (working) {
          // Every other one takes the whole build cache: cache mounts and cached layers a build is using must stay.
          const p = await berthAsync(r.root, prunes % 2 ? ['builder', 'prune', '-a', '-f'] : ['system', 'prune', '-f']);
          prunes++;
          if (p.code !== 0) failed.push(p);
        }
        return failed;
      })();
      try {
        // Three rounds; after each the pulled images are removed, so the next round's pulls
        // race the prune that deletes their blobs and layers.
        for (let round = 0; round < 3; round++) {
          const jobs = [
            berthAsync(r.root, ['pull', '-q', big], { env: pullEnv(round) }),
            berthAsync(r.root, ['pull', '-q', big], { env: pullEnv(round + 1) }),
            berthAsync(r.root, ['pull', '-q', small]),
            berthAsync(r.root, ['build', '-q', '--no-cache', '-t', `p:${round}`, context(join(r.root, `ctx-${round}`), `r${round}`)]),
            berthAsync(r.root, ['build', '-q', context(join(r.root, `ctx-u${round}`), `u${round}`)]), // untagged: prune's to take once built
            // A cache mount written, then read back by the same step a little later.
            berthAsync(r.root, [
              'build',
              '-q',
              '--no-cache',
              '-t',
              `m:${round}`,
              context(join(r.root, `ctx-m${round}`), `m${round}`, `\nRUN --mount=type=cache,target=/c echo m${round} > /c/f && sleep 0.3 && cp /c/f /seen`),
            ]),
          ];
          assertAllOk(await Promise.all(jobs));
          assert.equal(r.run(['run', '--rm', '--network', 'none', big, 'sh', '-c', 'wc -c < /big']).stdout.trim(), '6000000');
          assert.equal(r.run(['run', '--rm', '--network', 'none', `m:${round}`, 'cat', '/seen']).stdout, `m${round}\n`);
          assert.equal(r.run(['rmi', big, small]).code, 0);
        }
      } finally {
        working = false;
        await loop; // before the root goes, whatever failed
      }
      assertAllOk(await loop);
      assert.ok(prunes >= 2, `the prune loop ran ${prunes} times`);
      assert.equal(r.run(['system', 'prune', '-f']).code, 0);
      assertClean(r);
      assert.equal(r.run(['run', '--rm', '--network', 'none', 'p:2', 'cat', '/n']).stdout, 'r2\n');
    } finally {
      r.cleanup();
    }
  });
});
