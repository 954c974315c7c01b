/**
 * A front for a test registry: it listens on an address of its own (192.0.2.2, the host's
 * non-loopback address, makes a registry that is not insecure by default), in plain HTTP or
 * TLS (optionally demanding a client certificate), records the requests it passed on, and can
 * answer some itself: a `fault` that returns a status makes the front reply with it instead.
 */
import { createServer as createHttpServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';

export interface FrontReply {
  /** The status to answer with, or `reset` to drop the connection without an answer. */
  readonly status: number | 'reset';
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface RegistryFront {
  /** `ADDRESS:PORT` */
  readonly host: string;
  /** `METHOD path` of each request that came, answered by the fault or passed on. */
  readonly requests: string[];
  /** Decides per request; undefined passes it on to the registry. */
  fault?: (req: IncomingMessage) => FrontReply | undefined;
  close(): Promise<void>;
}

export interface FrontOptions {
  /** The address to listen on (127.0.0.1 unless given). */
  readonly listen?: string;
  /** TLS with this certificate and key; with `clientCa`, a client certificate it signed is required. */
  readonly tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
}

export async function startFront(target: string, opts: FrontOptions = {}): Promise<RegistryFront> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const front: { fault?: RegistryFront['fault'] } = {};
  const handler = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    const reply = front.fault?.(req);
    if (reply?.status === 'reset') return void req.socket.destroy();
    if (reply) {
      const body = reply.body ?? '';
      res.writeHead(reply.status as number, { 'Content-Length': String(Buffer.byteLength(body)), ...reply.headers });
      req.resume();
      return res.end(body);
    }
    const [thost, tport] = target.split(':');
    const up = request({ host: thost, port: Number(tport), method: req.method, path: req.url, headers: { ...req.headers, host: target } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server: Server = opts.tls
    ? createHttpsServer(
        { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCa, requestCert: !!opts.tls.clientCa, rejectUnauthorized: !!opts.tls.clientCa },
        handler,
      )
    : createHttpServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const address = opts.listen ?? '127.0.0.1';
  await new Promise<void>((r) => server.listen(0, address, () => r()));
  const host = `${address}:${(server.address() as { port: number }).port}`;
  return Object.assign(front, {
    host,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  });
}
