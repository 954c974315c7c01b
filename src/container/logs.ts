/**
 * Container logs in Docker's json-file format: one JSON object per line,
 * `{"log":"text\n","stream":"stdout","time":"RFC3339Nano"}`. Writers append; readers tail.
 */
import { closeSync, createReadStream, existsSync, fstatSync, ftruncateSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { reconcile, type ContainerControl } from './control.ts';
import { containerPaths } from './paths.ts';
import { jsonFileLimits, type JsonFileLimits } from './run-config.ts';
import type { ContainerConfigRecord } from './types.ts';

export interface LogLine {
  readonly log: string;
  readonly stream: 'stdout' | 'stderr';
  /** The `labels`/`env` log options' values, when the container has them. */
  readonly attrs?: Readonly<Record<string, string>>;
  readonly time: string;
}

/** Where a container's output goes: its json log, or nowhere (`--log-driver none`). */
export interface LogSink {
  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void;
  close(): Promise<void>;
}

export interface JsonLogOptions {
  /** Rotate once the live file holds this many bytes (docker's `max-size`); unset: never. */
  readonly maxSize?: number;
  /** Files kept, the live one included (docker's `max-file`); 1 truncates the live file instead. */
  readonly maxFile?: number;
  /** Written into every line as docker's `attrs` (the `labels`/`env` log options). */
  readonly attrs?: Readonly<Record<string, string>>;
}

/**
 * Splits each stream on newlines and appends JSON lines to the shared file, rotating it as
 * docker's json-file does: after the line that reaches `maxSize`, `log.N-1` … `log.1` move one
 * up (the oldest is dropped) and the live file becomes `log.1`. Writes are synchronous: a
 * rotation renames files between two lines, never inside one.
 */
export class JsonLogWriter implements LogSink {
  private fd: number;
  private size: number;
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private readonly attrs?: Readonly<Record<string, string>>;

  constructor(
    private readonly path: string,
    private readonly opts: JsonLogOptions = {},
  ) {
    this.fd = openSync(path, 'a', 0o600); // the container's output is its own
    this.size = fstatSync(this.fd).size;
    this.attrs = opts.attrs && Object.keys(opts.attrs).length ? opts.attrs : undefined;
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    const text = this.partial[stream] + chunk.toString();
    const lines = text.split('\n');
    this.partial[stream] = lines.pop()!;
    this.append(
      lines.map((l) => `${l}\n`),
      stream,
    );
  }

  stream(name: 'stdout' | 'stderr'): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.write(name, chunk);
        cb();
      },
    });
  }

  /** Writes the lines of one chunk with as few writes as rotation allows: one, unless a line crosses max-size. */
  private append(logs: readonly string[], stream: 'stdout' | 'stderr'): void {
    const time = new Date().toISOString();
    let pending: string[] = [];
    let pendingBytes = 0;
    const flush = () => {
      if (!pending.length) return;
      const buf = Buffer.from(pending.join(''));
      for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off);
      this.size += buf.length;
      pending = [];
      pendingBytes = 0;
    };
    for (const log of logs) {
      const line = `${JSON.stringify(this.attrs ? { log, stream, attrs: this.attrs, time } : { log, stream, time })}\n`;
      pending.push(line);
      pendingBytes += Buffer.byteLength(line);
      if (this.opts.maxSize !== undefined && this.size + pendingBytes >= this.opts.maxSize) {
        flush();
        this.rotate();
      }
    }
    flush();
  }

  private rotate(): void {
    const keep = this.opts.maxFile ?? 1;
    if (keep < 2) {
      ftruncateSync(this.fd, 0);
      this.size = 0;
      return;
    }
    closeSync(this.fd);
    rmSync(`${this.path}.${keep - 1}`, { force: true });
    for (let i = keep - 1; i >= 2; i--) renameIfThere(`${this.path}.${i - 1}`, `${this.path}.${i}`);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = 0;
  }

  async close(): Promise<void> {
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s]) this.append([this.partial[s]], s);
      this.partial[s] = '';
    }
    closeSync(this.fd);
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** The sink for `--log-driver none`: the output is shown to whoever is attached, and kept nowhere. */
const DISCARD: LogSink = { write: () => undefined, close: async () => undefined };

/** The `attrs` of each line: the container labels and env variables the `labels`/`env` options name or their `-regex` options match, as docker's json-file writes them. */
function logAttrs(config: ContainerConfigRecord, limits: JsonFileLimits): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const k of limits.labels) if (config.labels[k] !== undefined) attrs[k] = config.labels[k];
  if (limits.labelsRegex) for (const [k, v] of Object.entries(config.labels)) if (limits.labelsRegex.test(k)) attrs[k] = v;
  const env = new Map<string, string>();
  for (const e of config.env) {
    const eq = e.indexOf('=');
    if (eq > 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  for (const k of limits.env) if (env.has(k)) attrs[k] = env.get(k)!;
  if (limits.envRegex) for (const [k, v] of env) if (limits.envRegex.test(k)) attrs[k] = v;
  return attrs;
}

/** The sink a container's log driver asks for. */
export function openLogSink(path: string, config: ContainerConfigRecord): LogSink {
  if (config.logConfig?.type === 'none') return DISCARD;
  const limits = jsonFileLimits(config.logConfig?.config ?? {}, config.logConfig?.type);
  return new JsonLogWriter(path, { maxSize: limits.maxSize, maxFile: limits.maxFile, attrs: logAttrs(config, limits) });
}

/** A log's files oldest first: the rotated ones (`log.N` … `log.1`) that exist, then the live one. */
export function logFiles(path: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; existsSync(`${path}.${i}`); i++) rotated.unshift(`${path}.${i}`);
  return [...rotated, path];
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
 * Visits every line of a log, its rotated files first (oldest first), at the visitor's pace;
 * resolves with where a follow of the live file goes on from.
 */
export async function eachLogLineRotated(path: string, visit: (l: LogLine) => unknown, opts: { signal?: AbortSignal } = {}): Promise<number> {
  const files = logFiles(path);
  for (const f of files.slice(0, -1)) await eachLogLine(f, 0, visit, opts);
  return eachLogLine(path, 0, visit, opts);
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
    // The live file shrank: it was rotated, and what followed `end` is in `log.1` now.
    if (((await stat(path).catch(() => undefined))?.size ?? 0) < end) {
      await eachLogLine(`${path}.1`, end, emit, opts);
      end = 0;
    }
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
