/**
 * Docker's pull policy for `run`, `create` and `build`'s FROM: `missing` pulls only when the
 * image is not in the store, `always` pulls first, `never` only looks locally.
 */
import { BerthError, isBerthError } from '../errors/index.ts';
import type { Engine } from '../engine.ts';
import { formatPlatform, parsePlatform, platformMatches } from '../oci/platform.ts';
import { findImageId, loadImage, type LocalImage } from './resolve.ts';

export type PullPolicy = 'missing' | 'always' | 'never';

export async function ensureImage(engine: Engine, name: string, opts: { pull?: PullPolicy; platform?: string; log?: (s: string) => void } = {}): Promise<LocalImage> {
  const policy = opts.pull ?? 'missing';
  let mismatch: string | undefined;
  if (!['missing', 'always', 'never'].includes(policy)) throw new BerthError('INVALID_ARGUMENT', `invalid pull policy "${policy}"`, { hint: 'use always, missing or never' });
  const want = opts.platform ? parsePlatform(opts.platform) : undefined;
  let local = findImageId(engine, name);
  if (local && policy !== 'always') {
    engine.lease.add('image', [local]); // a prune keeps it until the caller's record names it
    const image = await loadImage(engine, local);
    if (!want || platformMatches(want, image.config)) return image;
    // Docker looks for the wanted platform at the registry, and says what it found locally.
    mismatch = `image with reference ${name} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(image.config)}`;
    if (policy === 'never') throw new BerthError('NOT_FOUND', mismatch);
    local = undefined;
  }
  if (policy === 'never') throw new BerthError('NOT_FOUND', `No such image: ${name}`, { hint: 'pull it first, or use --pull missing' });
  if (/^(sha256:)?[a-f0-9]{12,64}$/.test(name)) throw new BerthError('NOT_FOUND', `No such image: ${name}`);
  if (!local && !mismatch) opts.log?.(`Unable to find image '${name}' locally\n`);
  const { pullImage } = await import('../registry/index.ts');
  try {
    const r = await pullImage(engine, name, { platform: opts.platform });
    opts.log?.(`Digest: ${r.digest}\nStatus: Downloaded newer image for ${name}\n`);
    return loadImage(engine, r.record.id);
  } catch (e) {
    if (local && isBerthError(e, 'UNAVAILABLE')) return loadImage(engine, local);
    if (mismatch) throw new BerthError('NOT_FOUND', mismatch, { cause: e });
    if (isBerthError(e, 'NOT_FOUND') || isBerthError(e, 'UNAUTHORIZED') || isBerthError(e, 'UNAVAILABLE')) {
      throw new BerthError(e.code, `Unable to find image '${name}': ${e.message}`, { hint: e.hint ?? 'check the name, or `berth login` to the registry', cause: e });
    }
    throw e;
  }
}
