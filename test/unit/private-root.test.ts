/** store/private-root.ts on temp trees: 0700 roots, and an older berth's loose root tightened without following links. */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { privateDir, tightenStateRoot } from '../../src/store/private-root.ts';

const base = mkdtempSync(join(tmpdir(), 'berth-private-root-'));
after(() => rmSync(base, { recursive: true, force: true }));
const mode = (p: string) => lstatSync(p).mode & 0o7777;

describe('privateDir', () => {
  const cases: Array<{ name: string; before?: number; want: string; after: number }> = [
    { name: 'a missing dir is made 0700', want: 'made', after: 0o700 },
    { name: 'an older berth 0711 root is tightened', before: 0o711, want: 'tightened', after: 0o700 },
    { name: 'a 0755 root is tightened', before: 0o755, want: 'tightened', after: 0o700 },
    { name: 'a 0750 root is tightened', before: 0o750, want: 'tightened', after: 0o700 },
    { name: 'a 0700 root is left alone', before: 0o700, want: 'private', after: 0o700 },
    { name: 'a 0500 root is left alone (only group and other bits are taken off)', before: 0o500, want: 'private', after: 0o500 },
  ];
  it("another user's dir is taken by root (its owner could chmod it back)", { skip: process.geteuid?.() !== 0 && 'needs root' }, () => {
    const dir = join(base, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    assert.equal(privateDir(dir), 'tightened');
    assert.equal(statSync(dir).uid, 0);
    assert.equal(mode(dir), 0o700);
  });
  for (const [i, c] of cases.entries()) {
    it(c.name, () => {
      const dir = join(base, `case-${i}`, 'nested');
      if (c.before !== undefined) {
        mkdirSync(dir, { recursive: true });
        chmodSync(dir, c.before);
      }
      assert.equal(privateDir(dir), c.want);
      assert.equal(mode(dir), c.after);
    });
  }
});

describe('tightenStateRoot', () => {
  it("makes an old root's dirs 0700 and secrets 0600, and leaves links, layers and _data alone", () => {
    const root = join(base, 'old');
    const id = 'c'.repeat(64);
    for (const d of ['content/blobs/sha256', 'content/ingest', 'snapshots/layers/abc/bin', 'snapshots/active', `containers/${id}/bundle`, 'volumes/v/_data'])
      mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
    for (const f of ['metadata.db', 'metadata.db-wal', `containers/${id}/${id}-json.log`, 'snapshots/layers/abc/bin/tool'])
      writeFileSync(join(root, f), 'x', { mode: 0o644 });
    // A link where a config.json would be: its target, outside, must keep its mode.
    const outside = join(base, 'outside.txt');
    writeFileSync(outside, 'y', { mode: 0o644 });
    symlinkSync(outside, join(root, 'containers', id, 'bundle', 'config.json'));
    chmodSync(join(root, 'volumes/v/_data'), 0o755);
    tightenStateRoot(root);
    for (const d of [
      'content',
      'content/blobs',
      'content/blobs/sha256',
      'content/ingest',
      'snapshots',
      'snapshots/layers',
      'snapshots/active',
      'containers',
      `containers/${id}`,
      `containers/${id}/bundle`,
      'volumes',
    ]) {
      assert.equal(mode(join(root, d)), 0o700, d);
    }
    for (const f of ['metadata.db', 'metadata.db-wal', `containers/${id}/${id}-json.log`]) assert.equal(mode(join(root, f)), 0o600, f);
    assert.equal(statSync(outside).mode & 0o777, 0o644, 'a link was followed');
    assert.equal(mode(join(root, 'snapshots/layers/abc')), 0o755, "a layer dir keeps its image's mode");
    assert.equal(mode(join(root, 'snapshots/layers/abc/bin/tool')), 0o644);
    assert.equal(mode(join(root, 'volumes/v/_data')), 0o755);
  });

  it('a root with no containers yet', () => {
    const root = join(base, 'bare');
    mkdirSync(root);
    writeFileSync(join(root, 'metadata.db'), '', { mode: 0o644 });
    tightenStateRoot(root);
    assert.equal(mode(join(root, 'metadata.db')), 0o600);
  });
});
