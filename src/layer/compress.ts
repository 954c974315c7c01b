/**
 * Compression codecs for layers: sniffing decompression (plain tar, gzip, or zstd through the
 * zstd program: see zstd.ts), gzip, and a parallel gzip that
 * compresses fixed-size chunks on the libuv thread pool and emits them in order as
 * concatenated gzip members — valid gzip that any gunzip reads.
 */
import { PassThrough, Transform, type Duplex, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip, gzip } from 'node:zlib';
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { createSha256, digestOfHash } from '../sys/crypto.ts';
import { isGzip, isZstd } from './magic.ts';
import { zstdDecompress } from './zstd.ts';

function gzipAsync(b: Buffer, o: { level: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(b, o, (e, out) => (e ? reject(e) : resolve(out))));
}
/** zlib's Z_BEST_SPEED, the level layers are gzipped at unless told otherwise. */
const BEST_SPEED = 1;

/** Passes bytes through, decompressing gzip or zstd input; the format is sniffed from the magic bytes. */
export function decompressAuto(): Transform {
  let inner: Duplex | undefined; // the codec, chosen by the first four bytes
  let head = Buffer.alloc(0);
  let failed = false;
  const fail = (self: Transform, e: Error) => {
    if (failed) return;
    failed = true;
    self.destroy(new BerthError('DATA_CORRUPT', `cannot decompress the layer: ${e.message}`, { cause: e }));
  };
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (inner) {
        if (!inner.write(chunk)) inner.once('drain', () => cb());
        else cb();
        return;
      }
      head = Buffer.concat([head, chunk]);
      if (head.length < 4) return cb();
      inner = isZstd(head) ? zstdDecompress() : isGzip(head) ? createGunzip({ chunkSize: 1 << 20 }) : new PassThrough();
      inner.on('data', (d: Buffer) => {
        if (!t.push(d)) inner!.pause();
      });
      inner.on('error', (e) => fail(t, e));
      const first = head;
      head = Buffer.alloc(0);
      if (!inner.write(first)) inner.once('drain', () => cb());
      else cb();
    },
    read() {
      inner?.resume();
      // Node calls _read; the default implementation triggers transform callbacks.
      (Transform.prototype as unknown as { _read: (n: number) => void })._read.call(this, 0);
    },
    flush(cb: TransformCallback) {
      if (!inner) {
        // Fewer than 4 bytes in total: pass them on (tar parsing will judge them).
        if (head.length) t.push(head);
        return cb();
      }
      inner.once('end', () => cb());
      inner.end();
    },
  });
  return t;
}

export function compress(kind: 'gzip' | 'none', opts: { level?: number } = {}): Transform {
  return kind === 'gzip' ? createGzip({ level: opts.level ?? BEST_SPEED, chunkSize: 1 << 20 }) : new PassThrough();
}

/**
 * Parallel gzip: input is cut into `chunkSize` pieces, up to `workers` are compressed at
 * once (zlib's async API runs on the thread pool), and outputs are pushed in input order.
 */
export function gzipParallel(opts: { level?: number; chunkSize?: number; workers?: number } = {}): Transform {
  const chunkSize = opts.chunkSize ?? 1 << 20;
  const workers = opts.workers ?? 4;
  const level = opts.level ?? BEST_SPEED;
  let buf: Buffer[] = [];
  let buffered = 0;
  const inflight: Array<Promise<Buffer>> = [];
  const launch = (piece: Buffer) => inflight.push(gzipAsync(piece, { level }));
  const drainTo = async (t: Transform, max: number) => {
    while (inflight.length > max) t.push(await inflight.shift()!);
  };
  const cutPieces = () => {
    const all = Buffer.concat(buf);
    let off = 0;
    while (all.length - off >= chunkSize) {
      launch(all.subarray(off, off + chunkSize));
      off += chunkSize;
    }
    buf = off < all.length ? [all.subarray(off)] : [];
    buffered = all.length - off;
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      buf.push(chunk);
      buffered += chunk.length;
      if (buffered < chunkSize) return cb();
      cutPieces();
      drainTo(this, workers - 1).then(() => cb(), cb);
    },
    flush(cb) {
      if (buffered > 0 || inflight.length === 0) launch(Buffer.concat(buf));
      buf = [];
      drainTo(this, 0).then(() => cb(), cb);
    },
  });
}

export interface HashingStream {
  /** Pass-through: bytes leave unchanged. */
  readonly stream: Transform;
  /** sha256 of everything that passed; call once the stream has ended. */
  digest(): Digest;
  size(): number;
}

/** A pass-through that hashes (sha256) and counts what flows through it. */
export function hashingStream(): HashingStream {
  const h = createSha256();
  let n = 0;
  let digest: Digest | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
  });
  return {
    stream,
    digest: () => (digest ??= digestOfHash(h)),
    size: () => n,
  };
}
