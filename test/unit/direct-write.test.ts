/** O_DIRECT part writes (store/direct-write.ts) on the disk the store lives on. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DirectWriter } from '../../src/layer/direct-write.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-direct-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('DirectWriter', () => {
  it('writes parts of any length at aligned offsets, the unaligned rest included, byte for byte', async () => {
    const file = join(dir, 'blob');
    const part = 1 << 20;
    const size = part * 3 + 10_000;
    writeFileSync(file, '');
    const fh = await open(file, 'r+');
    await fh.truncate(size);
    const direct = await DirectWriter.open(file);
    assert.ok(direct, 'the test dir is on a file system with O_DIRECT');
    const want = Buffer.alloc(size);
    // Whole parts out of order and a short last one make up the file; then a part of one
    // block and a few bytes, and one of less than a block, are written over its start.
    const writes: Array<[number, number]> = [
      [0, part],
      [2 * part, part],
      [part, part],
      [3 * part, 10_000],
      [0, 4096 + 7],
      [4096, 100],
    ];
    for (const [pos, len] of writes) {
      const buf = direct.buffer(len);
      assert.equal(buf.length, len);
      randomBytes(len).copy(buf);
      buf.copy(want, pos);
      await direct.write(buf, pos, fh);
    }
    await direct.close();
    await fh.close();
    assert.ok(readFileSync(file).equals(want));
    assert.deepEqual(readdirSync(dir), ['blob'], 'the scratch file is gone');
  });
});
