/**
 * Big files for the layer writer: read as chunks, with reads kept in flight ahead of the one
 * being hashed; and fills, the big files a COPY creates empty and copies beside the rest.
 *
 * A fill exists so that a big file's copy overlaps the rest of the step. COPY makes the file
 * (owner and mode final, no bytes) and starts its kernel copy at once, beside the small
 * files' copy; the layer writer archives what precedes the file meanwhile, and reads it back
 * once its copy has ended, so the diffID is the hash of what the layer holds.
 */
import { constants as fsc } from 'node:fs';
import { chmod, copyFile, open, stat, utimes, type FileHandle } from 'node:fs/promises';
import { BerthError } from '../errors/index.ts';

/** A regular file in a tree, created empty with its final mode and owner, whose bytes come from `src`. */
export interface FileFill {
  /** Its path in the tree: relative, `/`-separated. */
  readonly rel: string;
  /** Host path of the source file. */
  readonly src: string;
  readonly size: number;
  /** Its permission bits (with setuid, setgid and sticky), which it was created with. */
  readonly mode: number;
  /** The times the file gets once filled (writing it changes them). */
  readonly atimeMs: number;
  readonly mtimeMs: number;
  /** The copy, started by the COPY: the file holds its bytes once this settles. */
  readonly copying: Promise<void>;
}

/** What a copy needs of a fill. */
export type FillSource = Omit<FileFill, 'rel' | 'copying'>;

const CHUNK = 1 << 20;
/** Reads kept in flight ahead of the chunk being consumed, so reading overlaps hashing. */
const READ_AHEAD = 4;

export function cancelled(): BerthError {
  return new BerthError('CANCELLED', 'writing the layer was cancelled');
}

export function changed(name: string): BerthError {
  return new BerthError('CONFLICT', `"${name}" changed size while it was being archived`, {
    hint: 'nothing may write to a tree while it is archived; try again',
  });
}

/** The first `size` bytes of `fh` in order; a file that turns out shorter is a CONFLICT. */
async function* chunksOf(fh: FileHandle, size: number, name: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const inFlight: Array<Promise<Buffer>> = [];
  let next = 0; // offset of the next read to start
  const readAt = async (off: number): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - off));
    // pread is short only at the end of the file: a short read here means the file shrank.
    for (let got = 0; got < buf.length; ) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, off + got);
      if (bytesRead === 0) throw changed(name);
      got += bytesRead;
    }
    return buf;
  };
  const fill = () => {
    while (inFlight.length < READ_AHEAD && next < size) {
      const p = readAt(next);
      p.catch(() => undefined); // awaited in order below; a later one may fail first
      inFlight.push(p);
      next += CHUNK;
    }
  };
  try {
    fill();
    while (inFlight.length) {
      if (signal?.aborted) throw cancelled();
      const buf = await inFlight.shift()!;
      fill();
      yield buf;
    }
  } finally {
    await Promise.allSettled(inFlight); // no read may still use the handle when it closes
  }
}

/** A file's bytes, `size` of them, as it is archived. */
export async function* readLarge(path: string, size: number, name: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  try {
    yield* chunksOf(fh, size, name, signal);
  } finally {
    await fh.close();
  }
}

/**
 * Copies a fill's source into `dest` (the empty file made for it) with one kernel copy
 * (copy_file_range: no user-space buffer between the two page caches), then gives it the
 * fill's mode (the copy sets the source's) and times. A source whose size is not the fill's
 * any more is a CONFLICT.
 */
export async function copyFill(fill: FillSource, dest: string): Promise<void> {
  await copyFile(fill.src, dest);
  if ((await stat(dest)).size !== fill.size) throw changed(fill.src);
  await chmod(dest, fill.mode);
  await utimes(dest, Math.trunc(fill.atimeMs) / 1000, Math.trunc(fill.mtimeMs) / 1000); // ms, as copies elsewhere set them
}

/** Copies that may run at once: each keeps one thread-pool thread busy, and the small files' copy and the writer's reads need the rest. */
const COPIES_AT_ONCE = 2;

/**
 * A queue that runs the copies given to it COPIES_AT_ONCE at a time, in the order given;
 * each starts once an earlier one has ended, however that ended.
 */
export function copyQueue(): (copy: () => Promise<void>) => Promise<void> {
  const lanes: Array<Promise<unknown>> = Array.from({ length: COPIES_AT_ONCE }, () => Promise.resolve());
  let i = 0;
  return (copy) => {
    const lane = i++ % COPIES_AT_ONCE;
    const p = lanes[lane]!.then(copy);
    lanes[lane] = p.catch(() => undefined);
    p.catch(() => undefined); // its owner awaits it
    return p;
  };
}
