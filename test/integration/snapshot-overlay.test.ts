/**
 * The overlay driver's commit returns before its overlay is detached: the next mount waits
 * for the detach, durable() reports it, and cleanup() then removes the snapshot's dir.
 * A subclass holds the detach back, so that "still running" is a state the test controls.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Digest } from '../../src/oci/digest.ts';
import { OverlaySnapshotter } from '../../src/snapshot/overlay.ts';

const root = mkdtempSync(join(tmpdir(), 'berth-overlay-'));
after(() => rmSync(root, { recursive: true, force: true }));

const mounted = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === dir);
const tick = () => new Promise((r) => setTimeout(r, 20));
const readIn = (s: OverlaySnapshotter, diffId: Digest, file: string) => s.readLayer(diffId, async (dir) => readFileSync(join(dir, file), 'utf8'));

/** Detaches only once `release()` is called; with `fail` set, the detach fails instead. Counts its syncs. */
class HeldDetach extends OverlaySnapshotter {
  private gate = Promise.resolve();
  release = () => {};
  fail = false;
  syncs = 0;
  syncGate = Promise.resolve();
  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  override async unmount(key: string): Promise<void> {
    await this.gate;
    if (this.fail) throw new Error('EBUSY (a test)');
    return super.unmount(key);
  }
  protected override async syncLayers(): Promise<void> {
    await this.syncGate;
    this.syncs++;
    return super.syncLayers();
  }
}

const mountOptions = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === dir)
    ?.split(' - ')[1] ?? '';

describe('overlay commit', () => {
  it('returns before the detach; a mount over its layer waits for it; cleanup() removes the dir', async () => {
    const s = await new HeldDetach(root).init();
    const a = await s.prepare('a', []);
    writeFileSync(join(a.rootfs, 'f'), 'one\n');
    s.hold();
    const layer = await s.commit('a');
    assert.ok(mounted(a.rootfs), 'commit returned with the overlay still attached');
    assert.equal(await readIn(s, layer.diffId, 'f'), 'one\n', 'the layer can be read when commit returns');

    let bReady = false;
    const b = s.prepare('b', [layer.diffId]).then((snap) => {
      bReady = true;
      return snap;
    });
    await tick();
    assert.equal(bReady, false, 'the mount over the layer waits for the detach');
    s.release();
    const snapB = await b;
    assert.ok(!mounted(a.rootfs));
    assert.equal(readFileSync(join(snapB.rootfs, 'f'), 'utf8'), 'one\n');

    await s.durable();
    assert.ok(existsSync(join(root, 'active', 'a')), 'the empty dirs wait for a cleanup');
    await s.cleanup();
    assert.ok(!existsSync(join(root, 'active', 'a')), "the committed snapshot's dir is removed");
    await s.remove('b');
    assert.ok(!mounted(snapB.rootfs));
  });

  it('durable() waits for a detach still running', async () => {
    const s = await new HeldDetach(root).init();
    const c = await s.prepare('c', []);
    s.hold();
    await s.commit('c');
    let settled = false;
    const done = s.durable().then(() => (settled = true));
    await tick();
    assert.equal(settled, false);
    s.release();
    await done;
    assert.ok(!mounted(c.rootfs));
  });

  it('durable() resolves at once with no detach running, else after it; a failed detach rejects it, and the record is not written', async () => {
    const s = await new HeldDetach(root).init();
    const ran: string[] = [];
    const record = (name: string) =>
      void s.durable().then(
        () => ran.push(name),
        () => undefined,
      );
    record('idle');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(ran, ['idle']);

    const d = await s.prepare('d', []);
    s.hold();
    await s.commit('d');
    record('after d');
    await tick();
    assert.deepEqual(ran, ['idle'], 'a record waits for the detach that syncs its layer');
    s.release();
    await s.durable();
    assert.deepEqual(ran, ['idle', 'after d']);
    assert.ok(!mounted(d.rootfs));

    const e = await s.prepare('e', []);
    s.hold();
    s.fail = true;
    await s.commit('e');
    record('after e');
    s.release();
    await assert.rejects(s.durable(), /cannot detach or sync a committed snapshot: EBUSY \(a test\)/);
    assert.deepEqual(ran, ['idle', 'after d'], 'nothing is recorded after a failed detach');
    await assert.rejects(s.durable(), /EBUSY/, 'the failure stays: its layer is never published');
    s.fail = false;
    await s.remove('e');
    assert.ok(!mounted(e.rootfs));
  });

  it('a volatile snapshot skips the disk until its commit, which syncs the file system before records name its layer', async () => {
    const s = await new HeldDetach(root).init();
    const f = await s.prepare('f', [], { volatile: true });
    assert.match(mountOptions(f.rootfs), /volatile/, 'mounted volatile');
    writeFileSync(join(f.rootfs, 'x'), 'kept\n');
    let openSync!: () => void;
    s.syncGate = new Promise((r) => (openSync = r));
    const layer = await s.commit('f');
    const published = join(root, 'layers', layer.diffId.slice(7));
    const ran: string[] = [];
    void s.durable().then(() => ran.push('record'));
    const g = await s.prepare('g', [layer.diffId]);
    assert.equal(readFileSync(join(g.rootfs, 'x'), 'utf8'), 'kept\n', 'the next mount needs only the detach');
    assert.deepEqual(ran, [], 'the record waits for the sync');
    assert.ok(!existsSync(published), 'no layer dir before its files are on disk');
    assert.equal(await readIn(s, layer.diffId, 'x'), 'kept\n', 'meanwhile the layer is read from the upperdir');
    // A reader of the pending layer keeps its files where they are until it ends.
    let endRead!: () => void;
    const reading = s.readLayer(layer.diffId, (dir) => new Promise<string>((r) => (endRead = () => r(readFileSync(join(dir, 'x'), 'utf8')))));
    openSync();
    await tick();
    assert.ok(!existsSync(published), 'not published while read');
    endRead();
    assert.equal(await reading, 'kept\n');
    await s.durable();
    assert.deepEqual(ran, ['record']);
    assert.equal(s.syncs, 1);
    assert.equal((await s.stat(layer.diffId))?.path, published);
    assert.equal(readFileSync(join(published, 'x'), 'utf8'), 'kept\n');
    assert.equal(readFileSync(join(g.rootfs, 'x'), 'utf8'), 'kept\n', 'an overlay over the layer reads on after it is published');
    await s.remove('g');

    const h = await s.prepare('h', []);
    assert.doesNotMatch(mountOptions(h.rootfs), /volatile/, 'not asked for: an ordinary overlay, synced by its unmount');
    await s.commit('h');
    await s.durable();
    assert.equal(s.syncs, 1);
  });
});
