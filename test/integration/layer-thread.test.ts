/**
 * Extraction on a worker thread (layer/apply-thread.ts), with the real program as the worker
 * (bin/berth.cjs, as the CLI names it): the same tree and diffID as in line, a hostile entry
 * refused with its own error code, and a broken input reported, with nothing outside written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { applyLayer, applyLayerOffThread, releaseBuffer } from '../../src/layer/index.ts';
import { setWorkerEntry } from '../../src/layer/worker-entry.ts';
import { isBerthError } from '../../src/errors/index.ts';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string };

function tarOf(entries: Entry[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const h = { name: e.name, type, linkname: e.linkname, mode: type === 'directory' ? 0o755 : 0o644, mtime: new Date(1_600_000_000_000) };
    if (type === 'file') pack.entry(h, e.body ?? 'x');
    else pack.entry(h);
  }
  pack.finalize();
  return Readable.from(pack as AsyncIterable<Buffer>);
}

const sandbox = mkdtempSync(join(tmpdir(), 'berth-thread-'));
let n = 0;
const target = () => join(sandbox, `t${n++}`);
before(() => setWorkerEntry(join(import.meta.dirname, '..', '..', 'bin', 'berth.cjs')));
after(() => {
  setWorkerEntry(undefined);
  rmSync(sandbox, { recursive: true, force: true });
});

describe('layer extraction on a worker thread', () => {
  const layer: Entry[] = [
    { name: 'app/', type: 'directory' },
    ...Array.from({ length: 300 }, (_, i) => ({ name: `app/f${i}.txt`, body: `file ${i}\n`.repeat(i + 1) })),
    { name: 'app/big.bin', body: 'w'.repeat(12 << 20) }, // more than the 8 MB of credit, and a big file's writes
    { name: 'app/link', type: 'symlink', linkname: 'f1.txt' },
  ];

  it('gives the same tree and diffID as extraction in line', async () => {
    const [a, b] = [target(), target()];
    const inLine = await applyLayer(tarOf(layer), a, { whiteouts: 'overlay' });
    const threaded = await applyLayerOffThread(tarOf(layer), b, { whiteouts: 'overlay' });
    assert.deepEqual(threaded, inLine);
    for (const f of ['app/f0.txt', 'app/f299.txt', 'app/big.bin']) assert.equal(readFileSync(join(b, f), 'utf8'), readFileSync(join(a, f), 'utf8'));
    assert.equal(readlinkSync(join(b, 'app/link')), 'f1.txt');
  });

  it('takes released buffers over without a copy, and copies everything else', async () => {
    const chunks: Buffer[] = [];
    for await (const c of tarOf(layer)) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    // Three kinds of chunk: released whole buffers, a released buffer's view, and plain buffers.
    const released = [releaseBuffer(Buffer.from(bytes.subarray(0, 1 << 20))), releaseBuffer(Buffer.from(bytes.subarray(1 << 20, 5 << 20)))];
    const viewOwner = releaseBuffer(Buffer.from(bytes.subarray(5 << 20, 7 << 20)));
    const view = viewOwner.subarray(0, 1 << 20);
    const plain = Buffer.from(bytes.subarray(6 << 20));
    const t = target();
    const got = await applyLayerOffThread(Readable.from([...released, view, plain]), t, { whiteouts: 'overlay' });
    assert.deepEqual(got, await applyLayer(Readable.from([bytes]), target(), { whiteouts: 'overlay' }));
    assert.deepEqual(
      released.map((b) => b.buffer.byteLength),
      [0, 0],
      'a released buffer moved to the thread',
    );
    assert.equal(viewOwner.length, 2 << 20, 'a view into a buffer is copied: its owner keeps its memory');
    assert.equal(plain.length, bytes.length - (6 << 20));
    assert.equal(readFileSync(join(t, 'app/big.bin'), 'utf8'), 'w'.repeat(12 << 20));
  });

  it('a hostile entry is refused with UNSAFE_PATH, as in line, and nothing lands outside', async () => {
    const t = target();
    await assert.rejects(
      applyLayerOffThread(tarOf([{ name: '../../escaped-by-thread' }]), t, { whiteouts: 'apply' }),
      (e: unknown) => isBerthError(e) && e.code === 'UNSAFE_PATH',
    );
    assert.equal(existsSync(join(sandbox, '..', 'escaped-by-thread')), false);
  });

  it('input that fails halfway fails the extraction', async () => {
    const input = new PassThrough();
    const pending = applyLayerOffThread(input, target(), { whiteouts: 'overlay' });
    const chunks = tarOf(layer);
    let sent = 0;
    for await (const c of chunks) {
      input.write(c);
      if ((sent += (c as Buffer).length) > 1 << 20) break;
    }
    input.destroy(new Error('connection reset'));
    // The worker hears of the failure as a message, and so reports it as a BerthError of its
    // own (in line, the input's Error itself would come back): this also shows a thread ran.
    await assert.rejects(pending, (e: unknown) => isBerthError(e) && e.code === 'UNAVAILABLE' && /connection reset/.test(e.message));
  });
});
