/**
 * Big request bodies (a build context, an image archive): streamed, never held whole, with
 * their size bounded by a limit and by the state root's free space. The first bytes are read
 * ahead to tell a tar from anything else before a byte is unpacked.
 */
import { statfs } from 'node:fs/promises';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { ApiContext } from './http.ts';

/** The most any one upload may be, free disk allowing. */
export const MAX_UPLOAD = 64 * 2 ** 30;
/** What an upload leaves free on the state root's file system. */
const DISK_MARGIN = 256 * 2 ** 20;

/** The bytes an upload may take: MAX_UPLOAD, or less when the disk has less to give. */
export async function uploadLimit(root: string): Promise<number> {
  const fs = await statfs(root).catch(() => undefined);
  if (!fs) return MAX_UPLOAD;
  return Math.max(0, Math.min(MAX_UPLOAD, fs.bavail * fs.bsize - DISK_MARGIN));
}

function tooLarge(what: string, limit: number): BerthError {
  return new BerthError('INVALID_ARGUMENT', `the ${what} is too large: more than ${limit} bytes (the limit, or the state root's free space)`);
}

/**
 * The request body as a stream that fails once it passes `limit` bytes, with its first
 * `headBytes` bytes read already (`head`: fewer when the body is shorter). A declared
 * Content-Length over the limit is refused before anything is read.
 */
export async function boundedUpload(ctx: ApiContext, what: string, limit: number, headBytes = 512): Promise<{ head: Buffer; body: Readable }> {
  const declared = Number(ctx.req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(what, limit);
  const head = await readHead(ctx.req, headBytes);
  let seen = head.length;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) return done(tooLarge(what, limit));
      done(null, chunk);
    },
  });
  const body = new PassThrough();
  if (ctx.req.readableEnded) {
    body.end(head);
    return { head, body };
  }
  body.write(head);
  ctx.req.on('error', (e) => body.destroy(e));
  counter.on('error', (e) => body.destroy(e));
  ctx.req.pipe(counter).pipe(body);
  return { head, body };
}

/** Reads until `n` bytes (or the end), then pauses the stream with the rest pushed back. */
function readHead(req: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const finish = () => {
      req.off('data', onData);
      req.off('end', finish);
      req.off('error', reject);
      req.pause();
      if (buf.length > n) req.unshift(buf.subarray(n));
      resolve(buf.subarray(0, n));
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= n) finish();
    };
    req.on('data', onData);
    req.once('end', finish);
    req.once('error', reject);
  });
}

/**
 * After an upload is refused half read, the rest of the body is not waited for: the reply
 * goes out and the connection closes behind it.
 */
export function closeAfterReply(ctx: ApiContext): void {
  const res = ctx.res;
  if (!res || res.headersSent) return;
  res.setHeader('Connection', 'close');
  res.shouldKeepAlive = false;
  res.once('finish', () => ctx.req.socket.destroy());
}
