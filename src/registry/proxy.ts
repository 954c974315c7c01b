/**
 * HTTP(S)_PROXY and NO_PROXY for every connection berth makes to a registry, a token server,
 * a blob's storage or a URL that ADD downloads, with the rules of Go's httpproxy (which docker
 * follows): the upper-case variable first, then the lower-case one; `localhost` and loopback
 * addresses never go through a proxy; a NO_PROXY entry is `*`, an IP, a CIDR, or a domain
 * (`example.com` matches it and its subdomains, `.example.com` the subdomains only), each with
 * an optional port. An https URL goes through a CONNECT tunnel, an http one in absolute form;
 * `user:password@` in the proxy URL becomes Proxy-Authorization.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { BerthError } from '../errors/index.ts';

type Environment = Readonly<Record<string, string | undefined>>;

function envVar(env: Environment, name: string): string | undefined {
  return env[name.toUpperCase()] || env[name.toLowerCase()] || undefined;
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || (isIP(h) === 4 && h.startsWith('127.')) || h === '::1';
}

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Whether IPv4 `ip` is inside `cidr` (a.b.c.d/n). IPv6 CIDRs match their exact address only. */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  if (!net || bits === undefined) return false;
  if (isIP(ip) === 4 && isIP(net) === 4) {
    const n = Number(bits);
    const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
    return (ipv4Number(ip) & mask) >>> 0 === (ipv4Number(net) & mask) >>> 0;
  }
  return isIP(ip) === 6 && isIP(net) === 6 && ip.toLowerCase() === net.toLowerCase();
}

/** Whether NO_PROXY's `list` exempts `host` (no brackets) at `port`. */
export function noProxyMatches(list: string, host: string, port: string): boolean {
  const h = host.toLowerCase();
  for (const raw of list.split(',')) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (isIP(h) && inCidr(h, entry)) return true;
      continue;
    }
    let entryPort = '';
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !(isIP(entry) === 6)) {
      entry = m[1]!;
      entryPort = m[2]!;
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort && entryPort !== port) continue;
    if (isIP(entry)) {
      if (entry === h) return true;
      continue;
    }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.')) {
      if (h.endsWith(entry)) return true;
    } else if (h === entry || h.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** The proxy for `url`, or undefined to connect directly. */
export function proxyFor(url: URL, env: Environment = process.env): URL | undefined {
  const raw = envVar(env, url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY');
  if (!raw) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isLoopbackHost(host)) return undefined;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const noProxy = envVar(env, 'NO_PROXY');
  if (noProxy && noProxyMatches(noProxy, host, port)) return undefined;
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  const proxy = URL.canParse(text) ? new URL(text) : undefined;
  if (proxy?.protocol !== 'http:' || !proxy.hostname) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `the proxy for ${url.protocol.slice(0, -1)} (${url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'}) is not an http:// proxy URL`,
      {
        hint: 'set it to http://[user:password@]host:port; berth speaks to proxies in plain HTTP (CONNECT for https)',
      },
    );
  }
  return proxy;
}

/** The proxy's name in messages: its host, never its credentials. */
function proxyName(proxy: URL): string {
  return proxy.host;
}

function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/** Opens a CONNECT tunnel to `host:port` through `proxy`; the socket is the tunnel's. */
function tunnel(proxy: URL, host: string, port: string, signal?: AbortSignal): Promise<Socket> {
  const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { Host: target };
  const auth = proxyAuthorization(proxy);
  if (auth) headers['Proxy-Authorization'] = auth;
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers,
      signal,
      agent: false,
    });
    req.setTimeout(60_000, () => req.destroy(Object.assign(new Error(`the proxy ${proxyName(proxy)} did not answer CONNECT`), { code: 'ETIMEDOUT' })));
    req.on('connect', (res: IncomingMessage, socket: Socket) => {
      req.setTimeout(0);
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      const e = Object.assign(new Error(`the proxy ${proxyName(proxy)} refused CONNECT to ${target}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()), {
        code: res.statusCode === 407 ? 'EPROXYAUTH' : 'EPROXY',
      });
      reject(e);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(Object.assign(new Error(`cannot reach the proxy ${proxyName(proxy)}: ${e.code ?? e.message}`), { code: e.code }));
    });
    req.end();
  });
}

/**
 * An https agent whose connections are TLS over a CONNECT tunnel through one proxy. The class is
 * made at first use: extending https's Agent as this module loads would load https, tls and
 * http (bin/berth.cjs defers them) in every build and pull, with or without a proxy.
 */
let tunnelAgentClass: (new (proxy: URL) => HttpsAgent) | undefined;
function tunnelAgentType(): new (proxy: URL) => HttpsAgent {
  tunnelAgentClass ??= class TunnelAgent extends HttpsAgent {
    constructor(private readonly proxy: URL) {
      super({ keepAlive: false });
    }

    override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
      const tlsOptions = options as RequestOptions & ConnectionOptions;
      const host = String(options.host ?? 'localhost').replace(/^\[|\]$/g, '');
      tunnel(this.proxy, host, String(options.port ?? 443), options.signal ?? undefined).then(
        (socket) => {
          const servername = isIP(host) ? undefined : (tlsOptions.servername ?? host);
          callback?.(null, tlsConnect({ ...tlsOptions, socket, servername }));
        },
        (e: Error) => callback?.(e, undefined as unknown as Duplex),
      );
      return undefined;
    }
  };
  return tunnelAgentClass;
}

const agents = new Map<string, HttpsAgent>();

function tunnelAgent(proxy: URL): HttpsAgent {
  let a = agents.get(proxy.href);
  if (!a) {
    a = new (tunnelAgentType())(proxy);
    agents.set(proxy.href, a);
  }
  return a;
}

/** The http agent for requests in absolute form (one connection per request, as the tunnel); made at first use, as the tunnel's. */
let plainAgent: HttpAgent | undefined;

/**
 * `http(s).request(url, options, onResponse)` that honours the proxy variables. Everything
 * else about the request (TLS options, headers, signal, timeout) is the caller's.
 */
export function proxiedRequest(url: URL, options: RequestOptions & ConnectionOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
  const proxy = proxyFor(url);
  const https = url.protocol === 'https:';
  if (!proxy) return (https ? httpsRequest : httpRequest)(url, options, onResponse);
  if (https) return httpsRequest(url, { ...options, agent: tunnelAgent(proxy) }, onResponse);
  const headers: Record<string, string | number | string[]> = { ...(options.headers as Record<string, string | number | string[]>), Host: url.host };
  const auth = proxyAuthorization(proxy);
  if (auth) headers['Proxy-Authorization'] = auth;
  return httpRequest(
    {
      ...options,
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || 80,
      path: url.href,
      headers,
      agent: (plainAgent ??= new HttpAgent({ keepAlive: false })),
    },
    onResponse,
  );
}

/** docker info's `HttpProxy`, `HttpsProxy` and `NoProxy`: as set, a password shown as xxxxx. */
export function proxySettings(env: Environment = process.env): { HttpProxy: string; HttpsProxy: string; NoProxy: string } {
  const masked = (v: string | undefined) => {
    if (!v) return '';
    const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`;
    if (!URL.canParse(text)) return v;
    const u = new URL(text);
    if (u.password) u.password = 'xxxxx';
    return text === v ? u.href.replace(/\/$/, v.endsWith('/') ? '/' : '') : u.href.replace(/^http:\/\//, '').replace(/\/$/, '');
  };
  return { HttpProxy: masked(envVar(env, 'HTTP_PROXY')), HttpsProxy: masked(envVar(env, 'HTTPS_PROXY')), NoProxy: envVar(env, 'NO_PROXY') ?? '' };
}
