/**
 * Reading HTTP bodies with a bound. A registry, a token server or a URL that ADD downloads
 * is outside berth's trust: it can claim a 10 GB Content-Length, or send a chunked body that
 * never ends. Nothing here reads more than its limit into memory, and a body that passes
 * it has its connection dropped at once, so the sender stops too.
 */
import type { IncomingMessage } from 'node:http';
import { BerthError } from '../errors/index.ts';
import { limitText, MAX_DOCUMENT_BYTES } from '../oci/limits.ts';

/** The most of an error body read for its message (containerd reads 64 kB); the rest is dropped. */
export const MAX_ERROR_BODY = 64 << 10;

/** The body's Content-Length, when it gives one. */
export function declaredLength(res: IncomingMessage): number | undefined {
  const v = res.headers['content-length'];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

function isHead(res: IncomingMessage): boolean {
  return (res as IncomingMessage & { req?: { method?: string } }).req?.method === 'HEAD';
}

/**
 * The whole body (a manifest, an index, a config or a token), or a BerthError naming `what`
 * (which says from where) as soon as it is known to pass `limit`: by its Content-Length
 * before a byte is read, or by counting, for a chunked body or a Content-Length that lies.
 */
export async function readBounded(res: IncomingMessage, what: string, limit = MAX_DOCUMENT_BYTES): Promise<Buffer> {
  const tooBig = (detail: string): BerthError => {
    res.destroy();
    return new BerthError('DATA_CORRUPT', `${what} is larger than ${limitText(limit)} (${detail})`, {
      hint: `berth reads at most ${limitText(limit)} of a manifest, index, config or token, as containerd does: the server is broken or hostile`,
    });
  };
  const declared = declaredLength(res);
  if (declared !== undefined && declared > limit) throw tooBig(`it says ${declared} bytes`);
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const c of res) {
      got += (c as Buffer).length;
      if (got > limit) throw tooBig(`more than ${got} bytes came`);
      chunks.push(c as Buffer);
    }
  } catch (e) {
    if (e instanceof BerthError) throw e;
    res.destroy();
    throw new BerthError('UNAVAILABLE', `${what}: the connection broke after ${got} bytes: ${(e as Error).message}`, {
      cause: e,
      hint: 'try again; if it persists, the server is at fault',
    });
  }
  return Buffer.concat(chunks, got);
}

/**
 * At most `limit` bytes of the body: enough of an error reply to quote. A longer body is cut
 * off there (the connection is dropped), and a broken one gives what came.
 */
export async function readPrefix(res: IncomingMessage, limit = MAX_ERROR_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const c of res) {
      const take = (c as Buffer).subarray(0, limit - got);
      chunks.push(take);
      got += take.length;
      if (got >= limit) break; // leaving the loop destroys the response
    }
  } catch {
    /* what came is enough to quote */
  }
  res.destroy();
  return Buffer.concat(chunks, got);
}

/**
 * Done with a response whose body is not wanted. A small one (a 401's JSON, a 202's empty
 * body) is drained so that its connection can serve the next request; any other is dropped:
 * draining a body without end would keep the command from ever exiting.
 */
export function discard(res: IncomingMessage): void {
  const n = declaredLength(res);
  if (isHead(res) || (n !== undefined && n <= MAX_ERROR_BODY)) res.resume();
  else res.destroy();
}
