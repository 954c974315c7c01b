/**
 * Big files as a stream of chunks for the layer writer: read with reads kept in flight ahead
 * of the one being hashed, and, for a file a COPY left empty (a fill), copied from its
 * source on the way.
 *
 * A fill exists because a big COPY used to copy each big file and then read it back to hash
 * the layer; the two passes each moved every byte through the page cache. A fill reads the
 * source once, and each chunk is written into the layer dir while it is hashed.
 */
import { constants as fsc } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { BerthError } from '../errors/index.ts';

/** A regular file in a tree, created empty with its final mode and owner, whose bytes come from `src`. */
export interface FileFill {
  /** Its path in the tree: relative, `/`-separated. */
  readonly rel: string;
  /** Host path of the source file. */
  readonly src: string;
  readonly size: number;
  /** The times the file gets once filled (writing it changes them). */
  readonly atimeMs: number;
  readonly mtimeMs: number;
}

const CHUNK = 1 << 20;
/** Reads kept in flight ahead of the chunk being consumed, so reading overlaps hashing. */
const READ_AHEAD = 4;
/** Writes of a fill that may be pending at once, so memory stays bounded when the disk is slow. */
const WRITES_IN_FLIGHT = 4;

export function cancelled(): BerthError {
  return new BerthError('CANCELLED', 'writing the layer was cancelled');
}

export function changed(name: string): BerthError {
  return new BerthError('CONFLICT', `"${name}" changed size while it was being archived`, { hint: 'nothing may write to a tree while it is archived; try again' });
}

/**
 * The first `size` bytes of `fh` in order; a file that turns out shorter is a CONFLICT. A
 * read starts once `ready` (when given) says the bytes up to its end are there.
 */
async function* chunksOf(fh: FileHandle, size: number, name: string, signal?: AbortSignal, ready?: (end: number) => Promise<void>): AsyncGenerator<Buffer> {
  const inFlight: Array<Promise<Buffer>> = [];
  let next = 0; // offset of the next read to start
  const readAt = async (off: number): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - off));
    await ready?.(off + buf.length);
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
 * A fill's copy, started as the layer's tar begins and run alongside it: the big files are
 * written while the writer is still archiving the small ones, and the writer reads each
 * chunk back from the file itself (so the hash is of what the layer holds) as soon as the
 * copy has passed it. Once all bytes are written the file gets the fill's times.
 */
export class FillCopy {
  readonly done: Promise<void>;
  private copied = 0;
  private failure: unknown;
  private wake: Array<() => void> = [];

  /** The copy starts once `after` has settled. */
  constructor(
    readonly fill: FileFill,
    private readonly dest: string,
    private readonly signal: AbortSignal,
    after: Promise<unknown>,
  ) {
    this.done = after.then(() => this.run()).catch((e: unknown) => {
      this.failure = e;
      throw e;
    }).finally(() => this.wake.splice(0).forEach((w) => w()));
    this.done.catch(() => undefined); // awaited by whoever needs the outcome
  }

  private async run(): Promise<void> {
    const src = await open(this.fill.src, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const out = await open(this.dest, fsc.O_WRONLY | fsc.O_NOFOLLOW);
      try {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, this.fill.size));
        while (this.copied < this.fill.size) {
          if (this.signal.aborted) throw cancelled();
          const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, this.fill.size - this.copied), this.copied);
          if (bytesRead === 0) throw changed(this.fill.src);
          await writeAll(out, buf.subarray(0, bytesRead), this.copied);
          this.copied += bytesRead;
          this.wake.splice(0).forEach((w) => w());
        }
        await out.utimes(Math.trunc(this.fill.atimeMs) / 1000, Math.trunc(this.fill.mtimeMs) / 1000); // ms, as copies elsewhere set them
      } finally {
        await out.close();
      }
    } finally {
      await src.close();
    }
  }

  /** Resolves once the first `end` bytes are written; rejects with the copy's failure. */
  private async written(end: number): Promise<void> {
    while (this.copied < end) {
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
  }

  /** The file's bytes as the copy writes them, read back from `dest`. */
  async *chunks(name: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const fh = await open(this.dest, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      yield* chunksOf(fh, this.fill.size, name, signal, (end) => this.written(end));
    } finally {
      await fh.close();
    }
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, pos: number): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
    done += bytesWritten;
  }
}

/** Copies that may run at once: each keeps one thread-pool thread busy, and the writer's reads need one. */
const COPIES_AT_ONCE = 2;

/** Starts the fills of the tree at `root`, COPIES_AT_ONCE at a time, in the order given; by path. */
export function startFills(root: string, fills: Iterable<FileFill>, signal: AbortSignal): Map<string, FillCopy> {
  const copies = new Map<string, FillCopy>();
  const lanes: Array<Promise<unknown>> = Array.from({ length: COPIES_AT_ONCE }, () => Promise.resolve());
  let i = 0;
  for (const f of fills) {
    const lane = i++ % COPIES_AT_ONCE;
    const copy = new FillCopy(f, `${root}/${f.rel}`, signal, lanes[lane]!);
    lanes[lane] = copy.done.catch(() => undefined); // the next one starts however this one ends
    copies.set(f.rel, copy);
  }
  return copies;
}

/** Waits for every copy to end, then throws the first failure, if any. */
export async function allCopied(copies: Iterable<FillCopy>): Promise<void> {
  const failed = (await Promise.allSettled([...copies].map((c) => c.done))).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Fills the files now, for a tree that is not archived straight away (the native snapshotter diffs it first). */
export async function fillFiles(root: string, fills: readonly FileFill[], signal?: AbortSignal): Promise<void> {
  await allCopied(startFills(root, fills, signal ?? new AbortController().signal).values());
}
