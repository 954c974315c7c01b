/**
 * The content store's one check (store/verifier.ts), and the one place formats are sniffed by
 * their magic numbers (layer/magic.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { isGzip, isTarArchive, isUstar, isZstd } from '../../src/layer/magic.ts';
import type { Digest } from '../../src/oci/digest.ts';
import { sha256 } from '../../src/sys/crypto.ts';
import { BlobVerifier, digestOfFile, verifyBytes } from '../../src/store/verifier.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-verifier-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const data = Buffer.from('hello world');
const good = sha256(data);
const other = sha256('other');

describe('BlobVerifier', () => {
  const cases: Array<{ name: string; chunks: string[]; expected?: Digest; size?: number; want: RegExp | Digest }> = [
    { name: 'bytes that match digest and size', chunks: ['hello ', 'world'], expected: good, size: 11, want: good },
    { name: 'no promise at all: the digest of what came', chunks: ['hello world'], want: good },
    { name: 'only a size, met', chunks: ['hello', ' world'], size: 11, want: good },
    {
      name: 'a digest that does not match',
      chunks: ['hello world'],
      expected: other,
      want: /^digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}$/,
    },
    { name: 'fewer bytes than promised', chunks: ['hello'], expected: good, size: 11, want: /^blob sha256:[0-9a-f]{64}: expected 11 bytes, got 5$/ },
    {
      name: 'more bytes than promised, cut off at once',
      chunks: ['hello world', '!'],
      expected: good,
      size: 11,
      want: /^blob sha256:[0-9a-f]{64} is larger than its 11 bytes$/,
    },
    { name: 'more bytes than a size-only promise', chunks: ['hello world!'], size: 11, want: /^the blob is larger than its 11 bytes$/ },
    { name: 'nothing where something was promised', chunks: [], size: 11, want: /expected 11 bytes, got 0$/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const run = () => {
        const v = new BlobVerifier(c.expected, c.size);
        for (const chunk of c.chunks) v.update(Buffer.from(chunk));
        return v.verify();
      };
      if (typeof c.want === 'string') assert.equal(run(), c.want);
      else assert.throws(run, (e) => isBerthError(e, 'DATA_CORRUPT') && (c.want as RegExp).test(e.message) && e.hint !== undefined);
    });
  }

  it('verify() takes a promise made late (a writer told at commit)', () => {
    const v = new BlobVerifier();
    v.update(data);
    assert.throws(
      () => v.verify(other),
      (e) => isBerthError(e, 'DATA_CORRUPT'),
    );
  });

  it('counts what it saw', () => {
    const v = new BlobVerifier();
    v.update(Buffer.alloc(3));
    v.update(Buffer.alloc(4));
    assert.equal(v.size, 7);
  });

  it('verifyBytes checks bytes in memory the same way', () => {
    assert.equal(verifyBytes(data, good, 11), good);
    assert.throws(
      () => verifyBytes(data, good, 12),
      (e) => isBerthError(e, 'DATA_CORRUPT') && /expected 12 bytes, got 11/.test(e.message),
    );
    assert.throws(
      () => verifyBytes(data, good, 5),
      (e) => isBerthError(e, 'DATA_CORRUPT') && /expected 5 bytes, got 11/.test(e.message),
    );
    assert.throws(
      () => verifyBytes(data, other),
      (e) => isBerthError(e, 'DATA_CORRUPT'),
    );
  });

  it('digestOfFile rehashes a file, and says undefined when there is none', async () => {
    const p = join(dir, 'blob');
    writeFileSync(p, data);
    assert.equal(await digestOfFile(p), good);
    assert.equal(await digestOfFile(join(dir, 'missing')), undefined);
  });
});

describe('magic numbers', () => {
  const tarHead = Buffer.alloc(512);
  tarHead.write('ustar', 257, 'latin1');
  const cases: Array<[string, Buffer, { gzip: boolean; zstd: boolean; ustar: boolean }]> = [
    ['a gzip stream', gzipSync('x'), { gzip: true, zstd: false, ustar: false }],
    ['a zstd frame', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]), { gzip: false, zstd: true, ustar: false }],
    ['a ustar header', tarHead, { gzip: false, zstd: false, ustar: true }],
    ['one byte of gzip magic', Buffer.from([0x1f]), { gzip: false, zstd: false, ustar: false }],
    ['nothing', Buffer.alloc(0), { gzip: false, zstd: false, ustar: false }],
    ['text', Buffer.from('FROM busybox\n'), { gzip: false, zstd: false, ustar: false }],
    ['a header cut before "ustar" ends', tarHead.subarray(0, 260), { gzip: false, zstd: false, ustar: false }],
  ];
  for (const [name, head, want] of cases) {
    it(name, () => {
      assert.deepEqual({ gzip: isGzip(head), zstd: isZstd(head), ustar: isUstar(head) }, want);
      // A tar archive as build - and ADD take one: gzipped or plain, never zstd.
      assert.equal(isTarArchive(head), want.gzip || want.ustar);
    });
  }

  it('reads a view at its own offset', () => {
    const big = Buffer.concat([Buffer.alloc(7), tarHead]);
    assert.equal(isUstar(big.subarray(7)), true);
    assert.equal(isGzip(Buffer.concat([Buffer.alloc(3), gzipSync('x')]).subarray(3)), true);
  });
});
