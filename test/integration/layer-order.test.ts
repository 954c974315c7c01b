/**
 * What a later entry of a layer does to an earlier one happens in tar order: a file over a
 * file, a dir over a file, a hardlink to, a whiteout of, or a symlink over a file just
 * written. Each case is applied and the resulting tree compared with what tar order gives.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { applyLayer } from '../../src/layer/index.ts';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string };

function tarOf(entries: Entry[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const h = {
      name: e.name,
      type,
      linkname: e.linkname,
      mode: type === 'directory' ? 0o755 : 0o640,
      uid: 1000,
      gid: 1000,
      mtime: new Date(1_600_000_000_000),
    };
    if (type === 'file') pack.entry(h, e.body ?? 'x');
    else pack.entry(h);
  }
  pack.finalize();
  return Readable.from(pack as AsyncIterable<Buffer>);
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function apply(entries: Entry[], whiteouts: 'apply' | 'overlay' = 'apply'): Promise<string> {
  const d = mkdtempSync(join(tmpdir(), 'berth-order-'));
  dirs.push(d);
  await applyLayer(tarOf(entries), d, { whiteouts });
  return d;
}

const many = (prefix: string, n: number): Entry[] => Array.from({ length: n }, (_, i) => ({ name: `${prefix}/f${i}`, body: `${prefix}-${i}` }));

describe('small files in parallel, tar order kept', () => {
  it('200 files land with their content, owner, mode and mtime', async () => {
    const d = await apply([{ name: 'a', type: 'directory' }, ...many('a', 200)]);
    for (const i of [0, 99, 199]) {
      assert.equal(readFileSync(join(d, `a/f${i}`), 'utf8'), `a-${i}`);
      const st = lstatSync(join(d, `a/f${i}`));
      assert.equal(st.mode & 0o7777, 0o640);
      assert.equal(st.uid, 1000);
      assert.equal(st.mtimeMs, 1_600_000_000_000);
    }
  });

  it('a later entry at the same path wins', async () => {
    const d = await apply([...many('x', 20), { name: 'x/f3', body: 'second' }]);
    assert.equal(readFileSync(join(d, 'x/f3'), 'utf8'), 'second');
  });

  it('a dir replacing a file just written, and files inside it', async () => {
    const d = await apply([...many('p', 10), { name: 'p/f5', type: 'directory' }, { name: 'p/f5/inner', body: 'in' }]);
    assert.ok(lstatSync(join(d, 'p/f5')).isDirectory());
    assert.equal(readFileSync(join(d, 'p/f5/inner'), 'utf8'), 'in');
  });

  it('a hardlink to a file just written', async () => {
    const d = await apply([...many('h', 10), { name: 'h/link', type: 'link', linkname: 'h/f7' }]);
    assert.equal(lstatSync(join(d, 'h/link')).ino, lstatSync(join(d, 'h/f7')).ino);
  });

  it('a whiteout of a file just written', async () => {
    const d = await apply([...many('w', 10), { name: 'w/.wh.f2' }]);
    assert.ok(!existsSync(join(d, 'w/f2')));
    assert.ok(existsSync(join(d, 'w/f3')));
  });

  it('a symlink replacing a file just written', async () => {
    const d = await apply([...many('s', 10), { name: 's/f1', type: 'symlink', linkname: 'f0' }]);
    assert.equal(readlinkSync(join(d, 's/f1')), 'f0');
  });
});
