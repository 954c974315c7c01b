/**
 * The build context's content digests: the stat-keyed fast paths (per file, and per whole
 * selection) must give the digest a full read gives, and must notice every change.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BuildContext } from '../../src/builder/context.ts';
import { openDatabase, type Database } from '../../src/store/db.ts';
import { FileHashRecords } from '../../src/store/file-hashes.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fixture(): { ctx: string; db: Database } {
  const d = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  dirs.push(d);
  const ctx = join(d, 'ctx');
  mkdirSync(join(ctx, 'src'), { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(ctx, 'src', 'a.py'), 'print(1)\n');
  writeFileSync(join(ctx, 'src', 'b.py'), 'print(2)\n');
  symlinkSync('a.py', join(ctx, 'src', 'link'));
  return { ctx, db: openDatabase(join(d, 'meta.db')) };
}

/** A fresh BuildContext each time, as each build opens one: only the store carries over. */
async function digest(ctx: string, db: Database, source = 'src'): Promise<string> {
  const c = await BuildContext.open(ctx, join(ctx, 'Dockerfile'), new FileHashRecords(db));
  const { matched } = await c.select(source);
  return c.digestOf(matched, /[*?[]/.test(source) ? '' : source);
}

describe('build context digests', () => {
  const changes: Array<{ name: string; change: (ctx: string) => void }> = [
    { name: 'content and mtime of a file', change: (ctx) => writeFileSync(join(ctx, 'src', 'a.py'), 'print(9)\n') },
    { name: 'only the mtime of a file, same content', change: (ctx) => utimesSync(join(ctx, 'src', 'b.py'), new Date(1_000_000), new Date(1_000_000)) },
    { name: 'a new file', change: (ctx) => writeFileSync(join(ctx, 'src', 'c.py'), '') },
    { name: 'a removed file', change: (ctx) => unlinkSync(join(ctx, 'src', 'b.py')) },
    {
      name: 'a symlink pointed elsewhere',
      change: (ctx) => {
        unlinkSync(join(ctx, 'src', 'link'));
        symlinkSync('b.py', join(ctx, 'src', 'link'));
      },
    },
  ];
  for (const c of changes) {
    it(`a change is seen: ${c.name}`, async () => {
      const { ctx, db } = fixture();
      const before = await digest(ctx, db);
      assert.equal(await digest(ctx, db), before, 'unchanged context, same digest (from the fast path)');
      c.change(ctx);
      const changed = await digest(ctx, db);
      // The digest of the changed context is what a store that never saw it computes.
      const cold = openDatabase(join(ctx, '..', `cold-${Math.random()}.db`));
      assert.equal(changed, await digest(ctx, cold));
      if (c.name.startsWith('only the mtime')) assert.equal(changed, before, 'content is what counts: a touched file hashes the same');
      else assert.notEqual(changed, before);
    });
  }

  it('a change outside the selection is not seen, even beside a prefix of its path', async () => {
    const { ctx, db } = fixture();
    const before = await digest(ctx, db, 'src');
    const glob = await digest(ctx, db, 's*');
    mkdirSync(join(ctx, 'src2'));
    writeFileSync(join(ctx, 'src2', 'a.py'), 'print(3)\n');
    writeFileSync(join(ctx, 'src.py'), '');
    assert.equal(await digest(ctx, db, 'src'), before, 'src2/ and src.py are not under src/');
    assert.notEqual(await digest(ctx, db, 's*'), glob, 'the glob now matches src2 and src.py too');
  });

  it('the whole-selection fast path is keyed by what the COPY selects', async () => {
    const { ctx, db } = fixture();
    const all = await digest(ctx, db, '.');
    const src = await digest(ctx, db, 'src');
    assert.notEqual(all, src);
    assert.equal(await digest(ctx, db, '.'), all);
    assert.equal(await digest(ctx, db, 'src'), src);
    assert.equal((db.prepare('SELECT count(*) AS n FROM context_digests').get() as { n: number }).n, 2);
  });
});
