/**
 * Docker's pull policy for `run`, `create` and `build`'s FROM: `missing` pulls only when the
 * image is not in the store, `always` pulls first, `never` only looks locally.
 */
import { BerthError, isBerthError } from '../errors/index.ts';
import { formatPlatform, parsePlatform, platformMatches } from '../oci/platform.ts';
import type { ImageRecord } from '../store/images.ts';
import { indexChildFor, indexPlatforms } from './image-index.ts';
import { findImageId, loadImage, type LocalImage } from './resolve.ts';
import type { ImageStores } from './stores.ts';

export type PullPolicy = 'missing' | 'always' | 'never';

/**
 * Fetches an image from its registry into the stores. The registry client (registry/'s
 * pullImage) is one; the engine is handed it by its opener, so image code never loads the
 * network stack itself and a run of a local image never pays for it.
 */
export interface ImagePuller {
  pull(stores: ImageStores, name: string, opts: { platform?: string }): Promise<{ record: ImageRecord; digest: string }>;
}

export async function ensureImage(
  stores: ImageStores & { readonly puller: ImagePuller },
  name: string,
  opts: { pull?: PullPolicy; platform?: string; log?: (s: string) => void } = {},
): Promise<LocalImage> {
  const policy = opts.pull ?? 'missing';
  let mismatch: string | undefined;
  let hint: string | undefined;
  if (!['missing', 'always', 'never'].includes(policy))
    throw new BerthError('INVALID_ARGUMENT', `invalid pull policy "${policy}"`, { hint: 'use always, missing or never' });
  const want = opts.platform ? parsePlatform(opts.platform) : undefined;
  let local = findImageId(stores, name);
  if (local && policy !== 'always') {
    stores.lease.add('image', [local]); // a prune keeps it until the caller's record names it
    const image = await loadImage(stores, local);
    if (!want || platformMatches(want, image.config)) return image;
    // A multi-platform image: the tag points at one child, the index names the others.
    const child = indexChildFor(stores, name, want);
    if (child) {
      stores.lease.add('image', [child.id]);
      return loadImage(stores, child.id);
    }
    // Docker looks for the wanted platform at the registry, and says what it found locally.
    const platforms = indexPlatforms(stores, name);
    mismatch = platforms
      ? `image with reference ${name} was found but does not provide the specified platform (${formatPlatform(want)})`
      : `image with reference ${name} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(image.config)}`;
    hint = platforms && `it provides ${platforms.join(', ')}`;
    if (policy === 'never') throw new BerthError('NOT_FOUND', mismatch, { hint });
    local = undefined;
  }
  if (policy === 'never') throw new BerthError('NOT_FOUND', `No such image: ${name}`, { hint: 'pull it first, or use --pull missing' });
  if (/^(sha256:)?[a-f0-9]{12,64}$/.test(name)) throw new BerthError('NOT_FOUND', `No such image: ${name}`);
  if (!local && !mismatch) opts.log?.(`Unable to find image '${name}' locally\n`);
  try {
    const r = await stores.puller.pull(stores, name, { platform: opts.platform });
    opts.log?.(`Digest: ${r.digest}\nStatus: Downloaded newer image for ${name}\n`);
    return loadImage(stores, r.record.id);
  } catch (e) {
    if (local && isBerthError(e, 'UNAVAILABLE')) return loadImage(stores, local);
    if (mismatch) throw new BerthError('NOT_FOUND', mismatch, { cause: e, hint });
    if (isBerthError(e, 'NOT_FOUND') || isBerthError(e, 'UNAUTHORIZED') || isBerthError(e, 'UNAVAILABLE')) {
      throw new BerthError(e.code, `Unable to find image '${name}': ${e.message}`, {
        hint: e.hint ?? 'check the name, or `berth login` to the registry',
        cause: e,
      });
    }
    throw e;
  }
}
