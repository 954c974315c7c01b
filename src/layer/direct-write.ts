/**
 * Writing big files with O_DIRECT, past the page cache: a ranged blob's parts
 * (store/ranged.ts), which nothing reads back soon (the hash and the extraction take each part
 * from memory), and a pulled layer's biggest files (apply.ts). On a VM a page the kernel has
 * not used for a while can be slow to fill (a balloon driver handed it back to the host),
 * and a pull would fill pages twice, for the blob and for the tree (docs/benchmarks.md).
 *
 * O_DIRECT wants the memory, the file offset and the length aligned to the device's block.
 * Node has no aligned allocation, so a buffer is allocated with ALIGN bytes to spare and its
 * aligned start is found by trying O_DIRECT writes to a scratch file, one per 16 bytes
 * (malloc's alignment) until one is accepted. What is left of a write past its last whole
 * block goes through the file's ordinary handle. Where O_DIRECT is refused (some file
 * systems), `open` gives undefined and the caller writes as before.
 */
import { closeSync, constants as fsc, openSync, unlinkSync, write as writeCb, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { open, type FileHandle } from 'node:fs/promises';
import { errnoCode } from '../errors/index.ts';
import { randomHex } from '../sys/crypto.ts';

const writeFd = promisify(writeCb);

/** The file's ordinary handle, for what cannot go past the page cache: a FileHandle or an fd. */
export type PlainHandle = FileHandle | number;

/** Writes all of `buf` at `pos` through an ordinary handle. */
export async function writeAt(plain: PlainHandle, buf: Buffer, pos: number): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const n =
      typeof plain === 'number' ? await writeFd(plain, buf, done, buf.length - done, pos + done) : await plain.write(buf, done, buf.length - done, pos + done);
    done += n.bytesWritten;
  }
}

/** Alignment asked of offsets and lengths, and the spare room a buffer gets: a page, which any block size divides. */
const ALIGN = 4096;
/** malloc's alignment: the step between candidate starts. */
const MALLOC_ALIGN = 16;

export class DirectWriter {
  /** Views whose memory starts on an aligned address. */
  private readonly aligned = new WeakSet<Buffer>();

  private constructor(
    private readonly fh: FileHandle,
    private readonly probeFd: number,
  ) {}

  /** O_DIRECT handles on `file` (which must exist) and on a scratch file beside it; undefined where the file system refuses O_DIRECT. */
  static async open(file: string): Promise<DirectWriter | undefined> {
    let fh: FileHandle | undefined;
    try {
      fh = await open(file, fsc.O_WRONLY | fsc.O_DIRECT | fsc.O_NOFOLLOW);
      // Beside the file (the same file system, so the same alignment), under a name that
      // nothing else has: a layer may hold any name, and O_EXCL never opens one of them.
      const probe = `${file}.berth-probe-${randomHex(6)}`;
      const probeFd = openSync(probe, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_DIRECT, 0o600);
      unlinkSync(probe); // nothing to clean up after a crash
      return new DirectWriter(fh, probeFd);
    } catch (e) {
      await fh?.close();
      if (errnoCode(e) === 'EINVAL') return undefined;
      throw e;
    }
  }

  /** A buffer of `len` bytes for a part, aligned when an aligned start is found. */
  buffer(len: number): Buffer {
    if (len < ALIGN) return Buffer.allocUnsafeSlow(len); // not one whole block: written through the page cache
    const whole = Buffer.allocUnsafeSlow(len + ALIGN);
    for (let start = 0; start < ALIGN; start += MALLOC_ALIGN) {
      try {
        writeSync(this.probeFd, whole, start, ALIGN, 0);
      } catch (e) {
        if (errnoCode(e) === 'EINVAL') continue;
        throw e;
      }
      const view = whole.subarray(start, start + len);
      this.aligned.add(view);
      return view;
    }
    return whole.subarray(0, len);
  }

  /**
   * Writes `buf` (from `buffer`) at `pos`: its whole blocks with O_DIRECT when both are
   * aligned, the rest through `plain`, the file's ordinary handle.
   */
  async write(buf: Buffer, pos: number, plain: PlainHandle): Promise<void> {
    let done = 0;
    if (this.aligned.has(buf) && pos % ALIGN === 0) {
      const blocks = buf.length - (buf.length % ALIGN);
      // A short direct write (rare) leaves an unaligned rest: that goes through `plain` too.
      while (done < blocks && done % ALIGN === 0) done += (await this.fh.write(buf, done, blocks - done, pos + done)).bytesWritten;
    }
    if (done < buf.length) await writeAt(plain, buf.subarray(done), pos + done);
  }

  async close(): Promise<void> {
    closeSync(this.probeFd);
    await this.fh.close();
  }
}

/** The size of a direct write, and how many may be on their way to the disk at once. */
const STAGE = 4 << 20;
const STAGES = 4;

/**
 * A big file's body, gathered into aligned stages and written with O_DIRECT (the class above),
 * up to STAGES at once, so that the decompression and the hash go on meanwhile; the last
 * partial stage goes through `fd`, so that the writes keep up with the gunzip in front of
 * them (docs/benchmarks.md). The cost: the file is not in the page cache when a container
 * first reads it. Its bytes reach the disk here; a layer's other files are written back later.
 */
export async function writeDirect(direct: DirectWriter, fd: number, body: AsyncIterable<Buffer>): Promise<void> {
  const free: Buffer[] = [];
  const writing = new Set<Promise<void>>();
  let failure: unknown;
  let stage: Buffer | undefined;
  let filled = 0;
  let pos = 0; // where `stage` starts in the file
  try {
    for await (const chunk of body) {
      for (let off = 0; off < chunk.length && failure === undefined; ) {
        if (!stage) {
          while (!free.length && writing.size >= STAGES) await Promise.race(writing);
          stage = free.pop() ?? direct.buffer(STAGE);
          filled = 0;
        }
        const n = chunk.copy(stage, filled, off);
        off += n;
        filled += n;
        if (filled === STAGE) {
          const buf = stage;
          const w: Promise<void> = direct
            .write(buf, pos, fd)
            .catch((e: unknown) => void (failure ??= e))
            .finally(() => {
              writing.delete(w);
              free.push(buf);
            });
          writing.add(w);
          pos += STAGE;
          stage = undefined;
        }
      }
      if (failure !== undefined) break;
    }
    // The last, partial stage is not whole blocks: it goes through the page cache.
    if (stage && filled && failure === undefined) await writeAt(fd, stage.subarray(0, filled), pos);
  } finally {
    await Promise.all(writing);
    await direct.close();
  }
  if (failure !== undefined) throw failure;
}
