/**
 * Raw streams for attach, exec start and logs. An upgraded request gets
 * `101 UPGRADED` and then the bare socket both ways; dockerode's plain attach gets a
 * `200` whose body is the stream. Output is multiplexed (an 8-byte header per write:
 * stream type, three zero bytes, the length big-endian) exactly when the target has no
 * TTY; a TTY's output and the client's stdin are always raw. The client's half-close
 * ends stdin only: output flows until the process is done.
 */
import type { Readable } from 'node:stream';
import type { ApiContext } from './http.ts';
import { versionAtLeast } from './router.ts';

export enum StreamType {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  SystemErr = 3,
}

export function frame(type: StreamType, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** The Content-Type docker gives a stream: one label for both before API 1.42, two after. */
export function streamContentType(version: string, multiplexed: boolean): string {
  return multiplexed && versionAtLeast(version, '1.42') ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
}

export interface RawStream {
  /**
   * Sends output to the client, framed when the stream is multiplexed. False when the client
   * is not keeping up: the writer should wait for `drain` before it sends more (see `relay`).
   */
  write(type: StreamType.Stdout | StreamType.Stderr | StreamType.SystemErr, data: Buffer): boolean;
  /** Resolves once what was written has gone to the client (or the client is gone). */
  drain(): Promise<void>;
  /** The client's raw input (stdin), ending at its half-close; absent for a plain 200 stream. */
  readonly input?: Readable;
  /** Resolves when the client has gone away (or the stream was ended). */
  readonly closed: Promise<void>;
  /** Flushes what was written and closes the connection. */
  end(): Promise<void>;
}

/** Answers `ctx` with a raw stream: 101 for an upgrade request, 200 otherwise. */
export function openRawStream(ctx: ApiContext, opts: { multiplexed: boolean }): RawStream {
  const contentType = streamContentType(ctx.version, opts.multiplexed);
  const encode = (type: StreamType, data: Buffer): Buffer => (opts.multiplexed ? frame(type, data) : data);
  if (ctx.upgrade) {
    const sock = ctx.upgrade.socket;
    sock.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('error', () => sock.destroy());
    return {
      write: (type, data) => (!sock.destroyed && sock.writable ? sock.write(encode(type, data)) : true),
      drain: () => drained(sock, closed),
      input: sock as unknown as Readable,
      closed,
      end: async () => {
        if (!sock.destroyed) await new Promise<void>((r) => sock.end(() => r()));
        // The client may keep its side open (a TTY with -i): once our side is flushed, go.
        sock.destroy();
      },
    };
  }
  const res = ctx.res!;
  // As dockerd: no length and no chunking, the body ends when the connection closes.
  res.useChunkedEncodingByDefault = false;
  res.shouldKeepAlive = false;
  res.writeHead(200, { 'Content-Type': contentType });
  // Headers go now: the client waits for them before it calls start.
  res.flushHeaders();
  const closed = new Promise<void>((r) => res.once('close', () => r()));
  return {
    write: (type, data) => (!res.writableEnded && !res.destroyed ? res.write(encode(type, data)) : true),
    drain: () => drained(res, closed),
    closed,
    end: () => new Promise<void>((r) => (res.writableEnded ? r() : res.end(() => r()))),
  };
}

function drained(w: NodeJS.WritableStream & { writableNeedDrain?: boolean }, closed: Promise<void>): Promise<void> {
  if (!w.writableNeedDrain) return Promise.resolve();
  return Promise.race([new Promise<void>((r) => w.once('drain', () => r())), closed]);
}

/**
 * Passes `source` to the client as `type`, pausing it while the client is behind, so a client
 * that reads slowly (or not at all) holds the producer back instead of filling the server's
 * memory. `enabled` false reads and drops (a process must not block on a pipe nobody reads).
 */
export function relay(source: NodeJS.ReadableStream, stream: RawStream, type: StreamType.Stdout | StreamType.Stderr, enabled = true): void {
  source.on('data', (d: Buffer) => {
    if (!enabled || stream.write(type, d)) return;
    source.pause();
    void stream.drain().then(() => source.resume());
  });
}
