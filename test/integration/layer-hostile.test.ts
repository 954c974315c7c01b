/**
 * Hostile layer tars: each case is built here with tar-stream and applied to a target
 * inside a sandbox dir that also holds a sentinel. Nothing outside the target may change.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { applyLayer } from '../../src/layer/index.ts';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo'; body?: string; linkname?: string; devmajor?: number; devminor?: number };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const h = { name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o644, devmajor: e.devmajor, devminor: e.devminor };
    if (e.type === undefined || e.type === 'file') pack.entry(h, e.body ?? 'x');
    else pack.entry(h).end(Buffer.alloc(0));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sandbox = mkdtempSync(join(tmpdir(), 'berth-hostile-'));
after(() => rmSync(sandbox, { recursive: true, force: true }));

function treeListing(dir: string): string {
  return execFileSync('find', [dir, '-printf', '%p %y %s\n']).toString().split('\n').sort().join('\n');
}

const cases: Array<{ name: string; entries: Entry[]; mayFail?: boolean }> = [
  { name: 'path traversal ../../x', entries: [{ name: '../../evil' }] },
  { name: 'traversal in the middle a/../../x', entries: [{ name: 'a/../../evil' }] },
  { name: 'absolute path lands inside', entries: [{ name: '/evil' }] },
  { name: 'absolute symlink then write through it', entries: [{ name: 'etc', type: 'symlink', linkname: '/..' }, { name: 'etc/evil' }] },
  { name: 'relative symlink escaping then write through it', entries: [{ name: 'up', type: 'symlink', linkname: '../../../..' }, { name: 'up/evil' }] },
  { name: 'symlink to outside dir then nested write', entries: [{ name: 'd', type: 'symlink', linkname: '../outside' }, { name: 'd/sub/evil' }] },
  { name: 'hardlink to /etc/passwd', entries: [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }], mayFail: true },
  { name: 'hardlink with .. to outside', entries: [{ name: 'pw', type: 'link', linkname: '../outside/sentinel' }] },
  { name: 'hardlink through escaping symlink', entries: [{ name: 'l', type: 'symlink', linkname: '../outside' }, { name: 'h', type: 'link', linkname: 'l/sentinel' }], mayFail: true },
  { name: '.. in a whiteout name', entries: [{ name: '../.wh.sentinel' }] },
  { name: 'whiteout of ..', entries: [{ name: 'a/.wh...' }] },
  { name: 'whiteout through a symlinked parent', entries: [{ name: 'p', type: 'symlink', linkname: '../outside' }, { name: 'p/.wh.sentinel' }] },
  { name: 'device node named outside', entries: [{ name: '../devnull', type: 'character-device', devmajor: 1, devminor: 3 }] },
  { name: 'symlink replaced by dir then written', entries: [{ name: 's', type: 'symlink', linkname: '/' }, { name: 's', type: 'directory' }, { name: 's/ok' }] },
  { name: 'long PAX path with ..', entries: [{ name: `${'a'.repeat(120)}/../../../${'b'.repeat(120)}/evil` }] },
  { name: 'fifo outside', entries: [{ name: 'x/../../fifo', type: 'fifo' }] },
];

describe('applyLayer never writes outside its target', () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const box = join(sandbox, `case${i}`);
      const outside = join(box, 'outside');
      const target = join(box, 'root', 'target');
      mkdirSync(outside, { recursive: true });
      mkdirSync(target, { recursive: true });
      writeFileSync(join(outside, 'sentinel'), 'keep');
      const before = treeListing(outside);
      const boxBefore = treeListing(box).split('\n').filter((l) => !l.includes('/root/target')).join('\n');
      const data = await tarOf(c.entries);
      for (const mode of ['apply', 'overlay'] as const) {
        await applyLayer(Readable.from([data]), target, { whiteouts: mode }).catch((e: unknown) => {
          assert.equal((e as { name?: string }).name, 'BerthError', `unexpected error type: ${String(e)}`);
        });
      }
      assert.equal(treeListing(outside), before, 'the outside dir changed');
      assert.equal(readFileSync(join(outside, 'sentinel'), 'utf8'), 'keep');
      const boxAfter = treeListing(box).split('\n').filter((l) => !l.includes('/root/target')).join('\n');
      assert.equal(boxAfter, boxBefore, 'something was written beside the target');
      assert.equal(existsSync('/evil'), false);
      assert.equal(existsSync(join(box, 'evil')), false);
    });
  }
  it(`covers at least 12 hostile cases (${cases.length})`, () => assert.ok(cases.length >= 12));
});
