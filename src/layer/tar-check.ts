/**
 * A pass-through stream that lets bytes on only as fast as the tar reader (tar-reader.ts)
 * accepts them: a stream that is not a tar fails at its first bad header, before its bytes
 * are stored, and what follows the end of the archive is bounded. For `berth import`, whose
 * input has no digest to check and may be endless (`/dev/zero`).
 */
import { Transform } from 'node:stream';
import { readTar } from './tar-reader.ts';

/** Bytes allowed after the end-of-archive blocks: tar's own record padding, with room to spare. */
const MAX_TRAILING = 1 << 20;

export function tarCheck(): Transform {
  // A one-chunk hand-over between the stream and the reader: a chunk goes on downstream
  // once the reader asks for the next one (it is done with this one) or has stopped.
  let offered: { chunk: Buffer; consumed: () => void } | undefined;
  let waiting: ((r: IteratorResult<Buffer>) => void) | undefined;
  let lastConsumed: (() => void) | undefined;
  let ended = false;
  const next = (): Promise<IteratorResult<Buffer>> => {
    lastConsumed?.();
    lastConsumed = undefined;
    if (offered) {
      const o = offered;
      offered = undefined;
      lastConsumed = o.consumed;
      return Promise.resolve({ value: o.chunk, done: false });
    }
    if (ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (waiting = resolve));
  };
  const offer = (chunk: Buffer) =>
    new Promise<void>((consumed) => {
      if (!waiting) offered = { chunk, consumed };
      else {
        const give = waiting;
        waiting = undefined;
        lastConsumed = consumed;
        give({ value: chunk, done: false });
      }
    });
  const source: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next }) };
  const reading = (async () => {
    for await (const entry of readTar(source, { maxTrailing: MAX_TRAILING })) void entry; // bodies are skipped
  })();
  reading.catch(() => undefined); // reported through the stream
  const failed = reading.then(
    () => undefined,
    (e: unknown) => e,
  );
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      void Promise.race([offer(chunk).then(() => undefined), failed]).then((e) => cb((e as Error | undefined) ?? null, e ? undefined : chunk));
    },
    flush(cb) {
      ended = true;
      lastConsumed?.();
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
      void failed.then((e) => cb((e as Error | undefined) ?? null));
    },
  });
}
