/**
 * bin/berth's code caches: one per verb, made by the verb's first successful run, so a
 * cached build does not compile its path again under a cache primed by `--version`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An install with the real entry point and a stand-in bundle that fails on the verb `bad`. */
function install(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-entry-'));
  dirs.push(d);
  mkdirSync(join(d, 'bin'));
  mkdirSync(join(d, 'dist'));
  copyFileSync(join(import.meta.dirname, '..', '..', 'bin', 'berth.cjs'), join(d, 'bin', 'berth.cjs'));
  writeFileSync(join(d, 'dist', 'berth.cjs'), "function used() { return 1 }\nif (process.argv.includes('bad')) process.exitCode = 1; else used();\n");
  return d;
}

function caches(d: string): string[] {
  return readdirSync(join(d, 'dist'))
    .filter((f) => f.endsWith('.cache'))
    .sort();
}

describe('entry point code caches', () => {
  const cases: Array<{ args: string[]; made: string[] }> = [
    { args: ['images'], made: ['berth.cjs.images.cache'] },
    { args: ['--root', '/some/root', 'build', '-q', '.'], made: ['berth.cjs.build.cache'] },
    { args: ['--debug', 'image', 'ls'], made: ['berth.cjs.image.cache'] },
    { args: ['--version'], made: ['berth.cjs.cache'] },
    { args: ['--root', 'Images'], made: ['berth.cjs.cache'] },
    { args: ['bad'], made: [] },
  ];
  for (const c of cases) {
    it(`berth ${c.args.join(' ')} makes ${c.made.join(', ') || 'no cache'}`, () => {
      const d = install();
      const r = spawnSync(process.execPath, [join(d, 'bin', 'berth.cjs'), ...c.args], { encoding: 'utf8' });
      assert.equal(r.status, c.args.includes('bad') ? 1 : 0, r.stderr);
      assert.deepEqual(caches(d), c.made);
    });
  }

  it('a verb writes its own cache once, beside the general one', () => {
    const d = install();
    const run = (...args: string[]) => spawnSync(process.execPath, [join(d, 'bin', 'berth.cjs'), ...args]).status;
    assert.equal(run('--version'), 0);
    assert.equal(run('ps'), 0);
    assert.deepEqual(caches(d), ['berth.cjs.cache', 'berth.cjs.ps.cache']);
    const first = statSync(join(d, 'dist', 'berth.cjs.ps.cache')).ino;
    assert.equal(run('ps'), 0);
    assert.equal(statSync(join(d, 'dist', 'berth.cjs.ps.cache')).ino, first, 'an accepted cache is not written again');
  });
});
