/**
 * The registry credentials a client sends with a request: `X-Registry-Auth` (pull, push: one
 * auth config) and `X-Registry-Config` (build: one per registry), base64url JSON as docker's
 * clients write them. The server never lends its own credentials: a request without any is
 * anonymous (`null`), so a client reaches only what its own login reaches.
 */
import type { IncomingMessage } from 'node:http';
import { BerthError } from '../errors/index.ts';
import type { Credentials } from '../services/registry.ts';

/** A header far longer than any auth config is a mistake or an attack. */
const MAX_HEADER = 64 << 10;

interface AuthConfig {
  username?: unknown;
  password?: unknown;
  auth?: unknown;
  identitytoken?: unknown;
  serveraddress?: unknown;
}

function decodeJson(header: string, value: string): unknown {
  if (value.length > MAX_HEADER) throw new BerthError('INVALID_ARGUMENT', `invalid ${header} header: longer than ${MAX_HEADER} bytes`);
  // base64url as docker writes it; standard base64 and missing padding are taken too.
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(value.trim())) throw new BerthError('INVALID_ARGUMENT', `invalid ${header} header: not base64`);
  const text = Buffer.from(value.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new BerthError('INVALID_ARGUMENT', `invalid ${header} header: not base64-encoded JSON`);
  }
}

/** The credentials of one auth config, or null when it has none (`{}`). */
function credentialsOf(header: string, c: unknown): Credentials | null {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new BerthError('INVALID_ARGUMENT', `invalid ${header} header: not a JSON object`);
  const a = c as AuthConfig;
  for (const k of ['username', 'password', 'auth', 'identitytoken', 'serveraddress'] as const) {
    if (a[k] !== undefined && typeof a[k] !== 'string') throw new BerthError('INVALID_ARGUMENT', `invalid ${header} header: ${k} is not a string`);
  }
  let username = (a.username as string | undefined) ?? '';
  let password = (a.password as string | undefined) ?? '';
  if (!username && typeof a.auth === 'string' && a.auth) {
    const plain = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) [username, password] = [plain.slice(0, i), plain.slice(i + 1)];
  }
  return username ? { username, password } : null;
}

/** `X-Registry-Auth`: the credentials for a pull or push; null when absent or empty. */
export function registryAuth(req: IncomingMessage): Credentials | null {
  const value = req.headers['x-registry-auth'];
  if (typeof value !== 'string' || value.trim() === '') return null;
  return credentialsOf('X-Registry-Auth', decodeJson('X-Registry-Auth', value));
}

/** `X-Registry-Config`: credentials by registry host, for a build's FROM pulls. */
export function registryConfig(req: IncomingMessage): ReadonlyMap<string, Credentials> {
  const value = req.headers['x-registry-config'];
  const out = new Map<string, Credentials>();
  if (typeof value !== 'string' || value.trim() === '') return out;
  const j = decodeJson('X-Registry-Config', value);
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new BerthError('INVALID_ARGUMENT', 'invalid X-Registry-Config header: not a JSON object');
  for (const [server, c] of Object.entries(j as Record<string, unknown>)) {
    const creds = credentialsOf('X-Registry-Config', c);
    if (creds) out.set(registryOfServer(server), creds);
  }
  return out;
}

/** The registry a server address names: `https://index.docker.io/v1/` is docker.io. */
export function registryOfServer(server: string): string {
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' || host === '' ? 'docker.io' : host;
}
