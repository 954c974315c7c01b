/**
 * One blob being written into the content store: bytes are hashed as they stream into
 * `content/ingest/<name>`, and `commit()` makes the blob visible only once its size and digest
 * check out (fsync, then rename into `blobs/`). `abort()` removes the partial file.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { digestHex, type Digest } from '../oci/digest.ts';
import { BlobVerifier } from './verifier.ts';

export interface ContentInfo {
  readonly digest: Digest;
  readonly size: number;
  /** From putResumable/putRanged: another writer stored the blob first, and nothing was read from the source. */
  readonly found?: boolean;
}

export interface ContentWriter extends Writable {
  /** Verifies and publishes. `expected` given to ingest() or here must match. */
  commit(expected?: Digest, expectedSize?: number): Promise<ContentInfo>;
  abort(): Promise<void>;
}

export class IngestWriter extends Writable implements ContentWriter {
  private readonly verifier: BlobVerifier;
  private readonly file: ReturnType<typeof createWriteStream>;

  constructor(
    private readonly tmpPath: string,
    private readonly blobsDir: string,
    private readonly expected?: Digest,
    private readonly expectedSize?: number,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.verifier = new BlobVerifier(expected, expectedSize);
    this.file = createWriteStream(tmpPath, { flags: 'wx', mode: 0o644 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    try {
      this.verifier.update(chunk);
    } catch (e) {
      cb(e as Error);
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
    let digest: Digest;
    try {
      digest = this.verifier.verify(expected ?? this.expected, expectedSize ?? this.expectedSize);
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
    return { digest, size: this.verifier.size };
  }

  async abort(): Promise<void> {
    this.destroy();
    this.file.on('error', () => undefined); // a write still in flight fails as the file is destroyed
    this.file.destroy();
    await rm(this.tmpPath, { force: true });
  }
}
