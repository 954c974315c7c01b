/**
 * Whiteouts both ways, on a real overlayfs: a layer that deletes a file and makes a dir
 * opaque gives the same view applied in place (`apply`) and as stacked lowerdirs
 * (`overlay`); changes made in a mounted view come back out of the upperdir as `.wh.`
 * entries and `.wh..wh..opq`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { applyLayer, readTar, writeLayer } from '../../src/layer/index.ts';

const work = mkdtempSync(join(tmpdir(), 'berth-layer-ovl-'));
const mounted: string[] = [];
after(() => {
  for (const m of mounted) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

type Spec = { name: string; type?: 'directory' | 'symlink'; body?: string; linkname?: string };

function layerOf(entries: Spec[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    const type: 'file' | 'directory' | 'symlink' = e.type ?? 'file';
    const header = { name: e.name, type, mode: type === 'directory' ? 0o755 : 0o644, linkname: e.linkname, mtime: new Date(1e12) };
    if (type === 'file') pack.entry(header, e.body ?? e.name);
    else pack.entry(header);
  }
  pack.finalize();
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** path → "kind content" of a merged view, dirs included. */
function view(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      if (st.isDirectory()) {
        out[r] = 'dir';
        walk(r);
      } else if (st.isSymbolicLink()) out[r] = `-> ${readlinkSync(join(root, r))}`;
      else if (st.isFile()) out[r] = `file ${readFileSync(join(root, r), 'utf8')}`;
      else out[r] = `other rdev=${st.rdev}`;
    }
  };
  walk('');
  return out;
}

const LAYER1: Spec[] = [
  { name: 'keep', body: 'keep' },
  { name: 'del', body: 'del' },
  { name: 'dir/', type: 'directory' },
  { name: 'dir/a' },
  { name: 'dir/b' },
  { name: 'opq/', type: 'directory' },
  { name: 'opq/x' },
  { name: 'opq/sub/y' },
  { name: 'link', type: 'symlink', linkname: 'dir/a' },
];
const LAYER2: Spec[] = [
  { name: '.wh.del' },
  { name: 'dir/c' },
  { name: 'dir/.wh.b' },
  { name: 'opq/', type: 'directory' },
  { name: 'opq/.wh..wh..opq' },
  { name: 'opq/new', body: 'new' },
  { name: '.wh.link' },
];
const EXPECTED: Record<string, string> = {
  dir: 'dir',
  'dir/a': 'file dir/a',
  'dir/c': 'file dir/c',
  keep: 'file keep',
  opq: 'dir',
  'opq/new': 'file new',
};

function mountOverlay(lowers: string[], name: string): { merged: string; upper: string } {
  const base = join(work, name);
  const [upper, wd, merged] = ['upper', 'work', 'merged'].map((d) => join(base, d));
  for (const d of [upper!, wd!, merged!]) mkdirSync(d, { recursive: true });
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${wd}`, merged!]);
  mounted.push(merged!);
  return { merged: merged!, upper: upper! };
}

function unmount(merged: string): void {
  execFileSync('umount', [merged]);
  mounted.splice(mounted.indexOf(merged), 1);
}

describe('whiteouts', () => {
  it("'apply' deletes files and empties opaque dirs in place", async () => {
    const dest = join(work, 'applied');
    await applyLayer(layerOf(LAYER1), dest, { whiteouts: 'apply' });
    await applyLayer(layerOf(LAYER2), dest, { whiteouts: 'apply' });
    assert.deepEqual(view(dest), EXPECTED);
  });

  it("'overlay' writes 0/0 devices and the opaque xattr, and a real overlay mount shows the same view", async () => {
    const [l1, l2] = [join(work, 'L1'), join(work, 'L2')];
    await applyLayer(layerOf(LAYER1), l1, { whiteouts: 'overlay' });
    await applyLayer(layerOf(LAYER2), l2, { whiteouts: 'overlay' });
    for (const w of ['del', 'dir/b', 'link']) {
      const st = lstatSync(join(l2, w));
      assert.ok(st.isCharacterDevice() && st.rdev === 0, `${w} is a whiteout`);
    }
    const attr = execFileSync('getfattr', ['--absolute-names', '-n', 'trusted.overlay.opaque', '--only-values', join(l2, 'opq')]).toString();
    assert.equal(attr, 'y');
    const { merged } = mountOverlay([l2, l1], 'view12');
    assert.deepEqual(view(merged), EXPECTED);
    unmount(merged);
  });

  it('changes in a mounted view come back out of the upperdir as whiteouts', async () => {
    const [l1, l2] = [join(work, 'L1'), join(work, 'L2')];
    const { merged, upper } = mountOverlay([l2, l1], 'change');
    unlinkSync(join(merged, 'keep'));
    rmSync(join(merged, 'dir'), { recursive: true });
    mkdirSync(join(merged, 'dir'));
    writeFileSync(join(merged, 'dir/z'), 'z');
    appendFileSync(join(merged, 'opq/new'), '+');
    writeFileSync(join(merged, 'added'), 'added');
    const expected = view(merged);
    unmount(merged);

    const names: string[] = [];
    for await (const e of readTar(writeLayer(upper, { mode: 'overlay-upper' }))) names.push(`${e.header.type} ${e.header.name}`);
    assert.deepEqual(names, ['file .wh.keep', 'file added', 'directory dir/', 'file dir/.wh..wh..opq', 'file dir/z', 'directory opq/', 'file opq/new']);

    // The upper as a layer: applied in place it reproduces the view, and stacked as a
    // third lowerdir it does too.
    const inPlace = join(work, 'applied');
    await applyLayer(writeLayer(upper, { mode: 'overlay-upper' }), inPlace, { whiteouts: 'apply' });
    assert.deepEqual(view(inPlace), expected);
    const l3 = join(work, 'L3');
    await applyLayer(writeLayer(upper, { mode: 'overlay-upper' }), l3, { whiteouts: 'overlay' });
    const again = mountOverlay([l3, l2, l1], 'view123');
    assert.deepEqual(view(again.merged), expected);
    unmount(again.merged);
  });

  it("an opaque marker after the layer's own entries keeps them and drops only lower content", async () => {
    const dest = join(work, 'opq-order');
    await applyLayer(layerOf(LAYER1), dest, { whiteouts: 'apply' });
    await applyLayer(layerOf([{ name: 'opq/late' }, { name: 'opq/.wh..wh..opq' }]), dest, { whiteouts: 'apply' });
    assert.deepEqual(readdirSync(join(dest, 'opq')), ['late']);
  });
});
