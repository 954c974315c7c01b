/**
 * Writing a big download's parts with O_DIRECT, past the page cache. Nothing reads a ranged
 * blob back soon (the hash and the extraction take each part from memory), so caching its
 * pages only costs: on the development VM a page the kernel has not used for a while is slow
 * to fill (the balloon handed it back to the host: docs/benchmarks.md), and a pull fills
 * pages twice, for the blob and for the tree. 480 MB took dd 0.51-0.74 s through the page
 * cache and 0.26 s with O_DIRECT.
 *
 * O_DIRECT wants the memory, the file offset and the length aligned to the device's block.
 * Node has no aligned allocation, so a part's buffer is allocated with ALIGN bytes to spare
 * and its aligned start is found by trying O_DIRECT writes to a scratch file, one per 16
 * bytes (malloc's alignment) until one is accepted. Parts start at multiples of ALIGN; what
 * is left of a part past its last whole block goes through the ordinary handle. Where
 * O_DIRECT is refused (tmpfs), `open` gives undefined and the caller writes as before.
 */
import { closeSync, constants as fsc, openSync, unlinkSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { errnoCode } from '../errors/index.ts';

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
      fh = await open(file, fsc.O_WRONLY | fsc.O_DIRECT);
      const probe = `${file}.probe`;
      const probeFd = openSync(probe, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_DIRECT, 0o600);
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
   * aligned, the rest through `fh`, the file's ordinary handle.
   */
  async write(buf: Buffer, pos: number, fh: FileHandle): Promise<void> {
    let done = 0;
    if (this.aligned.has(buf) && pos % ALIGN === 0) {
      const blocks = buf.length - (buf.length % ALIGN);
      // A short direct write (rare) leaves an unaligned rest: that goes through `fh` too.
      while (done < blocks && done % ALIGN === 0) done += (await this.fh.write(buf, done, blocks - done, pos + done)).bytesWritten;
    }
    while (done < buf.length) done += (await fh.write(buf, done, buf.length - done, pos + done)).bytesWritten;
  }

  async close(): Promise<void> {
    closeSync(this.probeFd);
    await this.fh.close();
  }
}
