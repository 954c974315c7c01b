/**
 * The content store: blobs by digest under `<root>/content/blobs/sha256/<hex>`.
 *
 * Contract: a blob is visible only once it is whole and verified. Writers stream into
 * `content/ingest/<random>`, hashing as they go; `commit()` checks size and digest,
 * fsyncs, and renames into place. Two processes ingesting the same blob both succeed:
 * rename is atomic and the content is identical by construction. A partial download
 * (`resume-<hex>`, `ranged-<hex>`) has one writer at a time (the process lease's ingest lock,
 * store/leases.ts): the others wait, then find the blob or resume the file. A crash leaves at
 * most a stray ingest file, which `system prune` removes once no live process owns it.
 */
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fsync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type ReadStream,
} from 'node:fs';
import { open as open_, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, errnoCode } from '../errors/index.ts';
import { digestHex, isDigest, type Digest } from '../oci/digest.ts';
import { randomHex } from '../sys/crypto.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { IngestWriter, type ContentInfo, type ContentWriter } from './ingest-writer.ts';
import { downloadRanged, type RangedOptions, type RangeOpener } from './ranged.ts';
import { BlobVerifier, digestOfFile, verifyBytes } from './verifier.ts';

export type { ContentInfo, ContentWriter } from './ingest-writer.ts';

export interface ContentProvider {
  has(digest: Digest): Promise<boolean>;
  info(digest: Digest): Promise<ContentInfo>;
  /** A fresh stream of the blob; throws NOT_FOUND. */
  open(digest: Digest, opts?: { start?: number }): Promise<Readable>;
  readBytes(digest: Digest): Promise<Buffer>;
  /** Path of the blob file, for zero-copy readers such as tar extraction. */
  pathOf(digest: Digest): string;
}

export interface ContentIngester {
  ingest(opts?: { expected?: Digest; expectedSize?: number }): Promise<ContentWriter>;
  /** Convenience: stream a Readable into the store, verified. */
  put(source: Readable | Buffer | string, opts?: { expected?: Digest; expectedSize?: number; signal?: AbortSignal }): Promise<ContentInfo>;
}

export interface ContentResumer {
  /**
   * Stores a blob that may have been partly downloaded before: bytes already in
   * `ingest/resume-<hex>` are hashed and kept, and `open(start)` supplies the rest. The
   * partial file survives a failure (or a SIGKILL) for the next try; a digest mismatch
   * deletes it.
   */
  putResumable(expected: Digest, expectedSize: number, open: (start: number) => Promise<Readable>, opts?: { signal?: AbortSignal }): Promise<ContentInfo>;
  /**
   * Stores a big blob fetched as ranged parts in parallel, resumable by part (ranged.ts).
   * Undefined when the source turns out not to serve ranges: use putResumable then.
   */
  putRanged(expected: Digest, expectedSize: number, openRange: RangeOpener, opts?: RangedOptions): Promise<ContentInfo | undefined>;
}

export interface ContentManager {
  delete(digest: Digest): Promise<void>;
  walk(): AsyncIterable<ContentInfo>;
  /** Recomputes a blob's digest; false when the bytes no longer match their name. */
  verify(digest: Digest): Promise<boolean>;
  /** The files in `ingest/`: writes in progress, or left by a crash. */
  listIngests(): IngestEntry[];
}

export interface IngestEntry {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  /** Last change (ms): a crashed write stops changing. */
  readonly changedMs: number;
  /** The digest hex a partial download (`resume-`, `ranged-`, `.parts`) is of, when it is one. */
  readonly partialOf?: string;
}

/** What the content store needs of the process lease (store/leases.ts). */
export interface IngestLease {
  /** Called before a write creates a file in the store. */
  hold(): void;
  lockIngest(name: string, signal?: AbortSignal): Promise<() => void>;
}

export type ContentStore = ContentProvider & ContentIngester & ContentManager & ContentResumer;

const SMALL_BLOB = 1 << 20;

export class LocalContentStore implements ContentStore {
  private readonly blobsDir: string;
  private readonly ingestDir: string;
  /** Set by the engine; without it (a bare store in a unit test) nothing is locked. */
  lease: IngestLease | undefined;

  constructor(root: string) {
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<this> {
    // 0700 as made (content/ too): store/private-root.ts
    mkdirSync(this.blobsDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.ingestDir, { recursive: true, mode: 0o700 });
    return this;
  }

  pathOf(digest: Digest): string {
    if (!isDigest(digest)) throw new BerthError('INVALID_ARGUMENT', `invalid digest "${digest}"`);
    return join(this.blobsDir, digestHex(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    // In line: a stat of a local file takes microseconds, a trip through the thread pool more.
    try {
      statSync(this.pathOf(digest));
      return true;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
  }

  async info(digest: Digest): Promise<ContentInfo> {
    try {
      const st = await stat(this.pathOf(digest));
      return { digest, size: st.size };
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new BerthError('NOT_FOUND', `content ${digest} not found`);
      throw e;
    }
  }

  async open(digest: Digest, opts: { start?: number } = {}): Promise<Readable> {
    await this.info(digest);
    return createReadStream(this.pathOf(digest), { start: opts.start, highWaterMark: 1 << 20 }) as ReadStream;
  }

  /** A blob's bytes; one of up to 1 MB (a config, a manifest) in line, spared four trips through the thread pool. */
  async readBytes(digest: Digest): Promise<Buffer> {
    try {
      const path = this.pathOf(digest);
      if (statSync(path).size <= SMALL_BLOB) return readFileSync(path);
      return await readFile(path);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new BerthError('NOT_FOUND', `content ${digest} not found`);
      throw e;
    }
  }

  async ingest(opts: { expected?: Digest; expectedSize?: number } = {}): Promise<ContentWriter> {
    this.lease?.hold();
    const tmp = join(this.ingestDir, `${Date.now()}-${randomHex(8)}`);
    return new IngestWriter(tmp, this.blobsDir, opts.expected, opts.expectedSize);
  }

  async put(source: Readable | Buffer | string, opts: { expected?: Digest; expectedSize?: number; signal?: AbortSignal } = {}): Promise<ContentInfo> {
    if (typeof source === 'string' || Buffer.isBuffer(source)) return this.putBytes(Buffer.from(source), opts);
    if (opts.expected && (await this.has(opts.expected))) {
      source.destroy();
      return this.info(opts.expected);
    }
    const w = await this.ingest(opts);
    try {
      await pipeline(source, w, { signal: opts.signal, end: true });
      return await w.commit();
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  /**
   * A blob already in memory (a config, a manifest): hashed and checked against what the
   * caller expects first, so that one stored already is looked up once and not written
   * again; a new one is written with one handle instead of a write stream.
   */
  private async putBytes(bytes: Buffer, opts: { expected?: Digest; expectedSize?: number }): Promise<ContentInfo> {
    const digest = verifyBytes(bytes, opts.expected, opts.expectedSize);
    if (await this.has(digest)) return { digest, size: bytes.length };
    this.lease?.hold();
    const tmp = join(this.ingestDir, `${Date.now()}-${randomHex(8)}`);
    // A blob in memory is a config or a manifest (layers come as streams): its calls are made
    // in line, but for the fsync, which waits on the disk.
    try {
      const fd = openSync(tmp, 'wx', 0o644);
      try {
        for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
        await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(this.blobsDir, digestHex(digest)));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return { digest, size: bytes.length };
  }

  async putResumable(
    expected: Digest,
    expectedSize: number,
    open: (start: number) => Promise<Readable>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<ContentInfo> {
    return this.locked(expected, opts.signal, () => this.resume(expected, expectedSize, open, opts));
  }

  /**
   * Runs `write` as the one writer of the partial download of `expected`, unless the blob is
   * there already, or is once another process's download of it ends.
   */
  private async locked<T>(expected: Digest, signal: AbortSignal | undefined, write: () => Promise<T>): Promise<T | ContentInfo> {
    if (await this.has(expected)) return { ...(await this.info(expected)), found: true };
    const unlock = await this.lease?.lockIngest(digestHex(expected), signal);
    try {
      if (unlock && (await this.has(expected))) return { ...(await this.info(expected)), found: true };
      return await write();
    } finally {
      unlock?.();
    }
  }

  private async resume(
    expected: Digest,
    expectedSize: number,
    open: (start: number) => Promise<Readable>,
    opts: { signal?: AbortSignal },
  ): Promise<ContentInfo> {
    const partial = join(this.ingestDir, `resume-${digestHex(expected)}`);
    // The bytes kept from an earlier try are hashed first. A file longer than the blob is
    // started over; one that cannot be read (usually: there is none) starts from nothing.
    let verifier = new BlobVerifier(expected, expectedSize);
    try {
      for await (const c of createReadStream(partial)) verifier.update(c as Buffer);
    } catch (e) {
      if (e instanceof BerthError) {
        await rm(partial, { force: true });
        return this.resume(expected, expectedSize, open, opts);
      }
      verifier = new BlobVerifier(expected, expectedSize);
    }
    const offset = verifier.size;
    if (offset < expectedSize) {
      const src = await open(offset);
      const out = createWriteStream(partial, { flags: offset ? 'a' : 'w' });
      await pipeline(
        src,
        new Writable({
          write(chunk: Buffer, _e, cb) {
            try {
              verifier.update(chunk);
            } catch (e) {
              return cb(e as Error);
            }
            if (!out.write(chunk)) out.once('drain', () => cb());
            else cb();
          },
          final(cb) {
            out.end(() => cb());
          },
        }),
        { signal: opts.signal },
      ).catch(async (e: unknown) => {
        await new Promise<void>((r) => out.end(() => r()));
        if (e instanceof BerthError && e.code === 'DATA_CORRUPT') await rm(partial, { force: true });
        throw e;
      });
    }
    try {
      verifier.verify();
      // What was hashed went to the file by a stream of its own: the file must hold all of it.
      const onDisk = (await stat(partial)).size;
      if (onDisk !== expectedSize) throw new BerthError('DATA_CORRUPT', `blob ${expected}: expected ${expectedSize} bytes in ${partial}, found ${onDisk}`);
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
    const fh = await open_(partial, 'r');
    await fh.sync();
    await fh.close();
    await rename(partial, this.pathOf(expected));
    return { digest: expected, size: expectedSize };
  }

  async putRanged(expected: Digest, expectedSize: number, openRange: RangeOpener, opts: RangedOptions = {}): Promise<ContentInfo | undefined> {
    return this.locked(expected, opts.signal, async () => {
      const stored = await downloadRanged(this.ingestDir, this.pathOf(expected), expected, expectedSize, openRange, opts);
      return stored ? { digest: expected, size: expectedSize } : undefined;
    });
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
  }

  async *walk(): AsyncIterable<ContentInfo> {
    for (const name of await readdir(this.blobsDir)) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      const st = await stat(join(this.blobsDir, name)).catch(() => undefined);
      if (st) yield { digest, size: st.size };
    }
  }

  async verify(digest: Digest): Promise<boolean> {
    return (await digestOfFile(this.pathOf(digest))) === digest;
  }

  listIngests(): IngestEntry[] {
    const entries: IngestEntry[] = [];
    let names: string[];
    try {
      names = readdirSync(this.ingestDir);
    } catch {
      return entries;
    }
    for (const name of names) {
      const path = join(this.ingestDir, name);
      const st = lstatOrUndefined(path);
      if (!st) continue; // finished (renamed into place) since the listing
      const partial = /^(?:resume|ranged)-([0-9a-f]{64})(?:\.parts)?$/.exec(name)?.[1];
      entries.push({ name, path, size: st.size, changedMs: Math.max(st.mtimeMs, st.ctimeMs), partialOf: partial });
    }
    return entries;
  }
}
