/**
 * Codecs: sniffing decompression, gzip, the parallel gzip (ordered, multi-member, readable
 * by any gunzip) and the hashing pass-through.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { compress, decompressAuto, gzipParallel, hashingStream } from '../../src/layer/index.ts';

async function through(input: Buffer | Buffer[], t: Transform | NodeJS.ReadWriteStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from(Array.isArray(input) ? input : [input]), t, async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) chunks.push(c);
  });
  return Buffer.concat(chunks);
}

/** Compressible but not trivial: text lines mixed with random runs. */
function sample(size: number): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const p = i % 3 === 0 ? randomBytes(512) : Buffer.from(`line ${i} of the sample layer content\n`.repeat(20));
    parts.push(p);
    n += p.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}

/** Splits input into odd-sized chunks, as a network would. */
function ragged(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < b.length; i++) {
    const len = [1, 7, 4096, 65_537, 300_001][i % 5]!;
    out.push(b.subarray(off, off + len));
    off += len;
  }
  return out;
}

describe('gzipParallel', () => {
  const input = sample(5 * (1 << 20) + 12_345);

  it('gunzips back to the input, through standard gunzip too', async () => {
    const gz = await through(ragged(input), gzipParallel({ chunkSize: 1 << 20, workers: 3 }));
    assert.ok(gunzipSync(gz).equals(input));
    assert.ok(execFileSync('gunzip', ['-c'], { input: gz, maxBuffer: 64 << 20 }).equals(input));
  });

  it('emits one gzip member per chunk, in input order', async () => {
    const chunkSize = 1 << 20;
    const gz = await through(ragged(input), gzipParallel({ chunkSize, level: 6, workers: 4 }));
    const members: Buffer[] = [];
    for (let off = 0; off < input.length; off += chunkSize) members.push(gzipSync(input.subarray(off, off + chunkSize), { level: 6 }));
    assert.equal(members.length, 6);
    assert.ok(gz.equals(Buffer.concat(members)), 'the output is the members concatenated in order');
  });

  it('handles empty input and input smaller than a chunk', async () => {
    assert.equal(gunzipSync(await through(Buffer.alloc(0), gzipParallel())).length, 0);
    assert.equal(gunzipSync(await through(Buffer.from('tiny'), gzipParallel())).toString(), 'tiny');
  });
});

describe('decompressAuto', () => {
  const plain = sample(3 << 20);
  const cases: Array<{ name: string; input: Buffer; want: Buffer }> = [
    { name: 'plain bytes pass through', input: plain, want: plain },
    { name: 'gzip is inflated', input: gzipSync(plain), want: plain },
    { name: 'multi-member gzip is inflated whole', input: Buffer.concat([gzipSync(plain.subarray(0, 1000)), gzipSync(plain.subarray(1000))]), want: plain },
    { name: 'fewer than 4 bytes pass through', input: Buffer.from('ab'), want: Buffer.from('ab') },
    { name: 'empty input gives nothing', input: Buffer.alloc(0), want: Buffer.alloc(0) },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      assert.ok((await through(ragged(c.input), decompressAuto())).equals(c.want));
    });
  }

  it('reports a broken zstd frame as DATA_CORRUPT (zstd itself round-trips: layer-zstd.test.ts)', async () => {
    await assert.rejects(through(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]), decompressAuto()), { code: 'DATA_CORRUPT', message: /zstd/ });
  });

  it('reports corrupt gzip as DATA_CORRUPT', async () => {
    const gz = gzipSync(plain);
    gz.fill(0x55, 100, 200);
    await assert.rejects(through(gz, decompressAuto()), { code: 'DATA_CORRUPT' });
  });

  it('keeps backpressure: a slow reader bounds what is buffered', async () => {
    const gz = gzipSync(Buffer.alloc(64 << 20)); // inflates 64 MiB from ~64 KiB
    const t = decompressAuto();
    Readable.from([gz]).pipe(t);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(t.readableLength < 8 << 20, `buffered ${t.readableLength} bytes without a reader`);
    let total = 0;
    for await (const c of t) total += (c as Buffer).length;
    assert.equal(total, 64 << 20);
  });
});

describe('compress', () => {
  it("'gzip' round trips and 'none' passes through", async () => {
    const data = sample(100_000);
    assert.ok(gunzipSync(await through(data, compress('gzip', { level: 9 }))).equals(data));
    assert.ok((await through(data, compress('none'))).equals(data));
  });
});

describe('hashingStream', () => {
  it('hashes and counts what passes, unchanged', async () => {
    const data = sample(1_000_003);
    const h = hashingStream();
    const out = await through(ragged(data), h.stream);
    assert.ok(out.equals(data));
    assert.equal(h.size(), data.length);
    assert.equal(h.digest(), `sha256:${createHash('sha256').update(data).digest('hex')}`);
  });
});
