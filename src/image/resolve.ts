/** Turns what a user typed (name, name:tag, name@digest, id, id prefix) into an image. */
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import type { ImageConfig, Manifest } from '../oci/schema.ts';
import { formatReference, looksLikeImageId, parseReference, repositoryName, withDefaultTag } from '../reference/index.ts';
import type { ImageRecord } from '../store/images.ts';
import type { ImageStores } from './stores.ts';

export interface LocalImage {
  readonly record: ImageRecord;
  readonly manifest: Manifest;
  readonly config: ImageConfig;
}

export function findImageId(stores: Pick<ImageStores, 'images'>, nameOrId: string): Digest | undefined {
  const s = nameOrId.trim();
  const hex = s.replace(/^sha256:/, '');
  if (/^[a-f0-9]{64}$/.test(hex)) {
    const id = `sha256:${hex}` as Digest;
    if (stores.images.get(id)) return id;
  }
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(s);
  } catch (e) {
    // Not a valid name: it may still be a short id prefix.
    if (/^[a-f0-9]{4,63}$/.test(hex)) return uniquePrefix(stores, hex);
    throw e;
  }
  if (ref.digest) {
    const byDigest = stores.images.resolveRepoDigest(repositoryName(ref), ref.digest);
    if (byDigest) return byDigest;
    return undefined;
  }
  const byTag = stores.images.resolveTag(formatReference(withDefaultTag(ref)));
  if (byTag) return byTag;
  if (looksLikeImageId(s) || /^[a-f0-9]{4,63}$/.test(hex)) return uniquePrefix(stores, hex);
  return undefined;
}

function uniquePrefix(stores: Pick<ImageStores, 'images'>, hex: string): Digest | undefined {
  const found = stores.images.byIdPrefix(hex);
  if (found.length > 1) throw new BerthError('INVALID_ARGUMENT', `image id prefix ${hex} is ambiguous`);
  return found[0]?.id;
}

export function requireImageId(stores: Pick<ImageStores, 'images'>, nameOrId: string): Digest {
  const id = findImageId(stores, nameOrId);
  if (!id) {
    throw new BerthError('NOT_FOUND', `No such image: ${nameOrId}`, { hint: 'see `berth images`, or pull or import it first' });
  }
  return id;
}

export async function loadImage(stores: Pick<ImageStores, 'content' | 'images'>, id: Digest): Promise<LocalImage> {
  const record = stores.images.get(id);
  if (!record) throw new BerthError('NOT_FOUND', `No such image: ${id}`);
  // Store content was validated against the schemas when it came in (import, load, pull,
  // build) and is addressed by digest, so it is read back without the schema library — which
  // would otherwise be compiled on every `run`.
  const [manifestBytes, configBytes] = await Promise.all([stores.content.readBytes(record.manifestDigest), stores.content.readBytes(id)]);
  const manifest = JSON.parse(manifestBytes.toString()) as Manifest;
  const config = JSON.parse(configBytes.toString()) as ImageConfig;
  return { record, manifest, config };
}

/** An image this process is about to use (a build's base): leased first, so a prune keeps it (and its blobs and layers). */
export async function resolveImage(stores: Pick<ImageStores, 'content' | 'images' | 'lease'>, nameOrId: string): Promise<LocalImage> {
  const id = requireImageId(stores, nameOrId);
  stores.lease.add('image', [id]);
  return loadImage(stores, id);
}
