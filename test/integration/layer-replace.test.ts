/**
 * A layer that replaces many dirs, each with records under it (a subdir's mtime, a file's
 * xattr, a whiteout), by files and then by dirs again: every record under a replaced dir is
 * forgotten (a stale one would fail the extraction at its end), and each removal visits
 * only its own subtree (a scan of every record per removal made 20k such replacements
 * quadratic). Speed is not asserted here: the result is.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { applyLayer, type TarHeader } from '../../src/layer/index.ts';
import { encodeHeader, END_OF_ARCHIVE, padding } from '../../src/layer/tar-format.ts';

const N = 100;
const work = mkdtempSync(join(tmpdir(), 'berth-replace-'));
after(() => rmSync(work, { recursive: true, force: true }));

function entry(name: string, type: TarHeader['type'], body = '', xattrs: ReadonlyMap<string, Buffer> = new Map()): Buffer {
  const data = Buffer.from(body);
  const h: TarHeader = {
    name,
    type,
    mode: type === 'directory' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: 1_600_000_000,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs,
  };
  return Buffer.concat([encodeHeader(h), data, Buffer.alloc(padding(data.length))]);
}

/** d<i>/ with a subdir, a file with an xattr and a whiteout; then d<i> as a file; then e<i>/ as a file, then a dir again. */
function layer(): Buffer {
  const parts: Buffer[] = [];
  const attr = new Map([['user.k', Buffer.from('v')]]);
  for (let i = 0; i < N; i++)
    parts.push(entry(`d${i}/`, 'directory'), entry(`d${i}/sub/`, 'directory'), entry(`d${i}/sub/f`, 'file', 'in', attr), entry(`d${i}/.wh.gone`, 'file'));
  for (let i = 0; i < N; i++) parts.push(entry(`d${i}`, 'file', `file ${i}`));
  for (let i = 0; i < N; i++)
    parts.push(entry(`e${i}/`, 'directory'), entry(`e${i}`, 'file', 'x'), entry(`e${i}/`, 'directory'), entry(`e${i}/f`, 'file', `again ${i}`));
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

describe('dirs replaced by files, many times in one layer', () => {
  for (const whiteouts of ['overlay', 'apply'] as const) {
    it(`leaves the files, and the dirs made again, in ${whiteouts} mode`, async () => {
      const dir = mkdtempSync(join(work, `${whiteouts}-`));
      await applyLayer(Readable.from([layer()]), dir, { whiteouts });
      const names = readdirSync(dir);
      assert.equal(names.length, 2 * N);
      for (const i of [0, N >> 1, N - 1]) {
        assert.ok(lstatSync(join(dir, `d${i}`)).isFile());
        assert.equal(readFileSync(join(dir, `d${i}`), 'utf8'), `file ${i}`);
        assert.ok(lstatSync(join(dir, `e${i}`)).isDirectory());
        assert.equal(readFileSync(join(dir, `e${i}/f`), 'utf8'), `again ${i}`);
        assert.equal(lstatSync(join(dir, `e${i}`)).mtimeMs, 1_600_000_000_000);
      }
      assert.ok(!existsSync(join(dir, 'd0/.wh.gone')));
    });
  }
});
