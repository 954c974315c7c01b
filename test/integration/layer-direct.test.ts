/**
 * A layer's biggest files (32 MB and up, model weights) are written past the page cache
 * (layer/apply.ts, layer/direct-write.ts): the bytes, mode, owner and mtime must be exactly
 * the tar's, and the scratch file that finds an aligned buffer must not be left in the tree.
 * Whether they really went past the cache is speed, not behaviour: bench/page-cache.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { applyLayer } from '../../src/layer/index.ts';

const sandbox = mkdtempSync(join(tmpdir(), 'berth-direct-layer-'));
after(() => rmSync(sandbox, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('big files of a layer, written past the page cache', () => {
  // 37 MB and an odd tail: nine whole 4 MB stages, then a last partial one.
  const weights = randomBytes((37 << 20) + 12_345);
  const exact = randomBytes(32 << 20); // exactly eight stages: no partial one
  const small = randomBytes(5 << 20); // below the threshold: through the page cache

  function layer(): Readable {
    const pack = tar.pack();
    const mtime = new Date(1_600_000_000_000);
    pack.entry({ name: 'models/', type: 'directory', mode: 0o755, mtime });
    pack.entry({ name: 'models/weights.bin', mode: 0o640, uid: 1234, gid: 5678, mtime }, weights);
    pack.entry({ name: 'models/exact.bin', mode: 0o600, mtime }, exact);
    pack.entry({ name: 'models/small.bin', mode: 0o644, mtime }, small);
    pack.finalize();
    return Readable.from(pack as AsyncIterable<Buffer>);
  }

  it('are written byte for byte with their metadata, leaving no scratch file', async () => {
    const target = join(sandbox, 'a');
    await applyLayer(layer(), target, { whiteouts: 'overlay' });
    const dir = join(target, 'models');
    assert.deepEqual(readdirSync(dir).sort(), ['exact.bin', 'small.bin', 'weights.bin']);
    const w = join(dir, 'weights.bin');
    const st = lstatSync(w);
    assert.equal(st.size, weights.length);
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 5678);
    assert.equal(Math.floor(st.mtimeMs), 1_600_000_000_000);
    assert.equal(sha(readFileSync(w)), sha(weights));
    assert.equal(sha(readFileSync(join(dir, 'exact.bin'))), sha(exact));
    assert.equal(lstatSync(join(dir, 'exact.bin')).mode & 0o7777, 0o600);
    assert.equal(sha(readFileSync(join(dir, 'small.bin'))), sha(small));
  });

  it('give the same diffID as the tar they came from', async () => {
    const chunks: Buffer[] = [];
    for await (const c of layer()) chunks.push(c as Buffer);
    const got = await applyLayer(Readable.from([Buffer.concat(chunks)]), join(sandbox, 'b'), { whiteouts: 'overlay' });
    assert.equal(got.diffId, `sha256:${sha(Buffer.concat(chunks))}`);
  });
});
