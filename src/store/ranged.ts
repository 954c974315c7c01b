/**
 * Downloading one big blob as ranged parts in parallel (model weights run to GBs, and one
 * connection is the bottleneck). The parts are written at their offsets into
 * `ingest/ranged-<hex>`; after each part's bytes are written, its index is added to
 * `ingest/ranged-<hex>.parts`, so a pull killed halfway resumes with the parts it lacks.
 * The whole file is hashed in order as its prefix completes (the hash follows the download),
 * and only a file whose size and digest match is renamed into the store. Anything else is
 * deleted: a bad part is never kept.
 *
 * A part is gathered in one buffer and written with one call, past the page cache where the
 * file system allows (direct-write.ts). The hash (and the extraction behind it) takes the
 * part from that buffer; only a resumed pull's earlier parts are read back from the file.
 * Either way the reader gets whole parts it may keep (`release`). Written socket chunk by
 * socket chunk, read back in small buffers and copied again for the extraction thread, a big
 * layer would cost the main thread many write calls and the process much garbage collection
 * (docs/benchmarks.md).
 *
 * The download runs at most AHEAD parts ahead of the hash: a part is fetched only once the
 * parts more than AHEAD before it have been handed on. So the memory a download holds is a
 * few parts whatever the blob's size, and a reader slower than the network (an extraction
 * from a fast registry) holds the download back instead of having it pile parts up.
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.ts';
import { DirectWriter, writeAt } from '../layer/direct-write.ts';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { digestHex, type Digest } from '../oci/digest.ts';
import { settings } from '../config/index.ts';
import { BlobVerifier } from './verifier.ts';

/** Opens bytes `start`..`end` (inclusive) of the blob, or says the source cannot do ranges. */
export type RangeOpener = (start: number, end: number, opts: { signal?: AbortSignal }) => Promise<Readable | 'unsupported'>;

export interface RangedOptions {
  readonly partSize?: number;
  readonly parallel?: number;
  readonly signal?: AbortSignal;
  /**
   * Receives the blob's bytes in order as the hash reads them (parts done before a resume
   * included), so an extraction can run alongside the download. Not ended here: the caller
   * knows whether the whole blob verified.
   */
  readonly inOrder?: Writable;
  /**
   * Called on each part's buffer just before it goes to `inOrder`, when nothing here reads it
   * again: the reader may take the memory over instead of copying it (layer/apply-thread.ts).
   * `exclusive`: the buffer is a view into memory nothing else uses.
   */
  readonly release?: (buf: Buffer, exclusive: boolean) => Buffer;
}

/** A download whose `inOrder` reader went away: the reader's own error says why. */
export class ReaderStoppedError extends BerthError {
  constructor(cause: Error | null) {
    super('INTERNAL', 'the reader of a ranged download stopped', { cause: cause ?? undefined });
  }
}

export const RANGE_PART = settings().rangePart;
const ATTEMPTS = 3;
/** How many parts beyond the next one to hash the workers may fetch or hold: one for each worker. */
const aheadOf = (parallel: number) => parallel;

/** Downloads into `<ingestDir>/ranged-<hex>`, verifies, and renames to `dest`. False: the source cannot do ranges. */
export async function downloadRanged(
  ingestDir: string,
  dest: string,
  expected: Digest,
  size: number,
  openRange: RangeOpener,
  opts: RangedOptions = {},
): Promise<boolean> {
  const partSize = opts.partSize ?? RANGE_PART;
  const count = Math.ceil(size / partSize);
  const file = `${ingestDir}/ranged-${digestHex(expected)}`;
  const record = `${file}.parts`;
  const done = new Set<number>(JSON.parse(await readFile(record, 'utf8').catch(() => '[]')) as number[]);
  if (done.size === 0) await rm(record, { force: true });
  const fh = await open(file, done.size ? 'r+' : 'w+');
  let direct: DirectWriter | undefined;
  let ok = false;
  let synced: Promise<void> | undefined;
  try {
    await fh.truncate(size);
    direct = await DirectWriter.open(file);
    const verifier = new BlobVerifier(expected, size);
    let hashed = 0; // parts fed to the hash, in order
    const held = new Map<number, Buffer>(); // finished parts not hashed yet, by index
    /** Workers waiting for the hash to move on (the window below). */
    const waiting: Array<() => void> = [];
    const wakeWorkers = () => {
      for (const w of waiting.splice(0)) w();
    };
    // Workers finish parts concurrently; the hash takes them one at a time, in order.
    let feeding = Promise.resolve();
    const feed = () =>
      (feeding = feeding.then(async () => {
        while (hashed < count && done.has(hashed)) {
          let buf = held.get(hashed);
          if (buf) held.delete(hashed);
          else buf = await readPart(fh, hashed * partSize, Math.min(partSize, size - hashed * partSize));
          verifier.update(buf);
          if (opts.inOrder) await handTo(opts.inOrder, opts.release ? opts.release(buf, true) : buf);
          hashed++;
          wakeWorkers();
        }
      }));
    await feed();
    let saving = Promise.resolve();
    const pending = [...Array(count).keys()].filter((i) => !done.has(i));
    let next = 0;
    let unsupported = false;
    // The first part that fails stops the others, and the file is closed only once every
    // worker has stopped: a worker left running would write through a closed descriptor,
    // whose number may by then be another file's, and keep its connection open.
    const stop = new AbortController();
    const signal = stop.signal;
    const onAbort = () => stop.abort(opts.signal?.reason);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    signal.addEventListener('abort', wakeWorkers, { once: true });
    let failure: { error: unknown } | undefined;
    const ahead = aheadOf(opts.parallel ?? 4);
    const worker = async () => {
      while (next < pending.length && !unsupported && !signal.aborted) {
        if (pending[next]! > hashed + ahead) {
          await new Promise<void>((wake) => waiting.push(wake));
          continue;
        }
        const part = pending[next++]!;
        const start = part * partSize;
        const len = Math.min(partSize, size - start);
        const buf = await fetchPart(fh, direct, openRange, start, len, { ...opts, signal });
        if (!buf) {
          unsupported = true;
          wakeWorkers(); // a worker waiting for the window would wait for ever
          return;
        }
        held.set(part, buf);
        // Not fsynced part by part: a SIGKILL keeps the page cache, and after a power loss a
        // part that did not reach the disk fails the final digest check, costing a retry.
        done.add(part);
        // The record is rewritten whole, one write at a time, and lists only finished parts.
        saving = saving.then(() => writeFileAtomic(record, JSON.stringify([...done])));
        await saving;
        // Not awaited: this worker fetches its next part meanwhile. A failure (the reader
        // stopped) stops the download, and surfaces again at the final feed below.
        feed().catch(stopOnFailure);
      }
    };
    const stopOnFailure = (error: unknown) => {
      failure ??= { error };
      stop.abort();
    };
    await Promise.all(Array.from({ length: Math.min(opts.parallel ?? 4, pending.length) }, () => worker().catch(stopOnFailure)));
    opts.signal?.removeEventListener('abort', onAbort);
    if (failure) throw failure.error;
    if (unsupported) {
      await rm(record, { force: true });
      await rm(file, { force: true });
      return false;
    }
    // The flush to disk starts now and runs while the hash (and its reader) catch up: on
    // this path it costs as much as the download, and it only writes what the hash reads.
    synced = fh.datasync();
    await feed();
    verifier.verify();
    await synced;
    ok = true;
  } catch (e) {
    // A corrupt result is thrown away; an interrupted one is kept for the next try.
    if (e instanceof BerthError && e.code === 'DATA_CORRUPT') {
      await rm(file, { force: true });
      await rm(record, { force: true });
    }
    throw e;
  } finally {
    await synced?.catch(() => undefined);
    await direct?.close();
    await fh.close();
  }
  if (ok) {
    await rename(file, dest);
    await rm(record, { force: true });
  }
  return true;
}

/** A finished part, read back whole from the file into a buffer of its own. */
async function readPart(fh: FileHandle, start: number, len: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafeSlow(len);
  for (let off = 0; off < len; ) {
    const { bytesRead } = await fh.read(buf, off, len - off, start + off);
    if (bytesRead === 0) throw new BerthError('INTERNAL', 'short read of a downloaded part');
    off += bytesRead;
  }
  return buf;
}

/**
 * Hands `chunk` to the in-order reader, waiting while it is behind. A reader that has
 * stopped (its extraction failed) fails the download at once: waiting for it would wait for
 * ever.
 */
async function handTo(out: Writable, chunk: Buffer): Promise<void> {
  if (out.destroyed || out.writableEnded) throw new ReaderStoppedError(out.errored);
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      out.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      out.off('drain', onDrain);
      reject(new ReaderStoppedError(out.errored));
    };
    out.once('drain', onDrain).once('close', onClose);
  });
}

/**
 * One part, gathered in one buffer and written at its offset with one call; retried when the
 * connection breaks. Undefined when the source ignores ranges.
 */
async function fetchPart(
  fh: FileHandle,
  direct: DirectWriter | undefined,
  openRange: RangeOpener,
  start: number,
  len: number,
  opts: RangedOptions,
): Promise<Buffer | undefined> {
  for (let attempt = 1; ; attempt++) {
    let got = 0;
    try {
      const src = await openRange(start, start + len - 1, { signal: opts.signal });
      if (src === 'unsupported') return undefined;
      const buf = direct ? direct.buffer(len) : Buffer.allocUnsafeSlow(len);
      for await (const chunk of src) {
        const c = chunk as Buffer;
        if (got + c.length > len)
          throw new BerthError('DATA_CORRUPT', `a part of the blob is longer than the ${len} bytes asked for`, {
            hint: 'the source sent more than it was asked for: it was cut off there, and nothing was stored',
          });
        c.copy(buf, got);
        got += c.length;
      }
      if (got !== len) throw new BerthError('UNAVAILABLE', `a part of the blob ended after ${got} of ${len} bytes`);
      await (direct ? direct.write(buf, start, fh) : writeAt(fh, buf, start));
      return buf;
    } catch (e) {
      if (opts.signal?.aborted || (e instanceof BerthError && e.code === 'DATA_CORRUPT') || attempt >= ATTEMPTS) throw e;
    }
  }
}
