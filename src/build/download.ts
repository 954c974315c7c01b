/**
 * ADD's download of an http(s) URL: a GET that follows redirects, as BuildKit's does, with
 * berth's trusted CAs (registry/trust.ts), since Node's fetch can be given none.
 */
import type { IncomingMessage } from 'node:http';
import { BerthError } from '../errors/index.ts';
import { trustedCAs } from '../registry/trust.ts';

const MAX_REDIRECTS = 10;

async function get(url: URL, signal?: AbortSignal): Promise<IncomingMessage> {
  const https = url.protocol === 'https:';
  const { request } = https ? await import('node:https') : await import('node:http');
  const ca = https ? await trustedCAs() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', signal, ca, timeout: 60_000 }, resolve);
    req.on('error', reject);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.end();
  });
}

/** The body of `url`, after at most ten redirects. */
export async function downloadUrl(url: string, signal?: AbortSignal): Promise<Buffer> {
  let at = new URL(url);
  for (let hops = 0; ; hops++) {
    if (at.protocol !== 'http:' && at.protocol !== 'https:') throw new BerthError('INVALID_ARGUMENT', `cannot download ${url}: unsupported protocol ${at.protocol}`);
    const res = await get(at, signal).catch((e: NodeJS.ErrnoException) => {
      throw new BerthError('UNAVAILABLE', `cannot download ${url}: ${e.code ?? e.message}`, { cause: e });
    });
    const location = res.headers.location;
    if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
      res.resume();
      if (hops >= MAX_REDIRECTS) throw new BerthError('UNAVAILABLE', `cannot download ${url}: more than ${MAX_REDIRECTS} redirects`);
      at = new URL(location, at);
      continue;
    }
    if (!res.statusCode || res.statusCode < 200 || res.statusCode > 299) {
      res.resume();
      throw new BerthError('UNAVAILABLE', `cannot download ${url}: HTTP ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
}
