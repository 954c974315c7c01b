/**
 * SHA-256 and random numbers without node:crypto: loading it (sixteen internal modules) would
 * cost every command time, and these are all most commands need. Berth's addon hashes with the
 * OpenSSL that Node carries (native/berth_hash.c: EVP, the code node:crypto runs too) and
 * reads getrandom(2). Without the addon, node:crypto does both; bin/berth.cjs hands the
 * bundle node:crypto as a stand-in that loads at first use, so only then is it loaded.
 */
import { createHash, randomFillSync } from 'node:crypto';
import type { Digest } from '../oci/digest.ts';
import { sys, type Sys } from './index.ts';

/** What berth uses of a hash: node:crypto's Hash has the same shape. */
export interface Sha256 {
  update(data: Uint8Array | string): Sha256;
  digest(): Buffer;
  digest(encoding: 'hex'): string;
}

type NativeSha = Required<Pick<Sys, 'sha256New' | 'sha256Update' | 'sha256Digest'>>;

class NativeSha256 implements Sha256 {
  private readonly handle: unknown;

  constructor(private readonly native: NativeSha) {
    this.handle = native.sha256New();
  }

  update(data: Uint8Array | string): this {
    this.native.sha256Update(this.handle, data);
    return this;
  }

  digest(): Buffer;
  digest(encoding: 'hex'): string;
  digest(encoding?: 'hex'): Buffer | string {
    const d = this.native.sha256Digest(this.handle);
    return encoding ? d.toString(encoding) : d;
  }
}

export function createSha256(): Sha256 {
  const native = sys();
  return native?.sha256New ? new NativeSha256(native as NativeSha) : createHash('sha256');
}

function randomFill(buf: Buffer): Buffer {
  const native = sys();
  if (native) native.randomFill(buf);
  else randomFillSync(buf);
  return buf;
}

/** `bytes` random bytes as hex, for ids and temp names. */
export function randomHex(bytes: number): string {
  return randomFill(Buffer.allocUnsafe(bytes)).toString('hex');
}

/** A uniform random integer in [0, max), max ≤ 2^32. */
export function randomInt(max: number): number {
  if (!(Number.isInteger(max) && max > 0 && max <= 2 ** 32)) throw new RangeError(`randomInt: max must be an integer in 1..2^32, not ${max}`);
  const buf = Buffer.allocUnsafe(4);
  // The values below the largest multiple of max keep every result equally likely.
  const limit = 2 ** 32 - (2 ** 32 % max);
  for (;;) {
    const v = randomFill(buf).readUInt32LE(0);
    if (v < limit) return v % max;
  }
}

/** The digest of `data`, as OCI names content. */
export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createSha256().update(data).digest('hex')}` as Digest;
}

/** The digest a finished hash gives. */
export function digestOfHash(h: Sha256): Digest {
  return `sha256:${h.digest('hex')}` as Digest;
}
