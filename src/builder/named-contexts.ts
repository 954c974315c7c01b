/**
 * `build --build-context NAME=VALUE`, as buildx takes it: a local directory, or an image
 * (`docker-image://REF`; an `oci-layout://` one is loaded into the store first by the service
 * and named here by its id). `FROM NAME`, `COPY --from=NAME` and `RUN --mount=from=NAME` then
 * use it instead of the image NAME; a stage of that name is still the stage.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BerthError } from '../errors/index.ts';
import type { BuildContext } from './context.ts';

export type NamedContext = { readonly kind: 'dir'; readonly path: string } | { readonly kind: 'image'; readonly ref: string };

const NAME = /^[a-z0-9][a-z0-9._/:@-]*$/;

/**
 * One `--build-context` value. `oci-layout://` is the caller's (it loads the layout); a
 * value with another `scheme://` (git, https) is refused by name rather than taken for a path.
 */
export function parseNamedContext(value: string): { name: string; value: string } {
  const i = value.indexOf('=');
  const name = i < 0 ? '' : value.slice(0, i);
  const v = i < 0 ? '' : value.slice(i + 1);
  if (!name || !v)
    throw new BerthError('INVALID_ARGUMENT', `invalid --build-context "${value}"`, {
      hint: 'use NAME=DIR, NAME=docker-image://REF or NAME=oci-layout://DIR[:TAG]',
    });
  if (!NAME.test(name)) throw new BerthError('INVALID_ARGUMENT', `invalid --build-context name "${name}": use lower-case letters, digits and . _ - / :`);
  return { name, value: v };
}

/** A directory or `docker-image://` value as the builder's NamedContext. */
export function namedContextOf(name: string, value: string): NamedContext {
  if (value.startsWith('docker-image://')) {
    const ref = value.slice('docker-image://'.length);
    if (!ref) throw new BerthError('INVALID_ARGUMENT', `--build-context ${name}: docker-image:// needs an image reference`);
    return { kind: 'image', ref };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(value);
  if (scheme)
    throw new BerthError('UNSUPPORTED', `--build-context ${name}: ${scheme[1]}:// contexts are not supported`, {
      hint: 'use a directory, docker-image:// or oci-layout://',
    });
  const path = resolve(value);
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    throw new BerthError('NOT_FOUND', `--build-context ${name}: ${value} not found`);
  }
  if (!dir) throw new BerthError('INVALID_ARGUMENT', `--build-context ${name}: ${value} is not a directory`);
  return { kind: 'dir', path };
}

/** A key for a directory context's whole content (its .dockerignore applied), for the COPY cache keys that read it. */
export async function contextKey(ctx: BuildContext): Promise<string> {
  const { matched } = await ctx.select('.');
  return `context:${await ctx.digestOf(matched, '')}`;
}
