/**
 * HTTP to one registry, with the distribution spec's auth: anonymous, then on a 401 the
 * challenge's scheme — Basic with stored credentials, or Bearer tokens fetched from the
 * challenge's realm for the request's scope and cached per scope. TLS is verified, except for
 * insecure registries (hosts.ts: loopback ones, as docker, and those the config file lists):
 * TLS errors ignored, plain http allowed. certs.d's CAs and client certificates are used for
 * their host, connections go through the proxy the environment names (proxy.ts), and a
 * request that fails transiently is sent again (retry.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { BerthError } from '../errors/index.ts';
import { discard, readBounded, readPrefix } from './body.ts';
import { getCredentials, type Credentials } from './credentials.ts';
import { hostTls, isInsecureRegistry, type HostTls } from './hosts.ts';
import { proxiedRequest } from './proxy.ts';
import { ATTEMPTS, isTransientError, isTransientStatus, retryDelay, wait } from './retry.ts';
import { trustedCAs } from './trust.ts';
import { configPath } from '../config/file.ts';

export interface ClientOptions {
  /** Allow http and unverified TLS (`--tls-verify=false`, insecure-registries). */
  readonly insecure?: boolean;
  /**
   * Explicit credentials; `null` for none at all (an API request that sent none: the server
   * never lends its own); otherwise read from docker's config.
   */
  readonly credentials?: Credentials | null;
  /**
   * A mirror's base URL (`https://host[:port]`) that serves the requests instead of the
   * registry's own address; `registry` is then the mirror's host, for credentials and messages.
   */
  readonly endpoint?: string;
}

export interface RequestOptions {
  readonly headers?: Record<string, string | number>;
  readonly body?: Buffer | Readable;
  /** `repository:NAME:pull` or `…:pull,push`, for token auth. */
  readonly scope?: string;
  readonly signal?: AbortSignal;
}

/** The methods sent again after a transient failure: repeating them changes nothing. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** Redirects followed for one request (blob GETs may go to storage on another host). */
const MAX_REDIRECTS = 5;

function parseChallenge(h: string | undefined): { scheme: string; params: Record<string, string> } | undefined {
  if (!h) return undefined;
  const m = /^(\w+)\s+(.*)$/.exec(h.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The error a registry's non-success reply stands for; only the first 64 kB of its body are read. */
export async function registryError(res: IncomingMessage, what: string): Promise<BerthError> {
  const body = (await readPrefix(res)).toString();
  // Quoted on the user's terminal: no control characters from a server.
  let detail = printable(body).slice(0, 200);
  let code = '';
  try {
    const j = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> };
    code = j.errors?.[0]?.code ?? '';
    detail = printable(j.errors?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ') ?? detail).slice(0, 400);
  } catch {
    /* not JSON */
  }
  const status = res.statusCode ?? 0;
  if (status === 407) {
    return new BerthError('UNAUTHORIZED', `${what}: the proxy answered 407 proxy authentication required`, {
      hint: 'put the proxy credentials in HTTP_PROXY / HTTPS_PROXY: http://user:password@host:port',
    });
  }
  if (status === 401 || status === 403 || code === 'UNAUTHORIZED' || code === 'DENIED') {
    return new BerthError('UNAUTHORIZED', `${what}: ${status} unauthorized${detail ? `: ${detail}` : ''}`, {
      hint: 'check the credentials with `berth login`',
    });
  }
  if (status === 404 || (status < 500 && /_UNKNOWN$/.test(code))) return new BerthError('NOT_FOUND', `${what}: not found${detail ? ` (${detail})` : ''}`);
  return new BerthError(
    'UNAVAILABLE',
    `${what}: registry answered ${status}${detail ? `: ${detail}` : ''}`,
    status >= 500 ? { hint: 'the registry failed to serve it: try again later' } : {},
  );
}

function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return s.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
}

export class RegistryClient {
  private base?: string;
  private readonly tokens = new Map<string, string>();
  private basic?: string;
  private credsLoaded = false;
  private creds?: Credentials;
  private insecure = false;
  private readonly tls = new Map<string, HostTls>();
  /** One TLS context per host: parsing the CAs again for each new connection costs more than the request. */
  private readonly contexts = new Map<string, Promise<SecureContext>>();

  constructor(
    readonly registry: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.creds = opts.credentials ?? undefined;
    this.credsLoaded = opts.credentials !== undefined;
  }

  /** The host to connect to: docker.io is served by registry-1.docker.io. */
  get host(): string {
    return this.registry === 'docker.io' ? 'registry-1.docker.io' : this.registry;
  }

  /** certs.d's files for a host, by its name as the registry is named, else as it is reached. */
  private tlsFor(host: string): HostTls {
    let t = this.tls.get(host);
    if (!t) {
      t = hostTls(host);
      if (!t.ca.length && !t.cert.length && host === this.host && host !== this.registry) t = hostTls(this.registry);
      this.tls.set(host, t);
    }
    return t;
  }

  private async credentials(): Promise<Credentials | undefined> {
    if (!this.credsLoaded) {
      this.creds = await getCredentials(this.registry);
      this.credsLoaded = true;
    }
    return this.creds;
  }

  /**
   * One request, sent again while it fails transiently (retry.ts). When the last send still
   * fails so, the error names the registry and the number of sends.
   */
  private async raw(
    url: URL,
    method: string,
    headers: Record<string, string | number>,
    body: Buffer | Readable | undefined,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    // A streamed body cannot be sent twice; a POST or PATCH may have taken effect before it failed.
    if ((body && !Buffer.isBuffer(body)) || !IDEMPOTENT.has(method)) return this.send(url, method, headers, body, signal);
    for (let attempt = 1; ; attempt++) {
      let res: IncomingMessage;
      try {
        res = await this.send(url, method, headers, body, signal);
      } catch (e) {
        if (!isTransientError(e) || attempt >= ATTEMPTS) {
          if (attempt > 1) (e as Error).message += ` (tried ${attempt} times)`;
          throw e;
        }
        await wait(retryDelay(attempt)!, signal);
        continue;
      }
      if (!isTransientStatus(res.statusCode)) return res;
      const delay = attempt < ATTEMPTS ? retryDelay(attempt, res.headers['retry-after']) : undefined;
      if (delay === undefined) {
        const tries = attempt > 1 ? ` (tried ${attempt} times)` : '';
        throw await registryError(
          res,
          `${method} ${url.pathname} at ${url.host === this.host ? `registry ${this.registry}` : `${url.host} for registry ${this.registry}`}${tries}`,
        );
      }
      discard(res);
      await wait(delay, signal);
    }
  }

  private async send(
    url: URL,
    method: string,
    headers: Record<string, string | number>,
    body: Buffer | Readable | undefined,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const secureContext = url.protocol === 'https:' ? await this.secureContext(url.host) : undefined;
    return new Promise((resolve, reject) => {
      const req = proxiedRequest(url, { method, headers, signal, rejectUnauthorized: !this.insecure, secureContext, timeout: 60_000 }, resolve);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      if (!body) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (e) => req.destroy(e));
        body.pipe(req);
      }
    });
  }

  /** The trusted CAs, with certs.d's for `host` added as docker adds them to the system pool, and its client certificates. */
  private secureContext(host: string): Promise<SecureContext> {
    let context = this.contexts.get(host);
    if (!context) {
      context = (async () => {
        const files = this.tlsFor(host);
        let ca: (string | Buffer)[] | undefined = await trustedCAs();
        if (files.ca.length) ca = [...(ca ?? rootCertificates), ...files.ca];
        try {
          return createSecureContext({ ca, ...(files.cert.length ? { cert: files.cert, key: files.key } : {}) });
        } catch (e) {
          throw new BerthError('INVALID_ARGUMENT', `the certificates of certs.d/${host} are not usable: ${(e as Error).message}`, {
            hint: 'certs.d/<host>/ holds PEM files: CAs as *.crt, client certificates as *.cert with the matching *.key',
          });
        }
      })();
      this.contexts.set(host, context);
    }
    return context;
  }

  /** Picks https, or http for loopback/insecure registries whose https does not answer. */
  private async resolveBase(signal?: AbortSignal): Promise<string> {
    if (this.base) return this.base;
    this.insecure = !!this.opts.insecure || (await isInsecureRegistry(this.registry));
    if (this.opts.endpoint) return (this.base = new URL(this.opts.endpoint).origin);
    const https = `https://${this.host}`;
    const mayUseHttp = this.insecure;
    try {
      const res = await this.raw(new URL(`${https}/v2/`), 'GET', {}, undefined, signal);
      discard(res);
      this.base = https;
    } catch (e) {
      // A proxy that refused the tunnel refuses plain http too: that is the error to show.
      const proxyRefused = /^EPROXY/.test((e as NodeJS.ErrnoException).code ?? '');
      if (e instanceof BerthError) throw e;
      if (proxyRefused)
        throw new BerthError('UNAVAILABLE', `cannot reach registry ${this.registry}: ${(e as Error).message}`, {
          hint: 'check HTTPS_PROXY and its credentials',
        });
      if (!mayUseHttp) {
        // The hint fits the failure: a name that does not resolve is not a TLS problem.
        const code = (e as NodeJS.ErrnoException).code;
        const hint =
          code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? `${this.registry} does not resolve: check the name, or this machine's DNS`
            : code === 'ECONNREFUSED'
              ? `nothing listens at ${this.registry}`
              : `for a registry without TLS, list ${this.registry} in insecure-registries of ${configPath()}, or pass --tls-verify=false`;
        throw new BerthError('UNAVAILABLE', `cannot reach registry ${this.registry}: ${(e as Error).message}`, { hint });
      }
      this.base = `http://${this.host}`;
    }
    return this.base;
  }

  private async authorize(challenge: ReturnType<typeof parseChallenge>, scope: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
    if (!challenge) return undefined;
    const creds = await this.credentials();
    if (challenge.scheme === 'basic') {
      if (!creds) return undefined;
      this.basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      return this.basic;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return undefined;
    const realm = challenge.params.realm;
    if (!URL.canParse(realm) || !/^https?:$/.test(new URL(realm).protocol)) {
      throw new BerthError('UNAUTHORIZED', `${this.registry} names ${JSON.stringify(realm.slice(0, 100))} as its token server, which is not an http(s) URL`, {
        hint: "the registry's auth is misconfigured",
      });
    }
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    const wanted = scope ?? challenge.params.scope;
    if (wanted) url.searchParams.set('scope', wanted);
    const headers: Record<string, string> = {};
    if (creds) headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const res = await this.raw(url, 'GET', headers, undefined, signal).catch((e: Error) => {
      if (e instanceof BerthError) throw e; // already says what failed, and where
      throw new BerthError('UNAVAILABLE', `cannot reach the token server ${url.host}: ${e.message}`, {
        hint: `the registry ${this.registry} sends its clients there for tokens: check that this machine reaches it`,
      });
    });
    if (res.statusCode !== 200) throw await registryError(res, `token for ${this.registry}`);
    const body = await readBounded(res, `the token for ${this.registry} from ${url.host}`);
    let j: { token?: string; access_token?: string };
    try {
      j = JSON.parse(body.toString()) as typeof j;
    } catch {
      throw new BerthError('UNAUTHORIZED', `the token server ${url.host} for ${this.registry} answered with something other than JSON`, {
        hint: "check the registry's token service",
      });
    }
    const token = j.token ?? j.access_token;
    if (!token) throw new BerthError('UNAUTHORIZED', `the token server for ${this.registry} returned no token`);
    this.tokens.set(wanted ?? '', `Bearer ${token}`);
    return `Bearer ${token}`;
  }

  /** A request to `/v2/…`; retries once after a 401 with the challenge's credentials. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const base = await this.resolveBase(opts.signal);
    const url = new URL(path.startsWith('http') ? path : `${base}${path}`);
    const send = (auth?: string) => {
      const headers: Record<string, string | number> = { 'User-Agent': 'berth/0.1', ...(opts.headers ?? {}) };
      if (auth && new URL(base).host === url.host) headers.Authorization = auth;
      return this.raw(url, method, headers, opts.body, opts.signal).catch((e: Error) => {
        if (e instanceof BerthError) throw e; // already says what failed, and where
        if (e.name === 'AbortError') throw new BerthError('CANCELLED', `${method} ${url.pathname} was cancelled`);
        throw new BerthError('UNAVAILABLE', `cannot reach registry ${this.registry}: ${e.message}`, {
          hint: "try again; if it persists, check the registry and this machine's network",
        });
      });
    };
    let auth = this.tokens.get(opts.scope ?? '') ?? this.basic;
    let res = await send(auth);
    if (res.statusCode === 401 && (!opts.body || Buffer.isBuffer(opts.body))) {
      const challenge = parseChallenge(res.headers['www-authenticate'] as string | undefined);
      discard(res);
      auth = await this.authorize(challenge, opts.scope, opts.signal);
      if (auth) res = await send(auth);
      else throw new BerthError('UNAUTHORIZED', `${this.registry} requires authentication`, { hint: `run \`berth login ${this.registry}\`` });
    }
    // Blob GETs may redirect to storage on another host: follow without our credentials.
    const redirected = () => [301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && !!res.headers.location;
    for (let hops = 0; redirected(); hops++) {
      if (hops === MAX_REDIRECTS) {
        discard(res);
        throw new BerthError('UNAVAILABLE', `${this.registry} redirected ${url.pathname} more than ${MAX_REDIRECTS} times`, {
          hint: 'the registry is misconfigured: check its storage redirects',
        });
      }
      const location = res.headers.location!;
      const next = URL.canParse(location, url) ? new URL(location, url) : undefined;
      discard(res);
      if (next?.protocol !== 'http:' && next?.protocol !== 'https:') {
        throw new BerthError('UNAVAILABLE', `${this.registry} redirected ${url.pathname} to ${JSON.stringify(location.slice(0, 100))}, not an http(s) URL`, {
          hint: 'a registry redirects only to http(s) storage: check the registry',
        });
      }
      res = await this.raw(next, method === 'HEAD' ? 'HEAD' : 'GET', { ...(opts.headers ?? {}) }, undefined, opts.signal).catch((e: Error) => {
        if (e instanceof BerthError) throw e; // already says what failed, and where
        if (e.name === 'AbortError') throw new BerthError('CANCELLED', `${method} ${url.pathname} was cancelled`);
        throw new BerthError('UNAVAILABLE', `cannot reach ${next.host}, where ${this.registry} redirected ${url.pathname}: ${e.message}`, {
          hint: "check that this machine reaches the registry's storage",
        });
      });
    }
    return res;
  }

  /** A manifest, index or config: at most 4 MiB (oci/limits.ts); `what` says which and from where. */
  readDocument(res: IncomingMessage, what: string): Promise<Buffer> {
    return readBounded(res, what);
  }
}
