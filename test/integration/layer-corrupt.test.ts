/**
 * Broken inputs end promptly with a clear error code, never a hang: corrupt or truncated
 * gzip, truncated tars, garbage, a failing source, broken zstd, and cancellation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { applyLayer } from '../../src/layer/index.ts';

const work = mkdtempSync(join(tmpdir(), 'berth-layer-bad-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function sampleTar(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'a/', type: 'directory' });
  pack.entry({ name: 'a/big' }, Buffer.alloc(200_000, 'q'));
  pack.entry({ name: 'a/small' }, 'hello');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const within = <T>(ms: number, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms (hang)`)), ms).unref())]);

let n = 0;
const apply = (input: Readable, signal?: AbortSignal) => applyLayer(input, join(work, `t${n++}`), { whiteouts: 'apply', signal });

describe('applyLayer on broken input', async () => {
  const good = await sampleTar();
  const gz = gzipSync(good);
  const flipped = Buffer.from(gz);
  for (let i = 40; i < 60; i++) flipped[i] ^= 0xff;
  const badSum = Buffer.from(good);
  badSum[0] = 'b'.charCodeAt(0);

  const cases: Array<{ name: string; input: () => Readable; code: string; message?: RegExp }> = [
    { name: 'corrupt gzip', input: () => Readable.from([flipped]), code: 'DATA_CORRUPT', message: /decompress/ },
    { name: 'truncated gzip', input: () => Readable.from([gz.subarray(0, gz.length - 100)]), code: 'DATA_CORRUPT' },
    {
      name: 'tar truncated mid-body',
      input: () => Readable.from([good.subarray(0, 512 * 3 + 1000)]),
      code: 'DATA_CORRUPT',
      message: /ends in the middle of the entry "a\/big"/,
    },
    { name: 'tar truncated mid-header', input: () => Readable.from([good.subarray(0, 700)]), code: 'DATA_CORRUPT', message: /middle of a header/ },
    { name: 'gzip of a truncated tar', input: () => Readable.from([gzipSync(good.subarray(0, 5000))]), code: 'DATA_CORRUPT' },
    { name: 'garbage', input: () => Readable.from([Buffer.alloc(4096, 'garbage!')]), code: 'DATA_CORRUPT', message: /checksum/ },
    { name: 'bad header checksum', input: () => Readable.from([badSum]), code: 'DATA_CORRUPT', message: /checksum/ },
    { name: 'broken zstd', input: () => Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])]), code: 'DATA_CORRUPT', message: /zstd/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.code}`, async () => {
      const err = await within(
        5000,
        apply(c.input()).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      assert.equal((err as { code?: string } | undefined)?.code, c.code, String(err));
      if (c.message) assert.match((err as Error).message, c.message);
    });
  }

  it('a source that fails midway rejects with its error', async () => {
    const src = new Readable({ read() {} });
    src.push(good.subarray(0, 2048));
    setTimeout(() => src.destroy(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' })), 20);
    const err = await within(
      5000,
      apply(src).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    assert.match(String((err as Error | undefined)?.message), /connection reset/);
  });

  it('an abort stops a stalled extraction with CANCELLED', async () => {
    const src = new Readable({ read() {} });
    src.push(good.subarray(0, 2048)); // then nothing more, ever
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const err = await within(
      5000,
      apply(src, ac.signal).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    assert.equal((err as { code?: string } | undefined)?.code, 'CANCELLED');
  });

  it('the intact tar applies (the cases above fail for their damage only)', async () => {
    const r = await within(5000, apply(Readable.from([gz])));
    assert.equal(r.size, good.length);
  });
});
