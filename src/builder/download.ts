/**
 * ADD's download of an http(s) URL: a GET that follows redirects, as BuildKit's does, with
 * berth's trusted CAs (registry/trust.ts), since Node's fetch can be given none, through the
 * proxy that HTTP(S)_PROXY and NO_PROXY choose (registry/proxy.ts). The body
 * streams to a file and is hashed on the way: a URL may serve gigabytes (model weights), and
 * none of it is held in memory. The file appears under its name only once it is whole and
 * its checksum (when given) matches; on any failure nothing is left.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, utimes } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors/index.ts';
import { discard } from '../registry/body.ts';
import { proxiedRequest } from '../registry/proxy.ts';
import { trustedCAs } from '../registry/trust.ts';
import { createSha256, randomHex } from '../sys/crypto.ts';

const MAX_REDIRECTS = 10;

export interface Downloaded {
  /** The file: `<dir>/<name>`, mode 0600, its mtime the server's Last-Modified when it sent one. */
  readonly path: string;
  /** The name docker gives it: the URL path's last element (`index.html` for none). */
  readonly name: string;
  /** `sha256:<hex>` of the body. */
  readonly digest: string;
  readonly size: number;
  /** Last-Modified, in ms since the epoch. */
  readonly mtimeMs?: number;
}

export interface DownloadOptions {
  /** `sha256:<hex>` the body must hash to (ADD --checksum). */
  readonly checksum?: string;
  readonly signal?: AbortSignal;
}

async function get(url: URL, signal?: AbortSignal): Promise<IncomingMessage> {
  const ca = url.protocol === 'https:' ? await trustedCAs() : undefined;
  return new Promise((resolve, reject) => {
    const req = proxiedRequest(url, { method: 'GET', signal, ca, timeout: 60_000 }, resolve);
    req.on('error', reject);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.end();
  });
}

/** The response with the body, after at most ten redirects. */
async function open(url: string, signal?: AbortSignal): Promise<IncomingMessage> {
  let at = new URL(url);
  for (let hops = 0; ; hops++) {
    if (at.protocol !== 'http:' && at.protocol !== 'https:')
      throw new BerthError('INVALID_ARGUMENT', `cannot download ${url}: unsupported protocol ${at.protocol}`);
    const res = await get(at, signal).catch((e: NodeJS.ErrnoException) => {
      throw new BerthError('UNAVAILABLE', `cannot download ${url}: ${e.code && !e.code.startsWith('EPROXY') ? e.code : e.message}`, {
        cause: e,
        hint: 'check the URL, and that this machine reaches its server',
      });
    });
    const location = res.headers.location;
    if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
      discard(res);
      if (hops >= MAX_REDIRECTS) throw new BerthError('UNAVAILABLE', `cannot download ${url}: more than ${MAX_REDIRECTS} redirects`);
      at = new URL(location, at);
      continue;
    }
    if (!res.statusCode || res.statusCode < 200 || res.statusCode > 299) {
      discard(res);
      const status = res.statusCode ?? 0;
      throw new BerthError('UNAVAILABLE', `cannot download ${url}: HTTP ${status}`, {
        hint: status >= 500 ? 'the server failed: try again later' : 'check the URL',
      });
    }
    return res;
  }
}

/** Downloads `url` into `dir` (which exists and is berth's own), as ADD does. */
export async function downloadUrl(url: string, dir: string, opts: DownloadOptions = {}): Promise<Downloaded> {
  const name = posix.basename(new URL(url).pathname) || 'index.html';
  const res = await open(url, opts.signal);
  const partial = join(dir, `.download-${randomHex(6)}`);
  const path = join(dir, name);
  const hash = createSha256();
  let size = 0;
  try {
    await pipeline(
      res,
      async function* (body: AsyncIterable<Buffer>) {
        for await (const c of body) {
          hash.update(c);
          size += c.length;
          yield c;
        }
      },
      createWriteStream(partial, { flags: 'wx', mode: 0o600 }),
      { signal: opts.signal },
    );
  } catch (e) {
    res.destroy();
    await rm(partial, { force: true });
    if (e instanceof BerthError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.name === 'AbortError') throw new BerthError('CANCELLED', `the download of ${url} was cancelled`, { cause: e });
    // A local failure (a full disk) is not the server's.
    if (err.syscall)
      throw new BerthError('UNAVAILABLE', `cannot write the download of ${url}: ${err.code ?? err.message}`, {
        cause: e,
        hint: 'check the free space under the state root',
      });
    throw new BerthError('UNAVAILABLE', `cannot download ${url}: the connection broke after ${size} bytes (${err.code ?? err.message})`, {
      cause: e,
      hint: 'try again; if it persists, the server is at fault',
    });
  }
  const digest = `sha256:${hash.digest('hex')}`;
  try {
    const declared = Number(res.headers['content-length'] ?? size);
    if (declared !== size)
      throw new BerthError('UNAVAILABLE', `cannot download ${url}: ${size} of ${declared} bytes came`, {
        hint: 'try again; if it persists, the server is at fault',
      });
    if (opts.checksum && opts.checksum !== digest)
      throw new BerthError('DATA_CORRUPT', `digest mismatch for ${url}: expected ${opts.checksum}, got ${digest}`, {
        hint: 'the file behind the URL changed, or --checksum is wrong',
      });
    const lastModified = Date.parse(String(res.headers['last-modified'] ?? ''));
    const mtimeMs = Number.isNaN(lastModified) ? undefined : lastModified;
    if (mtimeMs !== undefined) await utimes(partial, mtimeMs / 1000, mtimeMs / 1000);
    await rename(partial, path);
    return { path, name, digest, size, mtimeMs };
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}
