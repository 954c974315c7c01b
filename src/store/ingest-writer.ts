/**
 * One blob being written into the content store: bytes are hashed as they stream into
 * `content/ingest/<name>`, and `commit()` makes the blob visible only once its size and digest
 * check out (fsync, then rename into `blobs/`). `abort()` removes the partial file.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { digestHex, digestOfHash, type Digest } from '../oci/digest.ts';
import { createSha256 } from '../sys/crypto.ts';
import type { ContentInfo, ContentWriter } from './content.ts';

export class IngestWriter extends Writable implements ContentWriter {
  private readonly hash = createSha256();
  private size = 0;
  private readonly file: ReturnType<typeof createWriteStream>;

  constructor(
    private readonly tmpPath: string,
    private readonly blobsDir: string,
    private readonly expected?: Digest,
    private readonly expectedSize?: number,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.file = createWriteStream(tmpPath, { flags: 'wx', mode: 0o644 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.expectedSize !== undefined && this.size > this.expectedSize) {
      cb(new BerthError('DATA_CORRUPT', `blob is larger than the expected ${this.expectedSize} bytes`));
      return;
    }
    if (!this.file.write(chunk)) this.file.once('drain', () => cb());
    else cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.file.end(() => cb());
  }

  async commit(expected?: Digest, expectedSize?: number): Promise<ContentInfo> {
    if (!this.writableFinished) {
      await new Promise<void>((resolve, reject) => {
        this.once('finish', resolve);
        this.once('error', reject);
        this.end();
      });
    }
    const digest = digestOfHash(this.hash);
    const want = expected ?? this.expected;
    const wantSize = expectedSize ?? this.expectedSize;
    try {
      if (wantSize !== undefined && this.size !== wantSize) {
        throw new BerthError('DATA_CORRUPT', `size mismatch for ${want ?? digest}: expected ${wantSize} bytes, got ${this.size}`);
      }
      if (want !== undefined && want !== digest) {
        throw new BerthError('DATA_CORRUPT', `digest mismatch: expected ${want}, got ${digest}`, {
          hint: 'the source sent different bytes than it promised; nothing was stored',
        });
      }
      const fh = await open(this.tmpPath, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(this.tmpPath, join(this.blobsDir, digestHex(digest)));
    } catch (e) {
      await rm(this.tmpPath, { force: true });
      throw e;
    }
    return { digest, size: this.size };
  }

  async abort(): Promise<void> {
    this.destroy();
    this.file.on('error', () => undefined); // a write still in flight fails as the file is destroyed
    this.file.destroy();
    await rm(this.tmpPath, { force: true });
  }
}
