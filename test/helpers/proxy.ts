/**
 * An HTTP proxy in front of a test registry that can misbehave on blob downloads: flip a
 * byte, cut the body short, drop the connection halfway, or trickle. It records the Range
 * headers it saw, so a test can tell that a client resumed.
 */
import { createServer, request, type Server } from 'node:http';

/** `drop-once` drops one ranged part halfway, then behaves; `norange` hides Range from the registry. */
export type Fault = 'none' | 'corrupt' | 'truncate' | 'drop' | 'drop-once' | 'slow' | 'norange';

export interface FaultyProxy {
  readonly host: string;
  fault: Fault;
  readonly ranges: string[];
  bytesSent: number;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<FaultyProxy> {
  const state = { fault: 'none' as Fault, ranges: [] as string[], bytesSent: 0 };
  const server: Server = createServer((req, res) => {
    if (req.headers.range) state.ranges.push(String(req.headers.range));
    const [thost, tport] = target.split(':');
    const headers = { ...req.headers, host: target };
    if (state.fault === 'norange') delete headers.range;
    const up = request({ host: thost, port: Number(tport), method: req.method, path: req.url, headers }, (ur) => {
      // Faults hit layer-sized blobs only (configs are a few hundred bytes): a pull fetches
      // its configs first, and the tests are about breaking a layer halfway.
      const isBlob =
        req.method === 'GET' &&
        /\/blobs\/sha256:/.test(req.url ?? '') &&
        (ur.statusCode === 200 || ur.statusCode === 206) &&
        Number(ur.headers['content-length'] ?? 0) > 65536;
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      // drop-once breaks a ranged part (206), not the small blobs fetched whole.
      if (!isBlob || state.fault === 'none' || state.fault === 'norange' || (state.fault === 'drop-once' && ur.statusCode !== 206)) {
        ur.on('data', (c: Buffer) => (state.bytesSent += c.length));
        ur.pipe(res);
        return;
      }
      const total = Number(ur.headers['content-length'] ?? 0);
      let sent = 0;
      let flipped = false;
      ur.on('data', (chunk: Buffer) => {
        let c = chunk;
        if (state.fault === 'corrupt' && !flipped && sent + c.length > total / 2) {
          c = Buffer.from(c);
          const i = Math.max(0, Math.floor(total / 2) - sent);
          c[i] = c[i]! ^ 0xff;
          flipped = true;
        }
        if ((state.fault === 'truncate' || state.fault === 'drop' || state.fault === 'drop-once') && sent + c.length > total / 2) {
          const keep = c.subarray(0, Math.max(0, Math.floor(total / 2) - sent));
          res.write(keep);
          state.bytesSent += keep.length;
          if (state.fault === 'drop-once') state.fault = 'none';
          if (state.fault !== 'truncate') req.socket.destroy();
          else res.end();
          ur.destroy();
          return;
        }
        sent += c.length;
        state.bytesSent += c.length;
        if (state.fault === 'slow') {
          ur.pause();
          res.write(c, () => setTimeout(() => ur.resume(), 40));
        } else res.write(c);
      });
      ur.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return Object.assign(state, {
    host,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}
