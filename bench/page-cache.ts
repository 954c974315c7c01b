/**
 * Whether a layer's biggest files (32 MB and up, model weights) are written past the page
 * cache (layer/apply.ts, layer/direct-write.ts), so that extracting a big image does not
 * push everything else out of memory. Page-cache residency is a property of speed, not of
 * behaviour (test/integration/layer-direct.test.ts checks the bytes and metadata): it is
 * measured here, with fincore (util-linux).
 *
 *   node --import tsx bench/page-cache.ts
 *
 * Prints the resident pages of each file after extraction; exits 1 when a big file stayed in
 * the cache or a small one did not go through it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { applyLayer } from '../src/layer/index.ts';

/** Resident pages of a file, as fincore counts them. */
function residentPages(file: string): number {
  return Number(execFileSync('fincore', ['--noheadings', '--bytes', '--output', 'PAGES', file], { encoding: 'utf8' }).trim());
}

const FILES = [
  // 37 MB and an odd tail: nine whole 4 MB stages, then a partial one (~3 MB may stay cached).
  { name: 'weights.bin', data: randomBytes((37 << 20) + 12_345), maxPages: 1024 },
  { name: 'exact.bin', data: randomBytes(32 << 20), maxPages: 1024 },
  // Below the threshold: through the page cache.
  { name: 'small.bin', data: randomBytes(5 << 20), minPages: 1000 },
];

const sandbox = mkdtempSync(join(tmpdir(), 'berth-page-cache-'));
let failed = false;
try {
  const pack = tar.pack();
  for (const f of FILES) pack.entry({ name: `models/${f.name}`, mode: 0o644 }, f.data);
  pack.finalize();
  await applyLayer(Readable.from(pack as AsyncIterable<Buffer>), sandbox, { whiteouts: 'overlay' });
  console.log('resident pages after extraction (4 KiB each)');
  for (const f of FILES) {
    const pages = residentPages(join(sandbox, 'models', f.name));
    const wrong = (f.maxPages !== undefined && pages >= f.maxPages) || (f.minPages !== undefined && pages <= f.minPages);
    failed ||= wrong;
    console.log(`  ${f.name.padEnd(12)} ${String(f.data.length).padStart(9)} bytes  ${String(pages).padStart(6)} pages${wrong ? '   REGRESSED' : ''}`);
  }
} finally {
  rmSync(sandbox, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
