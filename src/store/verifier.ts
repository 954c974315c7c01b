/**
 * The one check between bytes and the content store: a blob is published only when its size
 * and sha256 are what its writer promised. Every way in (a stream, bytes in memory, a resumed
 * download, ranged parts) feeds a `BlobVerifier` and publishes only after `verify()`; `system
 * check` rehashes stored blobs with `digestOfFile`.
 */
import { createReadStream } from 'node:fs';
import { BerthError, errnoCode } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { createSha256, digestOfHash } from '../sys/crypto.ts';

const SENT_OTHER_BYTES = 'the source sent different bytes than it promised; nothing was stored';

export class BlobVerifier {
  private readonly hash = createSha256();
  private received = 0;

  /** `expected`, `expectedSize`: what the writer promised, when it did. */
  constructor(
    private readonly expected?: Digest,
    private readonly expectedSize?: number,
  ) {}

  /** Bytes seen so far. */
  get size(): number {
    return this.received;
  }

  /** Counts and hashes `chunk`; DATA_CORRUPT as soon as more bytes come than were promised, so an endless source is cut off. */
  update(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.expectedSize !== undefined && this.received > this.expectedSize) {
      throw new BerthError('DATA_CORRUPT', `${this.expected ? `blob ${this.expected}` : 'the blob'} is larger than its ${this.expectedSize} bytes`, {
        hint: 'the source sent more than the descriptor says: it was cut off there, and nothing was stored',
      });
    }
    this.hash.update(chunk);
  }

  /**
   * The digest of the bytes seen; DATA_CORRUPT when their size or digest is not the promised
   * one (given here or to the constructor). Call once: it ends the hash.
   */
  verify(expected = this.expected, expectedSize = this.expectedSize): Digest {
    const digest = digestOfHash(this.hash);
    if (expectedSize !== undefined && this.received !== expectedSize) {
      throw new BerthError('DATA_CORRUPT', `blob ${expected ?? digest}: expected ${expectedSize} bytes, got ${this.received}`, { hint: SENT_OTHER_BYTES });
    }
    if (expected !== undefined && expected !== digest) {
      throw new BerthError('DATA_CORRUPT', `digest mismatch: expected ${expected}, got ${digest}`, { hint: SENT_OTHER_BYTES });
    }
    return digest;
  }
}

/** `bytes`' digest, checked against what was promised (see BlobVerifier.verify). */
export function verifyBytes(bytes: Buffer, expected?: Digest, expectedSize?: number): Digest {
  const v = new BlobVerifier(expected);
  v.update(bytes);
  return v.verify(expected, expectedSize);
}

/** The digest of a file's bytes as they are now; undefined when there is no such file. */
export async function digestOfFile(path: string): Promise<Digest | undefined> {
  const h = createSha256();
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  return digestOfHash(h);
}
