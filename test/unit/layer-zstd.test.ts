/** zstd through the zstd program: round trip through decompressAuto, and clear errors. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { decompressAuto, zstdCompress } from '../../src/layer/index.ts';

const roundTrip = async (data: Buffer) => buffer(Readable.from([await buffer(Readable.from([data]).pipe(zstdCompress()))]).pipe(decompressAuto()));

describe('zstd', () => {
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['text', Buffer.from('hello layer\n'.repeat(1000))],
    ['random 3 MB', randomBytes(3 << 20)],
  ];
  for (const [name, data] of cases) {
    it(`round trip: ${name}`, async () => assert.deepEqual(await roundTrip(data), data));
  }

  it('compressed data starts with the zstd magic and is smaller for text', async () => {
    const z = await buffer(Readable.from([Buffer.from('a'.repeat(100000))]).pipe(zstdCompress()));
    assert.deepEqual([...z.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.ok(z.length < 1000);
  });

  it('a corrupt stream is DATA_CORRUPT, not garbage', async () => {
    const z = await buffer(Readable.from([randomBytes(100000)]).pipe(zstdCompress()));
    z.fill(0x55, 20, 200);
    await assert.rejects(buffer(Readable.from([z]).pipe(decompressAuto())), (e: unknown) => isBerthError(e, 'DATA_CORRUPT'));
  });
});
