/**
 * The route table: `METHOD /path/:param` patterns, matched after the optional `/vX.Y`
 * prefix. A `:name*` param is greedy, for image names, which come unescaped with `/` and `:`
 * (`DELETE /images/127.0.0.1:5000/cap:1`). The first route that matches wins, so the
 * fixed paths (`/images/json`) go before the greedy ones.
 */
import { BerthError } from '../errors/index.ts';
import type { ApiContext } from './http.ts';

export type Handler = (ctx: ApiContext) => Promise<void> | void;

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
}

export interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/** The API versions accepted in a path prefix; the one advertised is API_VERSION. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.44';

export function route(method: string, path: string, handler: Handler): Route {
  return { method, path, handler };
}

export function compile(routes: readonly Route[]): CompiledRoute[] {
  return routes.map((r) => {
    const names: string[] = [];
    const source = r.path.replace(/:(\w+)(\*)?/g, (_m, name: string, greedy?: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
    return { ...r, pattern: new RegExp(`^${source}$`), names };
  });
}

function versionNumber(v: string): number {
  const [major, minor] = v.split('.').map(Number);
  return major! * 1000 + minor!;
}

/** Splits `/v1.41/containers/json` into its version and path; a version out of range is a 400. */
export function splitVersion(rawPath: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(rawPath);
  if (!m) return { version: API_VERSION, path: rawPath };
  const version = m[1]!;
  if (versionNumber(version) > versionNumber(MAX_API_VERSION))
    throw new BerthError('INVALID_ARGUMENT', `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  if (versionNumber(version) < versionNumber(MIN_API_VERSION))
    throw new BerthError(
      'INVALID_ARGUMENT',
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  return { version, path: m[2]! };
}

/** True when `version` (a request's) is at least `than`. */
export function versionAtLeast(version: string, than: string): boolean {
  return versionNumber(version) >= versionNumber(than);
}

export type Match = { route: CompiledRoute; params: Record<string, string> } | { methodNotAllowed: true } | undefined;

export function match(routes: readonly CompiledRoute[], method: string, path: string): Match {
  let other = false;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) {
      other = true;
      continue;
    }
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => {
      params[n] = decodeURIComponent(m[i + 1]!);
    });
    return { route: r, params };
  }
  return other ? { methodNotAllowed: true } : undefined;
}
