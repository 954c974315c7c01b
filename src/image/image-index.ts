/**
 * Multi-platform images in the store. A tag that holds one is an OCI index in the content
 * store plus its children, each an ordinary image record; the tag itself points at one child
 * (the host's, else the first), so everything that reads one image keeps working, and the
 * index rows (store/images.ts) say which other children come with it: `run --platform` picks
 * one, push and save send them all.
 */
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { MediaType } from '../oci/mediatypes.ts';
import { formatPlatform, hostPlatform, platformMatches } from '../oci/platform.ts';
import type { Descriptor, ImageIndex, Platform } from '../oci/schema.ts';
import { formatReference, parseReference, withDefaultTag } from '../reference/index.ts';
import type { ImageRecord } from '../store/images.ts';
import { sha256 } from '../sys/crypto.ts';
import type { ImageStores } from './stores.ts';
import type { ImageSource, RawManifest } from './transfer.ts';

export function platformOf(r: Pick<ImageRecord, 'os' | 'architecture' | 'variant'>): Platform {
  return r.variant ? { os: r.os, architecture: r.architecture, variant: r.variant } : { os: r.os, architecture: r.architecture };
}

/**
 * Writes the index of `children` (one image per platform, in the order given) and makes each
 * tag hold it. Returns the index as stored.
 */
export async function commitIndex(
  stores: Pick<ImageStores, 'content' | 'images'>,
  children: readonly ImageRecord[],
  tags: readonly string[],
): Promise<{ digest: Digest; bytes: Buffer; tagged: ImageRecord }> {
  const manifests: Descriptor[] = [];
  for (const c of children) {
    const size = (await stores.content.readBytes(c.manifestDigest)).length;
    manifests.push({ mediaType: c.manifestMediaType, digest: c.manifestDigest, size, platform: platformOf(c) });
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
  const bytes = Buffer.from(JSON.stringify(index));
  const digest = sha256(bytes);
  await stores.content.put(bytes, { expected: digest });
  const tagged = children.find((c) => platformMatches(hostPlatform(), platformOf(c))) ?? children[0]!;
  for (const t of tags)
    stores.images.putIndex(
      t,
      digest,
      tagged.id,
      children.map((c) => c.id),
    );
  return { digest, bytes, tagged };
}

/** The index a name (a tag, or `repo@sha256:…` pulled by the index's digest) holds in the store, if it holds one. */
export function localIndex(stores: Pick<ImageStores, 'images'>, name: string): { digest: Digest; children: ImageRecord[] } | undefined {
  let full: string;
  try {
    full = formatReference(withDefaultTag(parseReference(name.trim())));
  } catch {
    return undefined; // an id or an id prefix names one image
  }
  const found = stores.images.indexOf(full);
  if (!found) return undefined;
  const children = found.children.map((id) => stores.images.get(id)).filter((r): r is ImageRecord => !!r);
  return { digest: found.digest, children };
}

/** The child of a local index that runs where `want` is asked for. */
export function indexChildFor(stores: Pick<ImageStores, 'images'>, name: string, want: Platform): ImageRecord | undefined {
  return localIndex(stores, name)?.children.find((c) => platformMatches(want, platformOf(c)));
}

/** The platforms a local index has, for an error that says what there is. */
export function indexPlatforms(stores: Pick<ImageStores, 'images'>, name: string): string[] | undefined {
  return localIndex(stores, name)?.children.map((c) => formatPlatform(platformOf(c)));
}

/**
 * A local index as a copy source: `children` are each child's own source (a push rewrites
 * their manifests for compression), and the root is the index over what they give, so it
 * names the manifests the sink receives. With the children as stored, it is the stored index.
 */
export async function indexSource(
  stores: Pick<ImageStores, 'content'>,
  index: { digest: Digest },
  children: ReadonlyArray<{ record: ImageRecord; source: ImageSource }>,
): Promise<ImageSource> {
  const roots = new Map<Digest, { raw: RawManifest; source: ImageSource }>();
  const manifests: Descriptor[] = [];
  for (const c of children) {
    const raw = await c.source.rootManifest();
    roots.set(raw.digest, { raw, source: c.source });
    manifests.push({ mediaType: raw.mediaType, digest: raw.digest, size: raw.bytes.length, platform: platformOf(c.record) });
  }
  const stored = await stores.content.readBytes(index.digest);
  const storedDoc = JSON.parse(stored.toString()) as ImageIndex;
  const same = storedDoc.manifests.length === manifests.length && storedDoc.manifests.every((m, i) => m.digest === manifests[i]!.digest);
  const bytes = same ? stored : Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
  const root: RawManifest = { digest: same ? index.digest : sha256(bytes), bytes, mediaType: MediaType.OciIndex };
  const owner = new Map<Digest, ImageSource>();
  for (const { raw, source } of roots.values()) {
    const m = JSON.parse(raw.bytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    for (const d of [m.config, ...m.layers]) owner.set(d.digest, source);
  }
  return {
    description: index.digest,
    rootManifest: async () => root,
    manifest: async (d: Digest) => {
      const r = roots.get(d);
      if (!r) throw new BerthError('NOT_FOUND', `manifest ${d} is not part of index ${index.digest}`);
      return r.raw;
    },
    openBlob: async (desc, opts) => {
      const s = owner.get(desc.digest);
      if (!s) throw new BerthError('NOT_FOUND', `blob ${desc.digest} is not part of index ${index.digest}`);
      return s.openBlob(desc, opts);
    },
  };
}
