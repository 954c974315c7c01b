/**
 * The dir layers are unpacked in carries ext4's top-dir flag (sys/top-dir.ts), so that each
 * new layer lands in a block group of its own rather than beside inodes a delete just freed.
 * Where the file system has no such flag, marking is a no-op that says so, and the root opens
 * all the same: the test checks that the flag is there exactly when marking said it took.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LayerDirs } from '../../src/snapshot/layer-dirs.ts';
import { markTopDir } from '../../src/sys/top-dir.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-topdir-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const flags = (path: string) => spawnSync('lsattr', ['-d', path], { encoding: 'utf8' }).stdout.split(' ')[0] ?? '';

describe('layer dirs: the top-dir flag', () => {
  it('a new root marks its tmp dir +T where the file system has the flag, and keeps it 0700', async () => {
    const probe = join(dir, 'probe');
    mkdirSync(probe);
    const supported = await markTopDir(probe);
    assert.equal(flags(probe).includes('T'), supported, `markTopDir said ${supported}; lsattr: ${flags(probe)}`);
    const layers = new LayerDirs(join(dir, 'layers'));
    await layers.init();
    const tmp = join(dir, 'layers', 'tmp');
    assert.equal(statSync(tmp).mode & 0o777, 0o700);
    assert.equal(flags(tmp).includes('T'), supported, flags(tmp));
    await layers.init(); // a second open changes nothing and does not fail
    assert.equal(flags(tmp).includes('T'), supported);
  });
});
