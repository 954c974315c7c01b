/**
 * The management forms berth adds itself: `builder prune` (build cache entries, then the
 * layers only they kept) and `image prune`, each asking docker's question unless `-f`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-prune-forms-');
const ctx = mkdtempSync(join(tmpdir(), 'berth-prune-ctx-'));
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.cleanup();
  rmSync(ctx, { recursive: true, force: true });
});

function cacheEntries(): number {
  const line = t
    .run(['system', 'df', '--format', '{{.Type}}={{.TotalCount}}'])
    .stdout.split('\n')
    .find((l) => l.startsWith('Build Cache='));
  return Number(line?.slice('Build Cache='.length));
}

function build(tag: string, marker: string): void {
  writeFileSync(join(ctx, 'Dockerfile'), `FROM bb:1\nRUN echo ${marker} > /marker\nRUN echo more > /more\n`);
  const r = t.run(['build', '--progress', 'plain', '-t', tag, ctx]);
  assert.equal(r.code, 0, r.stderr);
}

describe('builder prune', () => {
  it('asks first, and an answer that is not yes removes nothing', () => {
    build('cached:1', 'one');
    const before = cacheEntries();
    assert.ok(before >= 2, `build cache entries: ${before}`);
    const r = t.run(['builder', 'prune'], { input: 'n\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /WARNING! This will remove all dangling build cache\.\nAre you sure you want to continue\? \[y\/N\]/);
    assert.equal(cacheEntries(), before);
  });

  it('without -a keeps the entries whose layers an image still has', () => {
    const before = cacheEntries();
    const r = t.run(['builder', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Total reclaimed space: /);
    assert.equal(cacheEntries(), before);
  });

  it('without -a removes the entries whose image is gone, and the layers go with them', () => {
    build('gone:1', 'two');
    assert.equal(t.run(['rmi', 'gone:1']).code, 0);
    const before = cacheEntries();
    const r = t.run(['builder', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Deleted build cache objects:\n([0-9a-f]{25}\n)+\nTotal reclaimed space: [1-9][\d.]*\s?[kMG]?B\n$/);
    assert.ok(cacheEntries() < before);
    assert.equal(t.run(['system', 'check']).code, 0);
  });

  it('-a -f removes every entry; the images stay and still run', () => {
    const r = t.run(['builder', 'prune', '-a', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(cacheEntries(), 0);
    const run = t.run(['run', '--rm', '--network', 'none', 'cached:1', 'cat', '/marker']);
    assert.equal(run.stdout, 'one\n', run.stderr);
  });

  it('an unknown flag, a bad size or a bad filter is an error before anything is asked', () => {
    assert.equal(t.run(['builder', 'prune', '--bogus']).code, 125);
    const keep = t.run(['builder', 'prune', '--keep-storage', 'lots']);
    assert.equal(keep.code, 125);
    assert.match(keep.stderr, /invalid size: 'lots'/);
    const filter = t.run(['builder', 'prune', '--filter', 'colour=red']);
    assert.notEqual(filter.code, 0);
    assert.match(filter.stderr, /invalid filter 'colour'/);
    assert.doesNotMatch(filter.stdout, /WARNING/);
    const until = t.run(['builder', 'prune', '-f', '--filter', 'until=soon']);
    assert.notEqual(until.code, 0);
    assert.match(until.stderr, /failed to parse value as time or duration: "soon"/);
  });
});

describe('image prune', () => {
  it('asks first; yes removes the dangling images only', () => {
    assert.equal(t.run(['tag', 'cached:1', 'dangling:1']).code, 0);
    const id = t.run(['images', '-q', '--no-trunc', 'dangling:1']).stdout.trim();
    assert.equal(t.run(['rmi', 'cached:1']).code, 0);
    const no = t.run(['image', 'prune'], { input: '\n' });
    assert.equal(no.code, 0);
    assert.match(no.stdout, /WARNING! This will remove all dangling images\./);
    assert.equal(t.run(['images', '-q', 'dangling:1']).stdout.trim().length, 12);
    assert.equal(t.run(['rmi', 'dangling:1']).code, 0, 'untags; the image is still there, dangling if nothing else holds it');
    const yes = t.run(['image', 'prune'], { input: 'y\n' });
    assert.equal(yes.code, 0, yes.stderr);
    if (id) assert.doesNotMatch(t.run(['images', '-aq', '--no-trunc']).stdout, new RegExp(id));
    assert.equal(t.run(['images', '-q', 'bb:1']).stdout.trim().length, 12, 'a tagged image stays');
  });
});
