/**
 * The dir layers are unpacked in carries ext4's top-dir flag (sys/top-dir.ts), so that each
 * new layer lands in a block group of its own rather than beside inodes a delete just freed.
 * Where the file system has no such flag (lsattr fails or shows none for a plain dir marked
 * by hand), the test says so and checks only that the root still opens.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LayerDirs } from '../../src/snapshot/layer-dirs.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-topdir-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const flags = (path: string) => spawnSync('lsattr', ['-d', path], { encoding: 'utf8' }).stdout.split(' ')[0] ?? '';

describe('layer dirs: the top-dir flag', () => {
  it('a new root marks its tmp dir +T where the file system has the flag, and keeps it 0700', async (t) => {
    const probe = join(dir, 'probe');
    mkdirSync(probe);
    spawnSync('chattr', ['+T', probe]);
    const layers = new LayerDirs(join(dir, 'layers'));
    await layers.init();
    assert.equal(statSync(join(dir, 'layers', 'tmp')).mode & 0o777, 0o700);
    if (!flags(probe).includes('T')) return t.skip('this file system has no top-dir flag');
    assert.ok(flags(join(dir, 'layers', 'tmp')).includes('T'), flags(join(dir, 'layers', 'tmp')));
    await layers.init(); // a second open changes nothing and does not fail
    assert.ok(flags(join(dir, 'layers', 'tmp')).includes('T'));
  });
});
