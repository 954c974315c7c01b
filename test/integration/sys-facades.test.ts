/**
 * Each sys/ facade (mount.ts, device-nodes.ts, xattr.ts) picks the addon or the fallback
 * itself: run with the addon and with BERTH_NO_NATIVE=1 (the tools), the same calls must
 * give the same tree.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO } from '../helpers/berth.ts';

const sandbox = mkdtempSync(join(tmpdir(), 'berth-sys-facades-'));
after(() => rmSync(sandbox, { recursive: true, force: true }));

function runFacades(name: string, noNative: boolean): Record<string, unknown> {
  const dir = join(sandbox, name);
  const env = { ...process.env, BERTH_NO_NATIVE: noNative ? '1' : '' };
  return JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', join(REPO, 'test', 'fixtures', 'sys-facades.ts'), dir], { cwd: REPO, env, encoding: 'utf8' }),
  );
}

describe('sys/ facades, with and without the addon', () => {
  const withAddon = runFacades('addon', false);
  const withTools = runFacades('tools', true);

  it('ran once through the addon and once through the tools', () => {
    assert.equal(withAddon.addon, true, 'dist/berth_sys.node is built (npm run build)');
    assert.equal(withTools.addon, false);
  });

  it('mount an overlay of named layers, then detach it, leaving the write in the upperdir', () => {
    for (const r of [withAddon, withTools]) {
      assert.deepEqual(r.mounted, ['a', 'b']);
      assert.deepEqual(r.merged, ['from a\n', 'only b\n']);
      assert.equal(r.upperAfterDetach, 'written\n');
      assert.equal(r.detached, true);
    }
    assert.equal(withAddon.beforeSpawnAwaited, false, 'the addon mounts in line');
    assert.equal(withTools.beforeSpawnAwaited, true, 'the tool is spawned after beforeSpawn');
  });

  it('make whiteouts, fifos and device nodes with exact modes', () => {
    assert.deepEqual(withTools.nodes, withAddon.nodes);
    assert.deepEqual(withAddon.nodes, [
      { n: 'gone1', char: true, fifo: false, mode: '0', rdev: 0 },
      { n: 'gone 2', char: true, fifo: false, mode: '0', rdev: 0 },
      { n: 'fifo', char: false, fifo: true, mode: '640', rdev: 0 },
      { n: 'null', char: true, fifo: false, mode: '666', rdev: 259 },
    ]);
  });

  it('set xattrs (reporting the file that failed) and read them back over a tree', () => {
    assert.equal(withAddon.setFailed, true);
    assert.equal(withTools.setFailed, true);
    assert.deepEqual(withTools.xattrs, withAddon.xattrs);
    assert.deepEqual(withAddon.xattrs, [
      ['', []],
      ['sub', [['trusted.overlay.opaque', '79']]],
      ['sub/file é', [['user.note', '000102']]],
    ]);
  });
});
