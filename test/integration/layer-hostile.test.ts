/**
 * Hostile layer tars: each case is built here with tar-stream and applied, in both whiteout
 * modes, to a target inside a sandbox that also holds an `outside` dir with a sentinel.
 * Nothing outside the target may change (names, types, sizes, modes, owners, mtimes,
 * ctimes), and each case ends the documented way: refused with UNSAFE_PATH, refused as
 * DATA_CORRUPT, or contained (the write lands inside the target).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { applyLayer } from '../../src/layer/index.ts';

type Entry = {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  body?: string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
};

function tarOf(entries: Entry[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const h = { name: e.name, type, linkname: e.linkname, mode: type === 'directory' ? 0o755 : 0o644, devmajor: e.devmajor, devminor: e.devminor, pax: e.pax };
    if (type === 'file') pack.entry(h, e.body ?? 'x');
    else pack.entry(h);
  }
  pack.finalize();
  return Readable.from(pack as AsyncIterable<Buffer>);
}

const sandbox = mkdtempSync(join(tmpdir(), 'berth-hostile-'));
after(() => rmSync(sandbox, { recursive: true, force: true }));

/** Names, types, sizes, modes, owners, mtimes and ctimes of everything under `dir`. */
function treeListing(dir: string, skip?: string): string {
  return execFileSync('find', [dir, '-printf', '%p %y %s %m %U:%G %T@ %C@\n'])
    .toString()
    .split('\n')
    .filter((l) => l && !(skip && (l.startsWith(`${skip}/`) || l.startsWith(`${skip} `))))
    .sort()
    .join('\n');
}

type Outcome = 'UNSAFE_PATH' | 'DATA_CORRUPT' | ((target: string, outside: string) => void);
type Case = { name: string; entries: (outside: string) => Entry[]; expect: Outcome };

const isFileIn = (rel: string) => (target: string) => assert.ok(lstatSync(join(target, rel)).isFile(), `${rel} lands inside the target`);

const cases: Case[] = [
  { name: 'path traversal ../../x', entries: () => [{ name: '../../evil' }], expect: 'UNSAFE_PATH' },
  { name: 'traversal in the middle a/../../x', entries: () => [{ name: 'a/../../evil' }], expect: 'UNSAFE_PATH' },
  { name: 'contained .. is cleaned like Docker (a/../b → b)', entries: () => [{ name: 'a/../b' }], expect: isFileIn('b') },
  {
    name: 'absolute path /etc/x lands inside',
    entries: () => [{ name: '/etc/berth-evil' }],
    expect: (t) => {
      isFileIn('etc/berth-evil')(t);
      assert.equal(existsSync('/etc/berth-evil'), false);
    },
  },
  {
    name: 'absolute symlink to the real outside dir, then a write through it',
    entries: (o) => [{ name: 'host', type: 'symlink', linkname: o }, { name: 'host/evil' }],
    expect: (t, o) => isFileIn(`${o}/evil`)(t),
  },
  {
    name: 'absolute symlink /.. then a write through it',
    entries: () => [{ name: 'etc', type: 'symlink', linkname: '/..' }, { name: 'etc/evil' }],
    expect: isFileIn('evil'),
  },
  {
    name: 'relative symlink ../../.. then a write through it',
    entries: () => [{ name: 'up', type: 'symlink', linkname: '../../../..' }, { name: 'up/evil' }],
    expect: isFileIn('evil'),
  },
  {
    name: 'symlink to ../outside then a nested write',
    entries: () => [{ name: 'd', type: 'symlink', linkname: '../outside' }, { name: 'd/sub/evil' }],
    expect: isFileIn('outside/sub/evil'),
  },
  { name: 'hardlink to /etc/passwd (not in the layer)', entries: () => [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }], expect: 'DATA_CORRUPT' },
  {
    name: "hardlink to /etc/passwd links the layer's own",
    entries: () => [
      { name: 'etc/passwd', body: 'root:x:0:0' },
      { name: 'pw', type: 'link', linkname: '/etc/passwd' },
    ],
    expect: (t) => {
      assert.equal(lstatSync(join(t, 'pw')).ino, lstatSync(join(t, 'etc/passwd')).ino);
      assert.notEqual(lstatSync(join(t, 'pw')).ino, lstatSync('/etc/passwd').ino);
    },
  },
  { name: 'hardlink with .. to outside', entries: () => [{ name: 'pw', type: 'link', linkname: '../outside/sentinel' }], expect: 'UNSAFE_PATH' },
  {
    name: 'hardlink through an escaping symlink',
    entries: () => [
      { name: 'l', type: 'symlink', linkname: '../outside' },
      { name: 'h', type: 'link', linkname: 'l/sentinel' },
    ],
    expect: 'DATA_CORRUPT',
  },
  {
    name: 'hardlink created through an absolute symlinked parent',
    entries: (o) => [
      { name: 'keep', body: 'k' },
      { name: 'l', type: 'symlink', linkname: o },
      { name: 'l/h', type: 'link', linkname: 'keep' },
    ],
    expect: (t, o) => isFileIn(`${o}/h`)(t),
  },
  { name: '.. in a whiteout path', entries: () => [{ name: '../.wh.sentinel' }], expect: 'UNSAFE_PATH' },
  { name: 'whiteout of ..', entries: () => [{ name: 'a/.wh...' }], expect: 'UNSAFE_PATH' },
  { name: 'whiteout of .', entries: () => [{ name: '.wh..' }], expect: 'UNSAFE_PATH' },
  {
    name: 'whiteout through a symlinked parent',
    entries: () => [{ name: 'p', type: 'symlink', linkname: '../outside' }, { name: 'p/.wh.sentinel' }],
    expect: () => undefined,
  },
  {
    name: 'whiteout through an absolute symlinked parent',
    entries: (o) => [{ name: 'p', type: 'symlink', linkname: o }, { name: 'p/.wh.sentinel' }, { name: 'p/.wh..wh..opq' }],
    expect: () => undefined,
  },
  { name: 'device node named outside', entries: () => [{ name: '../devnull', type: 'character-device', devmajor: 1, devminor: 3 }], expect: 'UNSAFE_PATH' },
  {
    name: 'device node through a symlinked parent',
    entries: (o) => [
      { name: 's', type: 'symlink', linkname: o },
      { name: 's/null', type: 'character-device', devmajor: 1, devminor: 3 },
    ],
    expect: (t, o) => assert.ok(lstatSync(join(t, o, 'null')).isCharacterDevice()),
  },
  { name: 'fifo outside', entries: () => [{ name: 'x/../../fifo', type: 'fifo' }], expect: 'UNSAFE_PATH' },
  {
    name: 'symlink replaced by a dir, then written',
    entries: () => [{ name: 's', type: 'symlink', linkname: '/' }, { name: 's', type: 'directory' }, { name: 's/ok' }],
    expect: (t) => {
      assert.ok(lstatSync(join(t, 's')).isDirectory());
      isFileIn('s/ok')(t);
    },
  },
  {
    name: 'dir replaced by an escaping symlink, then written',
    entries: (o) => [{ name: 'd/', type: 'directory' }, { name: 'd/a' }, { name: 'd', type: 'symlink', linkname: o }, { name: 'd/x' }],
    expect: (t, o) => isFileIn(`${o}/x`)(t),
  },
  {
    name: 'deferred work (whiteout, opaque mark, dir mtime, xattr) under a dir later swapped for a symlink',
    entries: (o) => [
      { name: 'd/', type: 'directory' },
      { name: 'd/sub/', type: 'directory' },
      { name: 'd/.wh.sentinel' },
      { name: 'd/.wh..wh..opq' },
      { name: 'd/f', pax: { 'SCHILY.xattr.user.evil': 'x' } },
      { name: 'd', type: 'symlink', linkname: o },
    ],
    expect: (t) => assert.ok(lstatSync(join(t, 'd')).isSymbolicLink()),
  },
  {
    name: 'xattr on a file later replaced by a symlink to the sentinel',
    entries: (o) => [
      { name: 'f', pax: { 'SCHILY.xattr.user.evil': 'x' } },
      { name: 'f', type: 'symlink', linkname: `${o}/sentinel` },
    ],
    expect: () => undefined,
  },
  {
    name: 'forged overlayfs xattrs are dropped',
    entries: () => [{ name: 'r/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc', 'SCHILY.xattr.trusted.overlay.opaque': 'y' } }],
    expect: (t) => {
      assert.equal(execFileSync('getfattr', ['-d', '-m', 'trusted', '--absolute-names', join(t, 'r')]).toString(), '');
    },
  },
  { name: 'long PAX path with ..', entries: () => [{ name: `${'a'.repeat(120)}/../../../${'b'.repeat(120)}/evil` }], expect: 'UNSAFE_PATH' },
  { name: 'symlink loop', entries: () => [{ name: 'loop', type: 'symlink', linkname: '/loop' }, { name: 'loop/x' }], expect: 'UNSAFE_PATH' },
];

describe('applyLayer never writes outside its target', () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      for (const mode of ['apply', 'overlay'] as const) {
        const box = join(sandbox, `case${i}-${mode}`);
        const outside = join(box, 'outside');
        const target = join(box, 'root', 'target');
        mkdirSync(outside, { recursive: true });
        mkdirSync(target, { recursive: true });
        writeFileSync(join(outside, 'sentinel'), 'keep');
        const before = treeListing(box, target);
        let error: unknown;
        await applyLayer(tarOf(c.entries(outside)), target, { whiteouts: mode }).catch((e: unknown) => (error = e));
        assert.equal(treeListing(box, target), before, `${mode}: something outside the target changed`);
        assert.equal(readFileSync(join(outside, 'sentinel'), 'utf8'), 'keep');
        assert.equal(execFileSync('getfattr', ['-d', '--absolute-names', join(outside, 'sentinel')]).toString(), '');
        assert.equal(existsSync(join(box, 'evil')) || existsSync(join(box, 'root', 'evil')) || existsSync('/evil'), false);
        if (typeof c.expect === 'string') {
          assert.equal((error as { code?: string } | undefined)?.code, c.expect, `${mode}: expected ${c.expect}, got ${String(error)}`);
        } else {
          assert.equal(error, undefined, `${mode}: ${String(error)}`);
          c.expect(target, outside);
        }
      }
    });
  }
  it(`covers at least 12 hostile cases (${cases.length})`, () => assert.ok(cases.length >= 12));
});
