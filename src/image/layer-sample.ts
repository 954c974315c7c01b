/**
 * Windows of a layer's bytes spread over its whole length, so that a push can guess how well
 * the layer compresses without compressing it. Its first megabyte is no guide: a layer's tar
 * is sorted by path, so a model layer (`ctx/files/...` before `ctx/weights.bin`) starts with
 * small text files and is mostly random bytes after them.
 */
import { closeSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, isBerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import type { ImageStores } from './stores.ts';

export interface LayerSample {
  /** Each window stands for an equal share of `contentBytes`. */
  readonly windows: readonly Buffer[];
  readonly contentBytes: number;
  /** Bytes of the tar that are headers, not file content (estimated for a dir layer). */
  readonly headerBytes: number;
}

const TAR_HEADER = 512;

/** The byte windows at `count` evenly spaced points of `total`, read by `readAt`. */
function windowsAt(total: number, count: number, size: number, readAt: (pos: number, buf: Buffer) => number): Buffer[] {
  const out: Buffer[] = [];
  if (total === 0) return out;
  const n = Math.min(count, Math.max(1, Math.floor(total / size)));
  for (let i = 0; i < n; i++) {
    const buf = Buffer.allocUnsafe(size);
    const got = readAt(Math.floor((i * total) / n), buf);
    if (got > 0) out.push(buf.subarray(0, got));
  }
  return out;
}

/** A blob file read at positions. */
function sampleFile(path: string, size: number, count: number, windowSize: number): Buffer[] {
  const fd = openSync(path, 'r');
  try {
    return windowsAt(size, count, windowSize, (pos, buf) => readSync(fd, buf, 0, buf.length, pos));
  } finally {
    closeSync(fd);
  }
}

/** The regular files of a layer dir in tar order, with the number of entries of any kind. */
function listDir(root: string): { files: string[]; sizes: number[]; entries: number } {
  const files: string[] = [];
  const sizes: number[] = [];
  let entries = 0;
  const walk = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      entries++;
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.isFile()) {
        const size = lstatSync(p).size;
        if (size > 0) {
          files.push(p);
          sizes.push(size);
        }
      }
    }
  };
  walk(root);
  return { files, sizes, entries };
}

/** The file contents of a dir read as one stream (as the tar holds them) at positions. */
function sampleDir(root: string, count: number, windowSize: number): LayerSample {
  const { files, sizes, entries } = listDir(root);
  const starts: number[] = [];
  let total = 0;
  for (const s of sizes) {
    starts.push(total);
    total += s;
  }
  const readAt = (pos: number, buf: Buffer): number => {
    // The last file that starts at or before pos.
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    let got = 0;
    for (let i = lo, at = pos - starts[lo]!; i < files.length && got < buf.length; i++, at = 0) {
      const fd = openSync(files[i]!, 'r');
      try {
        got += readSync(fd, buf, got, buf.length - got, at);
      } finally {
        closeSync(fd);
      }
    }
    return got;
  };
  return { windows: windowsAt(total, count, windowSize, readAt), contentBytes: total, headerBytes: entries * TAR_HEADER };
}

/**
 * Up to `count` windows of `windowSize` bytes across the layer's uncompressed tar: the
 * stored blob when there is one, the unpacked dir of a layer built here otherwise.
 */
export async function sampleLayer(
  stores: Pick<ImageStores, 'content' | 'snapshots'>,
  diffId: Digest,
  opts: { count?: number; windowSize?: number } = {},
): Promise<LayerSample> {
  const count = opts.count ?? 32;
  const windowSize = opts.windowSize ?? 32 * 1024;
  const blob = await stores.content.info(diffId).catch((e: unknown) => {
    if (isBerthError(e, 'NOT_FOUND')) return undefined;
    throw e;
  });
  if (blob) return { windows: sampleFile(stores.content.pathOf(diffId), blob.size, count, windowSize), contentBytes: blob.size, headerBytes: 0 };
  if (!(await stores.snapshots.stat(diffId))) throw new BerthError('NOT_FOUND', `content ${diffId} not found`);
  return stores.snapshots.readLayer(diffId, async (dir) => sampleDir(dir, count, windowSize));
}
