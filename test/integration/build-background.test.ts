/**
 * What a build leaves running is its own to finish: the steps' cleanup (a RUN's bundle dir
 * and network, a COPY's temp dir), the cache entries that wait for their layers to be on
 * disk, and what the commits left in the snapshotter. When `berth build` returns, all of it
 * has ended: nothing is left under the state or run root, and every step is cached.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { defaultRunRoot } from '../../src/store/root.ts';

const t = tempRoot('berth-build-bg-');
const ctx = mkdtempSync(join(tmpdir(), 'berth-build-bg-ctx-'));
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.cleanup();
  rmSync(ctx, { recursive: true, force: true });
});

const list = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

describe('a build waits for what it started', () => {
  writeFileSync(join(ctx, 'f'), 'data\n');
  writeFileSync(
    join(ctx, 'Dockerfile'),
    [
      'FROM bb:1 AS base',
      'RUN echo one > /one',
      'FROM bb:1',
      'COPY f /f',
      'WORKDIR /work',
      'COPY --from=base /one /one',
      // A read-write bind of another stage: the writes land in a snapshot of its own, and go with it.
      'RUN --mount=type=bind,from=base,target=/b,rw echo scratch > /b/scratch && cat /b/one /f > /both',
      'RUN test ! -e /b/scratch',
    ].join('\n'),
  );

  it('leaves no temp dir, bundle dir, snapshot or snapshot dir behind', () => {
    const r = t.run(['build', '--network', 'none', '-t', 'bg:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(list(join(t.root, 'tmp')), [], 'the build temp dir and COPY temp dirs are gone');
    assert.deepEqual(list(join(t.root, 'snapshots', 'active')), [], 'no snapshot, view or committed snapshot dir is left');
    assert.deepEqual(list(join(defaultRunRoot(t.root), 'build')), [], "the RUN steps' bundle dirs are gone");
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'bg:1', 'cat', '/both']).stdout, 'one\ndata\n');
  });

  it("wrote every step's cache entry before it returned", () => {
    const r = t.run(['build', '--network', 'none', '-t', 'bg:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    const done = r.stderr.split('\n').filter((l) => /^#\d+ DONE/.test(l));
    const cached = r.stderr.split('\n').filter((l) => /^#\d+ CACHED/.test(l));
    assert.equal(cached.length, 6, r.stderr);
    assert.deepEqual(
      done.filter((l) => !/ 0\.0s$/.test(l)),
      [],
      'no step ran again',
    );
  });
});
