/**
 * A forward HTTP proxy on 127.0.0.1 that records what it carried: CONNECT tunnels (for https)
 * by their target, and requests in absolute form (for http) by method and URL. It can demand
 * Basic proxy credentials (407 without them), and it resolves names of its own (`reg.test` →
 * 127.0.0.1), so a client that reaches such a name can only have come through it.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface ForwardProxy {
  /** http://[user:pass@]127.0.0.1:PORT */
  readonly url: string;
  /** `host:port` of each CONNECT, in order. */
  readonly connects: string[];
  /** `METHOD absolute-url` of each plain request, in order. */
  readonly requests: string[];
  /** Requests and CONNECTs refused for missing or wrong credentials. */
  refused: number;
  close(): Promise<void>;
}

export async function startForwardProxy(opts: { auth?: { user: string; password: string }; names?: Record<string, string> } = {}): Promise<ForwardProxy> {
  const connects: string[] = [];
  const requests: string[] = [];
  const state = { refused: 0 };
  const expected = opts.auth ? `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}` : undefined;
  const resolve = (host: string) => opts.names?.[host] ?? host;
  const authorized = (req: IncomingMessage) => !expected || req.headers['proxy-authorization'] === expected;
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    if (!authorized(req)) {
      state.refused++;
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test"', 'Content-Length': '0' });
      return res.end();
    }
    requests.push(`${req.method} ${req.url}`);
    const target = URL.canParse(req.url ?? '') ? new URL(req.url!) : undefined;
    if (target?.protocol !== 'http:') {
      res.writeHead(400, { 'Content-Length': '0' });
      return res.end();
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = request(
      { host: resolve(target.hostname), port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (!authorized(req)) {
      state.refused++;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    connects.push(String(req.url));
    const m = /^(.*):(\d+)$/.exec(String(req.url));
    if (!m) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const up = connect(Number(m[2]), resolve(m[1]!.replace(/^\[|\]$/g, '')), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const cred = opts.auth ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.password)}@` : '';
  return Object.assign(state, {
    url: `http://${cred}127.0.0.1:${port}`,
    connects,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
