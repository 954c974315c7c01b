/**
 * Attaching to a detached container. The monitor that owns `runc run` (start.ts) serves a
 * unix socket; `berth attach` connects to it. Both directions carry frames of
 * `[kind u8][length u32 BE][payload]`: output goes out as stdout/stderr frames (one stdout
 * stream for a tty, as docker has it), input comes in as stdin frames, plus resize (a tty's
 * new size) and stdin-end. When the container exits the monitor sends its exit status and
 * closes. The socket lives under the run root with a short name: unix socket paths are
 * limited to 108 bytes.
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ContainerRoots } from './paths.ts';
import { BerthError } from '../errors/index.ts';

export enum FrameKind {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  StdinEnd = 3,
  Resize = 4,
  Exit = 5,
  /** From the starter of a monitor told to hold: its attach is in place, run the container now. */
  Go = 6,
}

export interface Frame {
  readonly kind: FrameKind;
  readonly payload: Buffer;
}

export function attachSocketPath(engine: Pick<ContainerRoots, 'runRoot'>, id: string): string {
  return join(engine.runRoot, 'attach', `${id.slice(0, 12)}.sock`);
}

export function encodeFrame(kind: FrameKind, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(kind, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** Splits a byte stream back into frames; partial frames wait for the next chunk. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + len) break;
      frames.push({ kind: this.buf.readUInt8(0) as FrameKind, payload: this.buf.subarray(5, 5 + len) });
      this.buf = this.buf.subarray(5 + len);
    }
    return frames;
  }
}

export interface AttachInput {
  onStdin(data: Buffer): void;
  onStdinEnd(): void;
  onResize(cols: number, rows: number): void;
  /** A client released a monitor that holds the container until its starter has attached. */
  onGo?(): void;
}

export interface AttachServer {
  output(kind: FrameKind.Stdout | FrameKind.Stderr, data: Buffer): void;
  /** Tells every client the exit status, then closes the socket. */
  exit(code: number): Promise<void>;
}

/** The monitor's side: any number of clients see live output; each may send input. */
export async function serveAttach(path: string, input: AttachInput): Promise<AttachServer> {
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  const clients = new Set<Socket>();
  const server: Server = createServer((sock) => {
    clients.add(sock);
    const decoder = new FrameDecoder();
    sock.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) dispatch(f);
    });
    // A client's frame must never end the monitor: a resize of a pty that just closed throws EBADF.
    const dispatch = (f: Frame) => {
      try {
        if (f.kind === FrameKind.Stdin) input.onStdin(f.payload);
        else if (f.kind === FrameKind.StdinEnd) input.onStdinEnd();
        else if (f.kind === FrameKind.Resize && f.payload.length === 4) input.onResize(f.payload.readUInt16BE(0), f.payload.readUInt16BE(2));
        else if (f.kind === FrameKind.Go) input.onGo?.();
      } catch {
        // The container is going away; its exit is recorded all the same.
      }
    };
    sock.on('error', () => sock.destroy());
    sock.on('close', () => clients.delete(sock));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
  // The next run's monitor binds the same path: at exit, unlink the socket only if it is still this one.
  const own = (await stat(path)).ino;
  return {
    output(kind, data) {
      const frame = encodeFrame(kind, data);
      for (const c of clients) c.write(frame);
    },
    async exit(code) {
      const payload = Buffer.alloc(4);
      payload.writeInt32BE(code, 0);
      const frame = encodeFrame(FrameKind.Exit, payload);
      await Promise.all([...clients].map((c) => new Promise<void>((r) => c.end(frame, () => r()))));
      await new Promise<void>((r) => server.close(() => r()));
      if ((await stat(path).catch(() => undefined))?.ino === own) await rm(path, { force: true });
    },
  };
}

export interface AttachOptions {
  readonly stdin: boolean;
  readonly tty: boolean;
  /** Bytes that detach the client and leave the container running (docker: ctrl-p ctrl-q). */
  readonly detachKeys: Buffer;
}

export type AttachEnd = { readonly detached: true } | { readonly detached: false; readonly exitCode?: number };

/**
 * The client's side: relays this terminal to the container until it exits (with its status,
 * when the monitor could send it) or the detach keys are typed.
 */
export function attachClient(path: string, opts: AttachOptions): Promise<AttachEnd> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const decoder = new FrameDecoder();
    const stdin = process.stdin;
    const raw = opts.tty && stdin.isTTY;
    let exitCode: number | undefined;
    let matched = 0;
    const cleanup = () => {
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onInput);
      process.stdout.off('resize', onResize);
    };
    const onResize = () => {
      if (!process.stdout.columns) return;
      const p = Buffer.alloc(4);
      p.writeUInt16BE(process.stdout.columns, 0);
      p.writeUInt16BE(process.stdout.rows, 2);
      sock.write(encodeFrame(FrameKind.Resize, p));
    };
    const onInput = (data: Buffer) => {
      for (const byte of data) {
        matched = byte === opts.detachKeys[matched] ? matched + 1 : byte === opts.detachKeys[0] ? 1 : 0;
        if (opts.detachKeys.length && matched === opts.detachKeys.length) {
          cleanup();
          sock.destroy();
          resolve({ detached: true });
          return;
        }
      }
      sock.write(encodeFrame(FrameKind.Stdin, data));
    };
    sock.on('connect', () => {
      if (opts.tty) {
        process.stdout.on('resize', onResize);
        onResize();
      }
      if (!opts.stdin) return;
      if (raw) stdin.setRawMode(true);
      stdin.on('data', onInput);
      stdin.on('end', () => sock.write(encodeFrame(FrameKind.StdinEnd)));
      stdin.resume();
    });
    sock.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.kind === FrameKind.Stdout) process.stdout.write(f.payload);
        else if (f.kind === FrameKind.Stderr) process.stderr.write(f.payload);
        else if (f.kind === FrameKind.Exit) exitCode = f.payload.readInt32BE(0);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      reject(new BerthError('UNAVAILABLE', `attach: ${e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'the container is not running' : e.message}`));
    });
    sock.on('close', () => {
      cleanup();
      resolve({ detached: false, exitCode });
    });
  });
}
