/**
 * Extracting a big layer on a worker thread. Extraction makes its file system calls in line
 * (apply.ts), which is the fast way for one thread, but a pull also has the download, the
 * blob's hash and the ranged parts to serve: on the main thread the two take turns, on two
 * threads they run at once.
 *
 * The worker is this same program (`bin/berth.cjs`, bundle or sources) started with
 * the argument WORKER_ARG and `workerData.berthWorker === 'apply-layer'`; the CLI names its entry at startup
 * (worker-entry.ts). Without an entry (code that imports the layer module directly, as the
 * tests do) extraction runs in line, the same code either way. The tar's bytes are posted to
 * the worker as they arrive, with credit-based flow control so that a slow disk holds the
 * download back instead of filling memory.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { realpathSync } from 'node:fs';
import { Readable } from 'node:stream';
import { BerthError, errorFromPosted, postedError, type PostedError } from '../errors/index.ts';
import { applyLayer, type ApplyOptions, type ApplyResult } from './apply.ts';
import { WORKER_ARG, workerEntry, type WorkerKind } from './worker-entry.ts';
import { mark } from '../progress/timing.ts';

/** Bytes the worker may have queued before the sender waits for it to catch up. */
const CREDIT = 8 << 20;

/** Memory given up by whoever wrote it (`releaseBuffer`): sent to the worker without a copy. */
/** Released memory, and the one view of it that may be moved. */
const released = new WeakMap<ArrayBufferLike, { readonly offset: number; readonly length: number }>();

/**
 * Marks a buffer that nothing will read again once it is written to an extraction's input,
 * so the extraction thread takes its memory over instead of copying it. Only a buffer that
 * owns all of its memory qualifies (not a view into a pool or a bigger buffer), or one the
 * caller calls `exclusive`: a view into memory that nothing else uses.
 */
export function releaseBuffer(buf: Buffer, exclusive = false): Buffer {
  if (exclusive || (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength))
    released.set(buf.buffer, { offset: buf.byteOffset, length: buf.byteLength });
  return buf;
}

type ToWorker = { chunk: Uint8Array } | { end: true } | { error: string };
type FromWorker = { credit: number } | { result: ApplyResult } | { failure: PostedError };

/** Applies the layer on a worker thread when one can be started, in line otherwise. */
export async function applyLayerOffThread(input: Readable, target: string, opts: ApplyOptions): Promise<ApplyResult> {
  const entry = workerEntry();
  if (!entry) return applyLayer(input, target, opts);
  // The input may fail before the sending loop below reads it (the worker module loads
  // first): the loop still sees that error, and the process does not die of it meanwhile.
  input.on('error', () => undefined);
  // The entry is bin/berth.cjs (or a link to it): the worker must load it as CommonJS.
  const worker = new Worker(realpathSync(entry), {
    argv: [WORKER_ARG],
    workerData: { berthWorker: 'apply-layer' satisfies WorkerKind, target, whiteouts: opts.whiteouts },
    stdout: false,
    stderr: false,
  });
  let credit = CREDIT;
  let wake: (() => void) | undefined;
  const settled = new Promise<ApplyResult>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if ('credit' in m) {
        credit += m.credit;
        wake?.();
      } else if ('result' in m) resolve(m.result);
      else reject(errorFromPosted(m.failure));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new BerthError('INTERNAL', `the layer extraction thread exited (${code}) before it finished`)));
  });
  let finished = false;
  const over = settled.then(
    () => void (finished = true),
    () => void (finished = true),
  );
  const onAbort = (): void => void worker.terminate();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const send = (async () => {
      for await (const chunk of input) {
        const c = chunk as Buffer;
        while (credit <= 0 && !finished) await Promise.race([new Promise<void>((r) => (wake = r)), over]);
        if (finished) break; // the worker is done (or gone): nothing more to send
        credit -= c.length;
        // Moved rather than cloned. A copy unless released: the chunk itself may still be read
        // here (a pull also writes it to the content store), or be a view into a bigger buffer.
        const r = released.get(c.buffer);
        const mine = r !== undefined && r.offset === c.byteOffset && r.length === c.byteLength;
        const moved = mine ? new Uint8Array(c.buffer as ArrayBuffer, c.byteOffset, c.byteLength) : new Uint8Array(c);
        worker.postMessage({ chunk: moved } satisfies ToWorker, [moved.buffer]);
      }
      if (!finished) worker.postMessage({ end: true } satisfies ToWorker);
    })();
    // A failure to read the input ends the worker's stream with it; an extraction that fails
    // first stops the sending through `settled`.
    send.catch((e: unknown) => worker.postMessage({ error: (e as Error).message } satisfies ToWorker));
    const result = await settled;
    if (opts.signal?.aborted) throw new BerthError('CANCELLED', 'layer extraction was cancelled');
    return result;
  } catch (e) {
    if (opts.signal?.aborted) throw new BerthError('CANCELLED', 'layer extraction was cancelled', { cause: e });
    input.destroy();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // No write of the worker may outlive the call: the caller deletes the target on failure.
    await worker.terminate();
  }
}

/** The worker thread's side: rebuild the stream from messages, apply, report. */
export async function runApplyWorker(data: { target: string; whiteouts: ApplyOptions['whiteouts'] }): Promise<void> {
  const port = parentPort!;
  const input = new Readable({ read: () => undefined, highWaterMark: 1 << 20 });
  port.on('message', (m: ToWorker) => {
    if ('chunk' in m) input.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
    else if ('end' in m) input.push(null);
    else input.destroy(new BerthError('UNAVAILABLE', m.error));
  });
  // Credit goes back as the extraction consumes bytes, not as they arrive.
  input.on('data', (c: Buffer) => port.postMessage({ credit: c.length } satisfies FromWorker));
  input.pause();
  try {
    const result = await applyLayer(input, data.target, { whiteouts: data.whiteouts });
    mark('layer extracted on a worker thread');
    port.postMessage({ result } satisfies FromWorker);
  } catch (e) {
    mark('layer extracted on a worker thread', 'failed');
    port.postMessage({ failure: postedError(e) } satisfies FromWorker);
  }
  port.close();
}
