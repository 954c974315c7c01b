/**
 * The Engine API's request and reply helpers: one `ApiContext` per request, bounded body
 * reads, JSON replies, docker's error body, and the JSON message stream that pull, push,
 * build and load answer with. A handler sees only this, never Node's server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { statusFor } from './status.ts';

/** Query parameters as docker reads them: the CLI sends `1`/`0`, dockerode `true`/`false`. */
export class Query {
  constructor(readonly params: URLSearchParams) {}

  get(key: string): string | undefined {
    return this.params.get(key) ?? undefined;
  }

  all(key: string): string[] {
    return this.params.getAll(key);
  }

  /** dockerd's rule: anything but "", 0, no, false and none is true; absent is `fallback`. */
  bool(key: string, fallback = false): boolean {
    const v = this.params.get(key);
    if (v === null) return fallback;
    return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
  }

  /** An integer parameter; absent gives `fallback`, anything but an integer is a 400. */
  int(key: string, fallback?: number): number | undefined {
    const v = this.params.get(key);
    if (v === null || v === '') return fallback;
    if (!/^-?\d+$/.test(v)) throw new BerthError('INVALID_ARGUMENT', `invalid value for ${key}: ${JSON.stringify(v)}`);
    return Number(v);
  }

  /** A JSON-valued parameter (`filters`, `buildargs`, `labels`...); absent or empty gives `fallback`. */
  json<T>(key: string, fallback: T): T {
    const v = this.params.get(key);
    if (v === null || v === '' || v === 'null') return fallback;
    try {
      return JSON.parse(v) as T;
    } catch {
      throw new BerthError('INVALID_ARGUMENT', `invalid ${key} parameter: not JSON`);
    }
  }
}

/** What the client asked to upgrade to a raw stream (attach, exec start): its socket and first bytes. */
export interface Upgrade {
  readonly socket: Duplex;
}

export interface ApiContext {
  readonly method: string;
  /** The path without its `/vX.Y` prefix, not decoded (image names keep their `/` and `:`). */
  readonly path: string;
  /** The API version the client asked for (its path prefix), or the server's own. */
  readonly version: string;
  readonly query: Query;
  /** The path's captures, decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly req: IncomingMessage;
  /** The reply, for every request that did not ask for an upgrade. */
  readonly res?: ServerResponse;
  /** Set when the request carried `Connection: Upgrade` (hijack). */
  readonly upgrade?: Upgrade;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /**
   * The request body, read whole, at most `limit` bytes (a larger one is a 413-style 400).
   * Uploads that can be big (build, load, archive) read `req` as a stream instead.
   */
  body(limit?: number): Promise<Buffer>;
}

/** JSON bodies (create, exec, network...) are small; anything bigger is a mistake or an attack. */
export const JSON_BODY_LIMIT = 4 << 20;

/** The body as JSON, `{}` when empty; malformed JSON is a 400 with docker's wording. */
export async function readJson<T = Record<string, unknown>>(ctx: ApiContext, limit = JSON_BODY_LIMIT): Promise<T> {
  const raw = await ctx.body(limit);
  if (!raw.length) return {} as T;
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch (e) {
    throw new BerthError('INVALID_ARGUMENT', `invalid JSON: ${(e as Error).message}`);
  }
}

/** Reads a whole body stream, refusing more than `limit` bytes without reading them all. */
export function readBounded(stream: NodeJS.ReadableStream, limit: number, head: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = head.length ? [head] : [];
    let size = head.length;
    const fail = (e: Error) => {
      stream.removeListener('data', onData);
      reject(e);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) return fail(new BerthError('INVALID_ARGUMENT', `request body is too large: more than ${limit} bytes`));
      parts.push(c);
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', fail);
  });
}

/** The headers dockerd puts on every reply; clients read `Api-Version` and `Ostype`. */
export function commonHeaders(apiVersion: string, serverVersion: string): Record<string, string> {
  return {
    'Api-Version': apiVersion,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `Docker/${serverVersion} (linux)`,
  };
}

export function sendJson(ctx: ApiContext, status: number, body: unknown): void {
  const res = requireRes(ctx);
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A reply with no body: 204 for start/stop/rm, 201 for tag, 304 for a no-op stop. */
export function sendEmpty(ctx: ApiContext, status: number): void {
  const res = requireRes(ctx);
  res.writeHead(status, status === 204 || status === 304 ? {} : { 'Content-Length': 0 });
  res.end();
}

/** docker's error reply: `{"message": ...}` under the status its code maps to. */
export function errorReply(e: unknown): { status: number; body: { message: string } } {
  if (e instanceof BerthError) return { status: statusFor(e), body: { message: e.message } };
  return { status: 500, body: { message: e instanceof Error ? e.message : String(e) } };
}

function requireRes(ctx: ApiContext): ServerResponse {
  if (!ctx.res) throw new BerthError('INVALID_ARGUMENT', `${ctx.path} does not take an upgraded connection`);
  return ctx.res;
}

/**
 * The JSON message stream of pull, push, build and load: 200 at once, then one object and
 * `\r\n` per message, each flushed. An error after the start goes in-stream as
 * `{"errorDetail":{...},"error":...}`, as docker does, since the status is already sent.
 */
export class JsonMessageStream {
  private started = false;

  constructor(private readonly ctx: ApiContext) {}

  write(message: Record<string, unknown>): void {
    const res = requireRes(this.ctx);
    if (!this.started) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      this.started = true;
    }
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(message)}\r\n`);
  }

  /** Ends the stream with `e` in it; before any message, an ordinary error reply instead. */
  fail(e: unknown, code?: number): void {
    if (!this.started) throw e;
    const message = e instanceof Error ? e.message : String(e);
    this.write({ errorDetail: code === undefined ? { message } : { code, message }, error: message });
    this.end();
  }

  end(): void {
    const res = requireRes(this.ctx);
    if (!this.started) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      this.started = true;
    }
    res.end();
  }
}
