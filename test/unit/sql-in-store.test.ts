/**
 * Only store/ speaks SQL: every other module reaches the metadata database through a typed
 * repository (store/containers.ts, store/networks.ts, ...), never through the database itself.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const SIGNS: Array<[string, RegExp]> = [
  ['an SQL statement', /\b(SELECT|INSERT|UPDATE|DELETE)\b[^'"`]*\b(FROM|INTO|SET)\b|\bCREATE (TABLE|INDEX)\b|\bBEGIN IMMEDIATE\b/],
  ['a pragma', /\.pragma\(/],
  ['the SQLite driver', /['"]better-sqlite3['"]/],
  ['the database module', /['"][./]*store\/db\.ts['"]/],
  ['the database of the engine', /\bengine\.db\b/],
];

describe('SQL lives in store/ only', () => {
  const outside = sources(SRC).filter((f) => !relative(SRC, f).startsWith('store/'));
  it('finds the sources it checks', () => assert.ok(outside.length > 50, `${outside.length} files`));
  for (const [what, re] of SIGNS) {
    it(`no module outside store/ holds ${what}`, () => {
      const hits = outside.flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (re.test(line) ? [`${relative(SRC, f)}:${i + 1}: ${line.trim()}`] : [])),
      );
      assert.deepEqual(hits, []);
    });
  }
  it('would see SQL where it is (store/ itself)', () => {
    const inside = readFileSync(join(SRC, 'store', 'containers.ts'), 'utf8');
    assert.match(inside, SIGNS[0]![1]);
  });
});
