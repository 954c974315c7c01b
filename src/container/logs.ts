/**
 * Container logs in Docker's json-file format: one JSON object per line,
 * `{"log":"text\n","stream":"stdout","time":"RFC3339Nano"}`. Writers append; readers tail.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { reconcile, type ContainerControl } from './control.ts';
import { containerPaths } from './paths.ts';

export interface LogLine {
  readonly log: string;
  readonly stream: 'stdout' | 'stderr';
  readonly time: string;
}

/** A Writable per stream that splits on newlines and appends JSON lines to the shared file. */
export class JsonLogWriter {
  private readonly file: WriteStream;
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  constructor(path: string) {
    this.file = createWriteStream(path, { flags: 'a', mode: 0o600 }); // the container's output is its own
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    const text = this.partial[stream] + chunk.toString();
    const lines = text.split('\n');
    this.partial[stream] = lines.pop()!;
    for (const l of lines) this.file.write(`${JSON.stringify({ log: `${l}\n`, stream, time: new Date().toISOString() })}\n`);
  }

  stream(name: 'stdout' | 'stderr'): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.write(name, chunk);
        cb();
      },
    });
  }

  async close(): Promise<void> {
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s]) this.file.write(`${JSON.stringify({ log: this.partial[s], stream: s, time: new Date().toISOString() })}\n`);
      this.partial[s] = '';
    }
    await new Promise<void>((r) => this.file.end(() => r()));
  }
}

/**
 * Visits the whole log lines from byte `start` to the file's present end, one at a time,
 * waiting for each visit: a slow consumer slows the reading, and the file is never held
 * whole (a log can be gigabytes). Stops early when `signal` aborts. Resolves with the byte
 * after the last whole line visited, where a later read goes on.
 */
export async function eachLogLine(path: string, start: number, visit: (l: LogLine) => unknown, opts: { signal?: AbortSignal } = {}): Promise<number> {
  const size = (await stat(path).catch(() => undefined))?.size ?? 0;
  if (size <= start) return start;
  const rl = createInterface({ input: createReadStream(path, { start, end: size - 1 }), crlfDelay: Infinity });
  let consumed = start;
  try {
    for await (const l of rl) {
      if (opts.signal?.aborted) break;
      if (l) {
        let line: LogLine;
        try {
          line = JSON.parse(l) as LogLine;
        } catch {
          break; // a line being written right now: read it next time
        }
        consumed += Buffer.byteLength(l) + 1;
        const pending = visit(line);
        if (pending instanceof Promise) await pending;
      } else consumed += 1;
    }
  } finally {
    rl.close();
  }
  return Math.min(consumed, size);
}

export async function readLogLines(path: string, opts: { start?: number } = {}): Promise<{ lines: LogLine[]; end: number }> {
  const lines: LogLine[] = [];
  const end = await eachLogLine(path, opts.start ?? 0, (l) => {
    lines.push(l);
  });
  return { lines, end };
}

/**
 * Emits a container's log lines from byte `start` on, as they are written, until nobody runs
 * the container any more (its recorder gone is the same as its exit); then the last lines.
 * An `emit` that returns a promise is waited for before the next line.
 */
export async function followLog(
  engine: ContainerControl,
  id: string,
  start: number,
  emit: (l: LogLine) => unknown,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const records = engine.containers;
  const path = containerPaths(engine, id).log;
  let end = start;
  for (;;) {
    end = await eachLogLine(path, end, emit, opts);
    const cur = records.get(id);
    if (!cur || (await reconcile(engine, cur)).state.status !== 'running') {
      await eachLogLine(path, end, emit, opts);
      return;
    }
    if (opts.signal?.aborted) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
