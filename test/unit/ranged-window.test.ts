/**
 * A ranged download holds a bounded number of parts whatever the blob's size: the workers
 * fetch at most `parallel` parts beyond the one the in-order reader is about to get, so a
 * reader slower than the source (an extraction behind a fast registry) holds the download
 * back instead of letting parts pile up in memory (issue 24's peak memory of a pull). The
 * source here is a blob in memory served by range; the reader is a real Writable that takes
 * its time.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { Digest } from '../../src/oci/digest.ts';
import { downloadRanged } from '../../src/store/ranged.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-ranged-window-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PART = 64 * 1024;
const PARTS = 40;
const PARALLEL = 4;
/** How long without a new part asked for counts as the workers having stopped. */
const QUIET_MS = 1000;

describe('ranged download window', () => {
  it('never fetches more than `parallel` parts ahead of a slow reader, and the blob is whole', async () => {
    const blob = Buffer.alloc(PART * PARTS);
    for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE(i, i);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}` as Digest;
    let consumed = 0; // parts the reader has finished with
    let maxAhead = 0;
    let lastOpen = Date.now();
    const got: Buffer[] = [];
    // The reader sits on the first part until the source has been asked for nothing new for a
    // while: the window (or its absence) shows in how far the workers got meanwhile.
    const reader = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        got.push(Buffer.from(chunk));
        const finish = () => {
          consumed += chunk.length / PART;
          done();
        };
        if (consumed > 0) return finish();
        const quiet = setInterval(() => {
          if (Date.now() - lastOpen < QUIET_MS) return;
          clearInterval(quiet);
          finish();
        }, 50);
      },
    });
    const ok = await downloadRanged(
      dir,
      join(dir, 'blob'),
      digest,
      blob.length,
      async (start, end) => {
        lastOpen = Date.now();
        maxAhead = Math.max(maxAhead, start / PART - consumed);
        return Readable.from([blob.subarray(start, end + 1)]);
      },
      { partSize: PART, parallel: PARALLEL, inOrder: reader },
    );
    assert.equal(ok, true);
    assert.ok(maxAhead <= PARALLEL + 1, `a part was fetched ${maxAhead} parts ahead of the reader`);
    assert.ok(maxAhead >= PARALLEL - 1, `the workers ran ahead in parallel (${maxAhead} ahead at most)`);
    assert.ok(Buffer.concat(got).equals(blob), 'the reader got the blob in order');
    assert.ok(readFileSync(join(dir, 'blob')).equals(blob), 'the stored blob is whole');
  });
});
