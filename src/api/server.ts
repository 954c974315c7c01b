/**
 * `berth serve`'s HTTP server: docker's Engine API on a unix socket (or TCP with TLS), one
 * context per request, routes from routes/index.ts. Upgrade requests (attach, exec start)
 * get their small body read off the socket first, then the same handler; their reply is
 * a `ServerResponse` on the socket until the handler takes it over with a 101.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { type ApiContext, commonHeaders, errorReply, JSON_BODY_LIMIT, Query, readBounded } from './http.ts';
import { API_VERSION, type CompiledRoute, compile, match, splitVersion } from './router.ts';
import type { ApiDeps } from './deps.ts';
import { allRoutes } from './routes/index.ts';

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Clients must show a certificate this CA signed (`--tlsverify`). */
  readonly ca?: Buffer;
}

export interface ApiServerOptions {
  readonly deps: ApiDeps;
  readonly tls?: TlsFiles;
  /** One line per request goes here (`--log-level debug`). */
  readonly logRequest?: (line: string) => void;
}

export interface ApiServer {
  readonly http: Server;
  /** Stops accepting, ends every open connection (hijacked ones too), and resolves when closed. */
  close(): Promise<void>;
}

/** Requests that wait on a container or a log and write nothing to the store. */
const LONG_POLL = /^(\/v[\d.]+)?\/(containers\/[^/?]+\/(wait|attach|logs|stats|top)|exec\/[^/?]+\/start|events)(\?|$)/;

/** The headers a hijacked request's body is told by: a plain Content-Length, or none. */
function contentLength(req: IncomingMessage): number {
  const n = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Reads exactly `n` bytes of a request body off an upgraded socket; what follows is pushed back (stdin). */
function readUpgradeBody(socket: Duplex, head: Buffer, n: number): Promise<Buffer> {
  if (n > JSON_BODY_LIMIT) return Promise.reject(new BerthError('INVALID_ARGUMENT', `request body is too large: ${n} bytes`));
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = () => {
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      const rest = buf.subarray(n);
      if (rest.length) socket.unshift(rest);
      resolve(buf.subarray(0, n));
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= n) done();
    };
    if (buf.length >= n) return done();
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
}

/**
 * What is left of a body nobody read (refused as too large, or sent to an unknown route) is
 * read and dropped so the connection can serve the next request, but only up to `limit`: past
 * that the connection closes, so a client cannot make the server read a gigabyte it refused.
 */
function drainBounded(req: IncomingMessage, limit: number): void {
  let dropped = 0;
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > limit) req.socket.destroy();
  });
}

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const routes: CompiledRoute[] = compile(allRoutes(opts.deps));
  const serverVersion = opts.deps.serverVersion;
  const headers = commonHeaders(API_VERSION, serverVersion);
  const sockets = new Set<Socket | Duplex>();

  const handle = async (req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> => {
    const started = Date.now();
    // What a request makes or uses is kept from prune while it runs (store/leases.ts); a long
    // poll makes nothing, and holding the lease through it would keep everything newer.
    const leave = LONG_POLL.test(req.url ?? '') ? () => undefined : opts.deps.engine.lease.enter();
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    const url = new URL(req.url ?? '/', 'http://berth');
    let bodyRead: Promise<Buffer> | undefined;
    if (upgrade) bodyRead = readUpgradeBody(upgrade.socket, upgrade.head, contentLength(req));
    try {
      const { version, path } = splitVersion(url.pathname);
      const found = match(routes, req.method ?? 'GET', path);
      if (!found) throw new BerthError('NOT_FOUND', `page not found`);
      if ('methodNotAllowed' in found) throw new BerthError('NOT_FOUND', `page not found`);
      const ctx: ApiContext = {
        method: req.method ?? 'GET',
        path,
        version,
        query: new Query(url.searchParams),
        params: found.params,
        req,
        res: upgrade ? undefined : res,
        upgrade: upgrade ? { socket: upgrade.socket } : undefined,
        signal: abort.signal,
        body: (limit = JSON_BODY_LIMIT) => (bodyRead ??= readBounded(req, limit)),
      };
      // An upgrade request answered with an error, not a 101, replies through `res` on the socket.
      if (upgrade) await bodyRead;
      await found.route.handler(upgrade ? { ...ctx, res: undefined } : ctx);
    } catch (e) {
      if (upgrade?.socket.destroyed) return;
      const { status, body } = errorReply(e);
      if (res.headersSent) {
        res.destroy();
      } else {
        const text = `${JSON.stringify(body)}\n`;
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        if (!req.complete) drainBounded(req, JSON_BODY_LIMIT);
      }
    } finally {
      leave();
      opts.logRequest?.(`${new Date().toISOString()} ${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`);
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => void handle(req, res);
  const http = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: !!opts.tls.ca, rejectUnauthorized: !!opts.tls.ca }, onRequest)
    : createHttpServer(onRequest);
  // Long polls (wait, logs -f, events) stay open as long as the client wants.
  http.requestTimeout = 0;
  http.headersTimeout = 60_000;
  http.keepAliveTimeout = 5_000;
  http.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A reply on the raw socket, for the errors an upgrade request can still get before its 101.
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => socket.end());
    void handle(req, res, { socket, head });
  });
  http.on('clientError', (_e, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  return {
    http,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
