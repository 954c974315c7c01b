/**
 * writeLayer → applyLayer round trips on a real file system: the extracted tree equals the
 * source (type, mode, ids, size, content, link targets, hardlinks, xattrs), the tar is
 * deterministic, and sourceDateEpoch clamps mtimes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { applyLayer, compress, hashingStream, readTar, writeLayer } from '../../src/layer/index.ts';
import type { WriteOptions } from '../../src/layer/index.ts';

const work = mkdtempSync(join(tmpdir(), 'berth-layer-rt-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Everything the round trip must keep, per path; hardlinked paths share a link group. */
function snapshot(root: string, withMtime = false): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = lstatSync(p);
      const kind = st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isFile()
            ? 'file'
            : st.isFIFO()
              ? 'fifo'
              : st.isCharacterDevice()
                ? 'chr'
                : st.isBlockDevice()
                  ? 'blk'
                  : 'other';
      let detail = '';
      if (st.isFile()) {
        detail = `${st.size}:${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`;
        if (st.nlink > 1) {
          if (!inodes.has(st.ino)) inodes.set(st.ino, r);
          detail += ` link-group=${inodes.get(st.ino)}`;
        }
      } else if (st.isSymbolicLink()) detail = `-> ${readlinkSync(p)}`;
      else if (st.isCharacterDevice() || st.isBlockDevice()) detail = `rdev=${st.rdev}`;
      const mode = st.isSymbolicLink() ? '' : (st.mode & 0o7777).toString(8);
      out[r] = `${kind} ${mode} ${st.uid}:${st.gid} ${detail}${withMtime && !st.isSymbolicLink() ? ` mtime=${Math.floor(st.mtimeMs / 1000)}` : ''}`;
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

async function tarDigest(dir: string, opts: WriteOptions): Promise<{ digest: string; bytes: Buffer }> {
  const h = hashingStream();
  const chunks: Buffer[] = [];
  await pipeline(writeLayer(dir, opts), h.stream, async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) chunks.push(c);
  });
  return { digest: h.digest(), bytes: Buffer.concat(chunks) };
}

const src = join(work, 'src');
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+ep, v2

before(() => {
  mkdirSync(join(src, 'etc/deep/er/still'), { recursive: true });
  mkdirSync(join(src, 'empty'));
  mkdirSync(join(src, 'tmp'));
  chmodSync(join(src, 'tmp'), 0o1777);
  writeFileSync(join(src, 'etc/hostname'), 'box\n');
  writeFileSync(join(src, 'etc/deep/er/still/file'), Buffer.alloc(3 << 20, 7)); // read in several chunks
  writeFileSync(join(src, 'zero'), '');
  writeFileSync(join(src, 'suid'), '#!/bin/sh\n');
  chmodSync(join(src, 'suid'), 0o4755);
  writeFileSync(join(src, 'sgid'), 'x');
  chmodSync(join(src, 'sgid'), 0o2711);
  // A file of the extracting user in a setgid dir: the dir would hand it its own gid, so the
  // applier must chown it even though the ids are its own. A 0666 file: the umask would drop bits.
  mkdirSync(join(src, 'shared'));
  chownSync(join(src, 'shared'), 0, 5678);
  chmodSync(join(src, 'shared'), 0o2775);
  writeFileSync(join(src, 'shared', 'mine'), 'g');
  chownSync(join(src, 'shared', 'mine'), process.geteuid!(), process.getegid!());
  writeFileSync(join(src, 'open'), 'w');
  chmodSync(join(src, 'open'), 0o666);
  writeFileSync(join(src, 'owned'), 'y');
  chownSync(join(src, 'owned'), 1234, 5678);
  writeFileSync(join(src, 'big-ids'), 'z');
  chownSync(join(src, 'big-ids'), 3000000, 3000001); // beyond USTAR's 7 octal digits: PAX
  writeFileSync(join(src, 'hard-a'), 'shared');
  linkSync(join(src, 'hard-a'), join(src, 'etc/hard-b'));
  symlinkSync('/etc/hostname', join(src, 'abs-link'));
  symlinkSync('../zero', join(src, 'etc/rel-link'));
  symlinkSync('dangling/target', join(src, 'dangling'));
  lchownSync(join(src, 'dangling'), 42, 43);
  execFileSync('mkfifo', ['-m', '0640', join(src, 'fifo')]);
  execFileSync('mknod', ['-m', '0666', join(src, 'null'), 'c', '1', '3']);
  const long = join(src, `${'long-dir-name-'.repeat(8)}`, `${'n'.repeat(120)}.txt`);
  mkdirSync(join(long, '..'), { recursive: true });
  writeFileSync(long, 'long name');
  writeFileSync(join(src, 'ünïcødé'), 'utf8 name');
  symlinkSync('x'.repeat(150), join(src, 'long-link'));
  writeFileSync(join(src, 'ping'), 'binary');
  execFileSync('setfattr', ['-n', 'security.capability', '-v', `0x${CAP.toString('hex')}`, join(src, 'ping')]);
  utimesSync(join(src, 'etc/hostname'), 1_000_000_000, 1_000_000_000);
  utimesSync(join(src, 'zero'), 2_000_000_000, 2_000_000_000);
});

describe('writeLayer → applyLayer', () => {
  it('reproduces the tree', async () => {
    const dest = join(work, 'dest-plain');
    const r = await applyLayer(writeLayer(src, { mode: 'plain' }), dest, { whiteouts: 'apply' });
    assert.deepEqual(snapshot(dest, true), snapshot(src, true));
    assert.match(r.diffId, /^sha256:[0-9a-f]{64}$/);
    assert.equal(r.size % 512, 0);
  });

  it('reproduces the tree from a gzip stream, with the same diffID as the plain tar', async () => {
    const plain = await tarDigest(src, { mode: 'plain' });
    const dest = join(work, 'dest-gzip');
    const r = await applyLayer(writeLayer(src, { mode: 'plain' }).pipe(compress('gzip')), dest, { whiteouts: 'overlay' });
    assert.deepEqual(snapshot(dest), snapshot(src));
    assert.equal(r.diffId, plain.digest);
    assert.equal(r.size, plain.bytes.length);
  });

  it('carries security.capability through PAX, byte for byte', async () => {
    const dest = join(work, 'dest-cap');
    await applyLayer(writeLayer(src, { mode: 'plain' }), dest, { whiteouts: 'apply' });
    const out = execFileSync('getfattr', ['-e', 'hex', '-n', 'security.capability', '--absolute-names', join(dest, 'ping')]).toString();
    assert.match(out, new RegExp(`security.capability=0x${CAP.toString('hex')}`));
  });

  it('gives the same bytes every time', async () => {
    const a = await tarDigest(src, { mode: 'plain' });
    const b = await tarDigest(src, { mode: 'plain' });
    assert.equal(a.digest, b.digest);
    assert.ok(a.bytes.length > 3 << 20);
  });

  it('writes entries in bytewise order, parents first, with numeric ids and no names', async () => {
    const { bytes } = await tarDigest(src, { mode: 'plain' });
    const names: string[] = [];
    for await (const e of readTar(Readable.from([bytes]))) names.push(e.header.name.replace(/\/$/, ''));
    const depthFirst = [...names].sort((a, b) => Buffer.compare(Buffer.from(a.replaceAll('/', '\0')), Buffer.from(b.replaceAll('/', '\0'))));
    assert.deepEqual(names, depthFirst);
    assert.ok(names.indexOf('etc') < names.indexOf('etc/hostname'));
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', '-'], { input: bytes }).toString();
    assert.match(listing, /1234\/5678 .* owned/);
    assert.match(listing, /3000000\/3000001 .* big-ids/);
    assert.match(listing, /etc\/hard-b link to hard-a|hard-a link to etc\/hard-b/);
    // USTAR user/group name fields (bytes 265..328 of each header) are empty
    assert.ok(bytes.subarray(265, 329).every((b) => b === 0));
  });

  it('uses PAX only when a field does not fit', async () => {
    const only = join(work, 'short-only');
    mkdirSync(join(only, 'd'), { recursive: true });
    writeFileSync(join(only, 'd/f'), 'x');
    const { bytes } = await tarDigest(only, { mode: 'plain' });
    assert.equal(bytes.indexOf('PaxHeaders'), -1);
    const full = await tarDigest(src, { mode: 'plain' });
    assert.notEqual(full.bytes.indexOf('PaxHeaders'), -1);
  });

  it('clamps mtimes to sourceDateEpoch and leaves older ones', async () => {
    const { bytes } = await tarDigest(src, { mode: 'plain', sourceDateEpoch: 1_500_000_000 });
    const mtimes = new Map<string, number>();
    for await (const e of readTar(Readable.from([bytes]))) mtimes.set(e.header.name, e.header.mtime);
    assert.equal(mtimes.get('etc/hostname'), 1_000_000_000);
    assert.equal(mtimes.get('zero'), 1_500_000_000);
    assert.ok([...mtimes.values()].every((t) => t <= 1_500_000_000));
    const again = await tarDigest(src, { mode: 'plain', sourceDateEpoch: 1_500_000_000 });
    utimesSync(join(src, 'owned'), new Date(), new Date()); // touching a file changes nothing once clamped
    const touched = await tarDigest(src, { mode: 'plain', sourceDateEpoch: 1_500_000_000 });
    assert.equal(again.digest, touched.digest);
  });

  it('leaves out excluded paths and everything under an excluded dir', async () => {
    const { bytes } = await tarDigest(src, { mode: 'plain', exclude: (p) => p === 'etc' || p === 'zero' });
    const names: string[] = [];
    for await (const e of readTar(Readable.from([bytes]))) names.push(e.header.name);
    assert.ok(names.length > 5);
    assert.ok(
      names.every((n) => !n.startsWith('etc') && n !== 'zero'),
      names.join(','),
    );
  });

  it('replaces like Docker: a file over a dir, a dir over a file, a dir over a dir merges', async () => {
    const dest = join(work, 'dest-replace');
    mkdirSync(join(dest, 'etc/old'), { recursive: true });
    writeFileSync(join(dest, 'etc/old/keep'), 'lower');
    mkdirSync(join(dest, 'zero/sub'), { recursive: true }); // a dir where the layer has a file
    writeFileSync(join(dest, 'empty'), 'a file where the layer has a dir');
    symlinkSync('/nowhere', join(dest, 'suid'));
    await applyLayer(writeLayer(src, { mode: 'plain' }), dest, { whiteouts: 'apply' });
    assert.equal(readFileSync(join(dest, 'etc/old/keep'), 'utf8'), 'lower');
    assert.ok(lstatSync(join(dest, 'zero')).isFile());
    assert.ok(lstatSync(join(dest, 'empty')).isDirectory());
    assert.equal(lstatSync(join(dest, 'suid')).mode & 0o7777, 0o4755);
    const { 'etc/old': _d, 'etc/old/keep': _f, ...rest } = snapshot(dest);
    assert.deepEqual(rest, snapshot(src));
  });

  it('stops with CANCELLED when aborted', async () => {
    const ac = new AbortController();
    const out = writeLayer(src, { mode: 'plain', signal: ac.signal });
    out.once('data', () => ac.abort());
    await assert.rejects(
      pipeline(out, async (s: AsyncIterable<Buffer>) => {
        for await (const _ of s) void _;
      }),
      { code: 'CANCELLED' },
    );
  });

  it('refuses an upperdir whose content lives elsewhere (overlay redirect/metacopy)', async () => {
    const upper = join(work, 'redirected-upper');
    mkdirSync(join(upper, 'moved'), { recursive: true });
    execFileSync('setfattr', ['-n', 'trusted.overlay.redirect', '-v', '/orig', join(upper, 'moved')]);
    await assert.rejects(tarDigest(upper, { mode: 'overlay-upper' }), { code: 'UNSUPPORTED' });
  });
});
