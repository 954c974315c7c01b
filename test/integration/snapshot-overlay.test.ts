/**
 * The overlay driver's commit returns before its overlay is detached: the next mount waits
 * for the detach, settled() reports it, and flushCleanup() then removes the snapshot's dir.
 * A subclass holds the detach back, so that "still running" is a state the test controls.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OverlaySnapshotter } from '../../src/snapshot/overlay.ts';

const root = mkdtempSync(join(tmpdir(), 'berth-overlay-'));
after(() => rmSync(root, { recursive: true, force: true }));

const mounted = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
const tick = () => new Promise((r) => setTimeout(r, 20));

/** Detaches only once `release()` is called. */
class HeldDetach extends OverlaySnapshotter {
  private gate = Promise.resolve();
  release = () => {};
  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  override async unmount(key: string): Promise<void> {
    await this.gate;
    return super.unmount(key);
  }
}

describe('overlay commit', () => {
  it('returns before the detach; a mount over its layer waits for it; flushCleanup() removes the dir', async () => {
    const s = await new HeldDetach(root).init();
    const a = await s.prepare('a', []);
    writeFileSync(join(a.rootfs, 'f'), 'one\n');
    s.hold();
    const layer = await s.commit('a');
    assert.ok(mounted(a.rootfs), 'commit returned with the overlay still attached');
    assert.equal(readFileSync(join(s.layerPath(layer.diffId), 'f'), 'utf8'), 'one\n', 'the layer dir is in place when commit returns');

    let bReady = false;
    const b = s.prepare('b', [layer.diffId]).then((snap) => ((bReady = true), snap));
    await tick();
    assert.equal(bReady, false, 'the mount over the layer waits for the detach');
    s.release();
    const snapB = await b;
    assert.ok(!mounted(a.rootfs));
    assert.equal(readFileSync(join(snapB.rootfs, 'f'), 'utf8'), 'one\n');

    await s.settled();
    s.flushCleanup();
    assert.ok(!existsSync(join(root, 'active', 'a')), "the committed snapshot's dir is removed");
    await s.remove('b');
    assert.ok(!mounted(snapB.rootfs));
  });

  it('settled() waits for a detach still running', async () => {
    const s = await new HeldDetach(root).init();
    const c = await s.prepare('c', []);
    s.hold();
    await s.commit('c');
    let settled = false;
    const done = s.settled().then(() => (settled = true));
    await tick();
    assert.equal(settled, false);
    s.release();
    await done;
    assert.ok(!mounted(c.rootfs));
  });
});
