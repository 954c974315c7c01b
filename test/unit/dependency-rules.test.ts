/**
 * The import rules bite: .dependency-cruiser.cjs and scripts/check-sql.ts, exactly as `npm run check`
 * runs them, on test/fixtures/deps/, a small tree that breaks each rule once on purpose.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findSql, looksLikeSql } from '../../scripts/check-sql.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(repo, 'test/fixtures/deps');
const depcruise = join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** The violations depcruise reports for the fixture tree, as "rule: from → to". */
async function violations(): Promise<string[]> {
  const run = promisify(execFile)(process.execPath, [depcruise, '--config', join(repo, '.dependency-cruiser.cjs'), '--output-type', 'json', 'src'], {
    cwd: fixture,
    maxBuffer: 16 << 20,
  });
  // depcruise exits with the number of errors, so a rejection still carries the report.
  const { stdout } = await run.catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const result = JSON.parse(stdout) as { summary: { violations: Violation[] } };
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^(\.\.\/)+node_modules\//, 'node_modules/')}`).sort();
}

describe('dependency rules (.dependency-cruiser.cjs on test/fixtures/deps)', () => {
  const found = violations();

  it('reports a cycle between two folders even when no file cycle makes it', async () => {
    const cycles = (await found).filter((v) => v.startsWith('no-folder-cycle:'));
    assert.ok(cycles.includes('no-folder-cycle: src/snapshot → src/volume'), cycles.join('\n'));
    assert.ok(cycles.includes('no-folder-cycle: src/volume → src/snapshot'), cycles.join('\n'));
    assert.ok(!(await found).some((v) => v.startsWith('no-file-cycle: src/snapshot') || v.startsWith('no-file-cycle: src/volume/two')));
  });

  it('reports a cycle between two files', async () => {
    assert.ok((await found).includes('no-file-cycle: src/volume/labels.ts → src/volume/names.ts'));
  });

  it('reports a lower folder importing cli/, and a folder importing one above it', async () => {
    const all = await found;
    assert.ok(all.includes('cli-only-from-cli: src/image/views.ts → src/cli/format.ts'));
    assert.ok(all.includes('level-5-imports-above: src/image/views.ts → src/cli/format.ts'));
    assert.ok(all.includes('level-0-imports-above: src/errors/index.ts → src/image/views.ts'));
  });

  it('reports a pure module reaching the system, by a static or a dynamic import, or an npm package off its list', async () => {
    const all = await found;
    assert.ok(all.includes('pure-no-system-builtins: src/lint/context.ts → fs'));
    assert.ok(all.includes('pure-no-system-builtins: src/lint/context.ts → child_process'));
    assert.ok(all.some((v) => v.startsWith('pure-no-npm: src/oci/schema.ts → node_modules/yaml/')));
    assert.ok(!all.some((v) => v.includes('node_modules/zod/')), 'zod is on the allow-list');
  });

  it('reports better-sqlite3 imported outside store/, not inside it', async () => {
    const sqlite = (await found).filter((v) => v.startsWith('sqlite-only-in-store:'));
    assert.deepEqual(
      sqlite.map((v) => v.split(' → ')[0]),
      ['sqlite-only-in-store: src/image/records.ts'],
    );
  });

  it('reports a folder that is on no level', async () => {
    assert.ok((await found).includes('unit-not-on-a-level: src/image/unlisted.ts → src/planner/plan.ts'));
  });
});

describe('scripts/check-sql.ts on test/fixtures/deps', () => {
  const findings = findSql(join(fixture, 'src')).map((f) => ({ ...f, file: f.file.slice(f.file.indexOf('src/')) }));

  it('finds the SQL statements and the better-sqlite3 calls outside store/, each with its line', () => {
    assert.deepEqual(
      findings.map((f) => `${f.file}:${f.line}`),
      ['src/image/records.ts:6', 'src/image/records.ts:10', 'src/image/records.ts:11'],
    );
    assert.match(findings[0]!.what, /SQL text "SELECT id FROM images ORDER BY created"/);
    assert.match(findings[0]!.what, /better-sqlite3 call \.prepare\(\)/);
    assert.match(findings[1]!.what, /SQL text "DELETE FROM images WHERE id = '\?'"/);
    assert.match(findings[2]!.what, /better-sqlite3 call \.exec\(\)/);
  });

  it('reports nothing in store/, nor English in comments and strings, nor iptables input, nor Map.get', () => {
    assert.ok(!findings.some((f) => f.file.startsWith('src/store/') || f.file === 'src/image/prose.ts'), JSON.stringify(findings));
  });

  it('tells SQL statements from prose', () => {
    for (const sql of [
      'SELECT 1 FROM containers WHERE image_id = ?',
      'INSERT OR REPLACE INTO t (a) VALUES (?)',
      'UPDATE build_cache SET x = 1',
      'DELETE FROM t',
      'CREATE TABLE IF NOT EXISTS t (a)',
      'PRAGMA journal_mode = WAL',
    ]) {
      assert.ok(looksLikeSql(sql), sql);
    }
    for (const prose of [
      'select the image from the list',
      'Select a platform FROM the index',
      'update the tags, then set them',
      'COMMIT',
      'FROM debian:bookworm-slim',
    ]) {
      assert.ok(!looksLikeSql(prose), prose);
    }
  });
});
