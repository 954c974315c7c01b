import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { sha256 } from '../../src/sys/crypto.ts';
import { LocalContentStore } from '../../src/store/content.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-content-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalContentStore', async () => {
  const store = await new LocalContentStore(dir).init();

  it('stores a blob under its digest and reads it back', async () => {
    const info = await store.put(Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    assert.equal(info.digest, sha256('hello world'));
    assert.equal(info.size, 11);
    assert.equal((await store.readBytes(info.digest)).toString(), 'hello world');
    assert.equal(await store.verify(info.digest), true);
  });

  it('refuses a blob whose bytes do not match the expected digest, and keeps nothing', async () => {
    const expected = sha256('other');
    await assert.rejects(store.put(Buffer.from('not other'), { expected }), (e) => isBerthError(e, 'DATA_CORRUPT'));
    assert.equal(await store.has(expected), false);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
  });

  it('refuses a truncated blob by size', async () => {
    const data = Buffer.from('0123456789');
    await assert.rejects(store.put(data.subarray(0, 5), { expected: sha256(data), expectedSize: 10 }), (e) => isBerthError(e, 'DATA_CORRUPT'));
    assert.equal(await store.has(sha256(data)), false);
  });

  it('refuses a blob larger than promised while streaming', async () => {
    await assert.rejects(store.put(Buffer.alloc(100), { expectedSize: 10 }), (e) => isBerthError(e, 'DATA_CORRUPT'));
  });

  it('reports NOT_FOUND for a missing blob', async () => {
    await assert.rejects(store.open(sha256('missing')), (e) => isBerthError(e, 'NOT_FOUND'));
  });

  it('detects a blob damaged on disk', async () => {
    const info = await store.put(Buffer.from('intact'));
    writeFileSync(store.pathOf(info.digest), 'damaged');
    assert.equal(await store.verify(info.digest), false);
  });

  it('lets two writers ingest the same blob at once', async () => {
    const data = Buffer.alloc(1 << 20, 7);
    const [a, b] = await Promise.all([store.put(data), store.put(data)]);
    assert.equal(a.digest, b.digest);
    assert.equal(await store.verify(a.digest), true);
  });
});
