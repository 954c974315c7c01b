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

export async function readLogLines(path: string, opts: { start?: number } = {}): Promise<{ lines: LogLine[]; end: number }> {
  const size = (await stat(path).catch(() => undefined))?.size ?? 0;
  const start = opts.start ?? 0;
  if (size <= start) return { lines: [], end: start };
  const lines: LogLine[] = [];
  const rl = createInterface({ input: createReadStream(path, { start, end: size - 1 }), crlfDelay: Infinity });
  let consumed = start;
  for await (const l of rl) {
    consumed += Buffer.byteLength(l) + 1;
    if (!l) continue;
    try {
      lines.push(JSON.parse(l) as LogLine);
    } catch {
      /* a line being written right now: read it next time */
      consumed -= Buffer.byteLength(l) + 1;
      break;
    }
  }
  return { lines, end: Math.min(consumed, size) };
}

/**
 * Emits a container's log lines from byte `start` on, as they are written, until nobody runs
 * the container any more (its recorder gone is the same as its exit); then the last lines.
 */
export async function followLog(
  engine: ContainerControl,
  id: string,
  start: number,
  emit: (l: LogLine) => void,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const records = engine.containers;
  const path = containerPaths(engine, id).log;
  let end = start;
  for (;;) {
    const next = await readLogLines(path, { start: end });
    next.lines.forEach(emit);
    end = next.end;
    const cur = records.get(id);
    if (!cur || (await reconcile(engine, cur)).state.status !== 'running') {
      (await readLogLines(path, { start: end })).lines.forEach(emit);
      return;
    }
    if (opts.signal?.aborted) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
