/**
 * One contract, every driver: each behaviour below runs against the overlay driver and the
 * native (copying) driver, each opened through openSnapshotter in a root of its own, as
 * containerd's snapshotter testsuite runs against each of its snapshotters.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { extract } from 'tar-stream';
import { isBerthError } from '../../src/errors/index.ts';
import { writeLayer } from '../../src/layer/index.ts';
import type { Digest } from '../../src/oci/digest.ts';
import { openSnapshotter, type Snapshotter } from '../../src/snapshot/index.ts';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** The layer's canonical tar, as save and push regenerate it. */
async function layerTar(s: Snapshotter, diffId: Digest): Promise<Buffer> {
  return s.readLayer(diffId, async (dir) => {
    const chunks: Buffer[] = [];
    for await (const c of writeLayer(dir, { mode: 'overlay-upper', sourceDateEpoch: 0 })) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  });
}

/** The entries of a tar: path → content ('' for anything but a regular file). */
async function tarEntries(tar: Buffer): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => void chunks.push(c as Buffer));
      stream.on('end', () => {
        out.set(header.name.replace(/^\.\//, '').replace(/\/$/, ''), header.type === 'file' ? Buffer.concat(chunks).toString() : '');
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from(tar).pipe(ex);
  await done;
  return out;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
const code = (e: unknown) => (isBerthError(e) ? e.code : String(e));

/** Prepares `key` over `parents`, lets `write` change its rootfs, and commits it. */
async function layerOf(s: Snapshotter, key: string, parents: readonly Digest[], write: (rootfs: string) => void): Promise<Digest> {
  const snap = await s.prepare(key, parents);
  write(snap.rootfs);
  return (await s.commit(key, { sourceDateEpoch: 0 })).diffId;
}

/** What each driver committed for the same change: the drivers must agree. */
const committed = new Map<string, Digest>();

for (const driver of ['overlay', 'native'] as const) {
  describe(`snapshotter contract: ${driver}`, async () => {
    const root = mkdtempSync(join(tmpdir(), `berth-conformance-${driver}-`));
    roots.push(root);
    const s = await openSnapshotter(join(root, 'snapshots'), driver);
    after(async () => {
      for (const snap of (await s.walk()).snapshots) await s.remove(snap.name).catch(() => undefined);
      await s.durable().catch(() => undefined);
      await s.cleanup();
    });

    it('reports the driver it is', () => assert.equal(s.driver, driver));

    it('prepare → write → commit gives a layer whose diffID is the sha256 of its tar', async () => {
      const diffId = await layerOf(s, 'one', [], (r) => writeFileSync(join(r, 'f'), 'one\n'));
      const tar = await layerTar(s, diffId);
      assert.equal(sha256(tar), diffId);
      assert.equal((await tarEntries(tar)).get('f'), 'one\n');
      assert.equal(await s.stat('one'), undefined, 'the committed snapshot is gone');
      committed.set(driver, diffId);
      await s.durable();
    });

    it('a commit can be a parent at once, and its files show through', async () => {
      const base = await layerOf(s, 'p1', [], (r) => writeFileSync(join(r, 'a'), 'a\n'));
      const snap = await s.prepare('p2', [base]);
      assert.equal(readFileSync(join(snap.rootfs, 'a'), 'utf8'), 'a\n');
      await s.remove('p2');
    });

    it('a view is read-only', async () => {
      const base = await layerOf(s, 'v1', [], (r) => writeFileSync(join(r, 'a'), 'a\n'));
      const view = await s.view('view-1', [base]);
      assert.equal(readFileSync(join(view.rootfs, 'a'), 'utf8'), 'a\n');
      assert.throws(() => writeFileSync(join(view.rootfs, 'b'), 'no\n'), /EROFS/);
      assert.ok(
        view.mounts.every((m) => m.options.includes('ro')),
        'its mounts say read-only',
      );
      await s.remove('view-1');
      assert.equal(await s.stat('view-1'), undefined);
    });

    it('remove deletes a snapshot and leaves its layers', async () => {
      const base = await layerOf(s, 'r1', [], (r) => writeFileSync(join(r, 'kept'), 'k\n'));
      const snap = await s.prepare('r2', [base]);
      writeFileSync(join(snap.rootfs, 'mine'), 'm\n');
      await s.remove('r2');
      assert.equal(await s.stat('r2'), undefined);
      assert.equal((await s.stat(base))?.kind, 'layer');
      const again = await s.prepare('r2', [base]);
      assert.deepEqual(
        readdirSync(again.rootfs).filter((n) => n === 'kept' || n === 'mine'),
        ['kept'],
        'a new snapshot under the same key starts fresh',
      );
      await s.remove('r2');
    });

    it('a missing parent is a NOT_FOUND error, and leaves no snapshot', async () => {
      const missing = `sha256:${'0'.repeat(64)}` as Digest;
      await assert.rejects(s.prepare('m1', [missing]), (e) => code(e) === 'NOT_FOUND' && /not unpacked/.test((e as Error).message));
      assert.equal(await s.stat('m1'), undefined);
    });

    it('stat and walk list what exists', async () => {
      const layer = await layerOf(s, 'w1', [], (r) => writeFileSync(join(r, 'w'), 'w\n'));
      await s.prepare('w2', [layer]);
      const listing = await s.walk();
      assert.ok(listing.layers.some((l) => l.name === layer && l.kind === 'layer'));
      assert.ok(listing.snapshots.some((x) => x.name === 'w2'));
      assert.ok(!listing.snapshots.some((x) => x.name === 'w1'), 'a committed key is no snapshot');
      assert.equal((await s.stat('w2'))?.kind, 'active');
      assert.equal((await s.stat(layer))?.name, layer);
      assert.equal(await s.stat(`sha256:${'1'.repeat(64)}`), undefined);
      assert.equal(await s.stat('no-such-key'), undefined);
      await s.remove('w2');
    });

    it('an unpack of a bad tar or under a wrong diffID publishes nothing', async () => {
      const layer = await layerOf(s, 'u1', [], (r) => writeFileSync(join(r, 'u'), 'u\n'));
      const tar = await layerTar(s, layer);
      await s.durable();
      const before = (await s.walk()).layers.map((l) => l.name).sort();
      const wrong = `sha256:${'2'.repeat(64)}` as Digest;
      await assert.rejects(
        s.unpackLayer(wrong, async () => Readable.from(tar)),
        (e) => code(e) === 'DATA_CORRUPT',
      );
      assert.equal(await s.stat(wrong), undefined);
      const garbage = Buffer.concat([tar.subarray(0, 700), Buffer.alloc(300, 0xff)]);
      await assert.rejects(s.unpackLayer(sha256(garbage), async () => Readable.from(garbage)));
      assert.equal(await s.stat(sha256(garbage)), undefined);
      assert.deepEqual((await s.walk()).layers.map((l) => l.name).sort(), before);

      // The same tar under its own diffID, once the layer is removed, publishes it again.
      await s.remove(layer);
      assert.equal(await s.stat(layer), undefined, 'a removed layer is gone at once');
      await s.cleanup();
      assert.equal((await s.unpackLayer(layer, async () => Readable.from(tar))).size > 0, true);
      assert.equal(sha256(await layerTar(s, layer)), layer);
    });

    it('a concurrent prepare of the same key fails cleanly', async () => {
      const results = await Promise.allSettled([s.prepare('c1', []), s.prepare('c1', [])]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(ok.length, 1);
      assert.equal(failed.length, 1);
      assert.equal(code(failed[0]!.reason), 'ALREADY_EXISTS');
      writeFileSync(join(ok[0]!.value.rootfs, 'x'), 'x\n');
      const diffId = (await s.commit('c1', { sourceDateEpoch: 0 })).diffId;
      assert.equal((await tarEntries(await layerTar(s, diffId))).get('x'), 'x\n', 'the winner is whole');
    });

    it("deletions in a snapshot become whiteouts (or an opaque dir) that hide the parent's files", async () => {
      const base = await layerOf(s, 'wh1', [], (r) => {
        mkdirSync(join(r, 'd'));
        writeFileSync(join(r, 'd', 'a'), 'a\n');
        writeFileSync(join(r, 'd', 'b'), 'b\n');
        writeFileSync(join(r, 'gone'), 'g\n');
        writeFileSync(join(r, 'stays'), 's\n');
      });
      const change = await layerOf(s, 'wh2', [base], (r) => {
        rmSync(join(r, 'gone'));
        rmSync(join(r, 'd'), { recursive: true });
        mkdirSync(join(r, 'd'));
        writeFileSync(join(r, 'd', 'c'), 'c\n');
      });
      const entries = await tarEntries(await layerTar(s, change));
      assert.ok(entries.has('.wh.gone'), `a whiteout for the deleted file: ${[...entries.keys()]}`);
      assert.equal(entries.get('d/c'), 'c\n');
      assert.ok(!entries.has('stays'), 'an unchanged file is not in the layer');
      const opaque = entries.has('d/.wh..wh..opq');
      assert.ok(opaque || (entries.has('d/.wh.a') && entries.has('d/.wh.b')), `the old children of d are hidden: ${[...entries.keys()]}`);
      const view = await s.view('wh-view', [base, change]);
      assert.deepEqual(readdirSync(join(view.rootfs, 'd')), ['c']);
      assert.deepEqual(
        readdirSync(view.rootfs).filter((n) => n === 'gone' || n === 'stays'),
        ['stays'],
      );
      await s.remove('wh-view');
    });

    it('durable() resolves once the committed layers are on disk, and cleanup() leaves no snapshot dir behind', async () => {
      await layerOf(s, 'd1', [], (r) => writeFileSync(join(r, 'd'), 'd\n'));
      await s.durable();
      await s.cleanup();
      assert.ok(!(await s.walk()).snapshots.some((x) => x.name === 'd1'));
    });
  });
}

describe('the drivers agree', () => {
  it('the same change gives the same diffID under either driver', () => {
    assert.equal(committed.size, 2);
    assert.equal(committed.get('overlay'), committed.get('native'));
  });
});
