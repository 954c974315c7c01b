/**
 * An imported cache read into memory: from a cache index (type=registry or local: the cache
 * config, its layer blobs, berth's cache-mount layers) or from an image (an inline cache in
 * its config; and its history, for images built elsewhere). Bad input is refused here, with
 * the reason, before any layer is fetched.
 */
import { BerthError } from '../../errors/index.ts';
import type { Digest } from '../../oci/digest.ts';
import { isIndexMediaType, isManifestMediaType, MediaType } from '../../oci/mediatypes.ts';
import { hostPlatform } from '../../oci/platform.ts';
import type { Descriptor, History } from '../../oci/schema.ts';
import type { CacheBackend } from './backends.ts';
import {
  BERTH_CACHE_CONFIG_MEDIA_TYPE,
  BERTH_INLINE_CACHE_FIELD,
  CACHE_CONFIG_MEDIA_TYPE,
  CACHE_MOUNT_ANNOTATION,
  type CacheConfig,
  cacheChains,
  type ChainLayer,
  INLINE_CACHE_FIELD,
} from './format.ts';

/** An image's own layers and history: what a cache built elsewhere can be matched by. */
export interface ImageLayers {
  readonly diffIds: readonly Digest[];
  readonly layers: readonly Descriptor[];
  readonly history: readonly History[];
}

export interface ImportedCache {
  readonly backend: CacheBackend;
  /** Record key → its layer chain, bottom first. */
  readonly chains: Map<string, ChainLayer[]>;
  /** Blob digest → its descriptor, where the index lists it. */
  readonly blobs: Map<string, Descriptor>;
  /** Cache mount id → its layer. */
  readonly mounts: Map<string, Descriptor>;
  readonly image?: ImageLayers;
}

function json(bytes: Buffer, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw new BerthError('DATA_CORRUPT', `${what} is not a JSON object`);
}

function descriptors(list: unknown, what: string): Descriptor[] {
  if (!Array.isArray(list)) throw new BerthError('DATA_CORRUPT', `${what} has no list of descriptors`);
  return list.map((d: Partial<Descriptor>, i) => {
    if (typeof d?.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d.digest) || !Number.isSafeInteger(d.size) || (d.size as number) < 0)
      throw new BerthError('DATA_CORRUPT', `${what}: descriptor ${i} has no valid digest and size`);
    return d as Descriptor;
  });
}

/** Reads the cache at `backend`; undefined when there is none there. */
export async function loadCache(backend: CacheBackend): Promise<ImportedCache | undefined> {
  const root = await backend.readRoot();
  if (!root) return undefined;
  let doc = json(root.bytes, `cache ${backend.description}`);
  let mediaType = (doc.mediaType as string | undefined) ?? root.mediaType ?? '';
  if (isIndexMediaType(mediaType) || (Array.isArray(doc.manifests) && !doc.config)) {
    const list = descriptors(doc.manifests, `cache ${backend.description}`);
    const configDesc = list.find((d) => d.mediaType === CACHE_CONFIG_MEDIA_TYPE);
    if (configDesc) return fromCacheIndex(backend, list, configDesc);
    // An image index: the host platform's image, for its inline cache.
    const host = hostPlatform();
    const pick = list.find((d) => d.platform?.os === host.os && d.platform?.architecture === host.architecture) ?? list[0];
    if (!pick) return undefined;
    doc = json(await backend.readDocument({ ...pick, mediaType: pick.mediaType ?? MediaType.OciManifest }), `manifest ${pick.digest}`);
    mediaType = (doc.mediaType as string | undefined) ?? pick.mediaType;
  }
  if (!isManifestMediaType(mediaType) && !doc.config)
    throw new BerthError('DATA_CORRUPT', `cache ${backend.description} is neither a cache index nor an image`);
  return fromImage(backend, doc);
}

async function fromCacheIndex(backend: CacheBackend, list: Descriptor[], configDesc: Descriptor): Promise<ImportedCache> {
  const blobs = new Map(list.map((d) => [d.digest as string, d]));
  const mounts = new Map<string, Descriptor>();
  for (const d of list) {
    const id = d.annotations?.[CACHE_MOUNT_ANNOTATION];
    if (id !== undefined) mounts.set(id, d);
  }
  // berth's own config where the index has one beside BuildKit's (export.ts), then BuildKit's.
  const chains = new Map<string, ChainLayer[]>();
  for (const desc of [list.find((d) => d.mediaType === BERTH_CACHE_CONFIG_MEDIA_TYPE), configDesc]) {
    if (!desc) continue;
    const config = json(await backend.readDocument(desc), `cache config ${desc.digest}`);
    for (const [k, v] of cacheChains(config)) if (!chains.has(k)) chains.set(k, v);
  }
  return { backend, chains, blobs, mounts };
}

async function fromImage(backend: CacheBackend, manifest: Record<string, unknown>): Promise<ImportedCache> {
  const [configDesc] = descriptors([manifest.config], `manifest of ${backend.description}`);
  const layers = descriptors(manifest.layers, `manifest of ${backend.description}`);
  const config = json(await backend.readDocument(configDesc!), `image config ${configDesc!.digest}`);
  const diffIds = ((config.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids ?? []) as Digest[];
  if (!Array.isArray(diffIds) || diffIds.length !== layers.length || diffIds.some((d) => typeof d !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d)))
    throw new BerthError('DATA_CORRUPT', `image ${backend.description}: its config's diff_ids do not match its manifest's layers`);
  const history = Array.isArray(config.history) ? (config.history as History[]) : [];
  const chains = new Map<string, ChainLayer[]>();
  // berth's records and BuildKit's, each in its field; the layers are the image's, as BuildKit's importer reads them.
  for (const field of [BERTH_INLINE_CACHE_FIELD, INLINE_CACHE_FIELD]) {
    const inline = config[field];
    if (typeof inline !== 'string') continue;
    const records = JSON.parse(Buffer.from(inline, 'base64').toString('utf8')) as unknown;
    const cc: CacheConfig = {
      records: records as CacheConfig['records'],
      layers: layers.map((l, i) => ({
        blob: l.digest,
        parent: i - 1,
        annotations: { diffID: diffIds[i], mediaType: l.mediaType, size: l.size },
      })),
    };
    for (const [k, v] of cacheChains(cc)) if (!chains.has(k)) chains.set(k, v);
  }
  return { backend, chains, blobs: new Map(layers.map((l) => [l.digest as string, l])), mounts: new Map(), image: { diffIds, layers, history } };
}

/**
 * Where an image built elsewhere (BuildKit's keys are not berth's) gives this RUN step's
 * layer: its layers so far are the step's parents, by diffID (so the files the command
 * sees are the same, whatever made them), and its history up to that layer reads as the
 * step's does, entry by entry (so are the command, ENV, USER, WORKDIR and, through
 * BuildKit's `|N name=value` prefix, build args).
 */
export function historyMatch(image: ImageLayers, parents: readonly Digest[], history: readonly History[]): number | undefined {
  const n = parents.length;
  if (n >= image.diffIds.length || parents.some((d, i) => d !== image.diffIds[i])) return undefined;
  let seen = -1;
  let end = -1;
  for (const [i, h] of image.history.entries()) {
    if (!h.empty_layer) seen++;
    if (seen === n) {
      end = i;
      break;
    }
  }
  if (end < 0 || end + 1 !== history.length) return undefined;
  for (let i = 0; i <= end; i++) {
    const a = image.history[i]!;
    const b = history[i]!;
    if ((a.created_by ?? '') !== (b.created_by ?? '') || !!a.empty_layer !== !!b.empty_layer) return undefined;
  }
  return n;
}
