/**
 * Writes a cache as BuildKit does (cache/remotecache/export.go): every layer blob, berth's
 * cache-mount layers beside them, the cache config, then the OCI index listing them all
 * with the config last, under the ref's tag (or the local layout's).
 */
import { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/mediatypes.ts';
import type { Descriptor } from '../../oci/schema.ts';
import { compressedLayer } from '../../registry/push-source.ts';
import { sha256 } from '../../sys/crypto.ts';
import type { CacheBackend } from './backends.ts';
import { buildCacheConfig, CACHE_CONFIG_MEDIA_TYPE, type ExportRecord } from './format.ts';
import { packMount } from './mounts.ts';
import type { RemoteCacheStores } from './types.ts';

/** A step the build ran or found cached: its key, its parent step's key, its layers' diffIDs. */
export interface RecordedStep {
  readonly key: string;
  readonly parentKey?: string;
  readonly diffIds: readonly Digest[];
}

export async function exportCache(
  stores: RemoteCacheStores,
  backend: CacheBackend,
  steps: readonly RecordedStep[],
  mounts: ReadonlyMap<string, string>,
): Promise<Digest> {
  stores.lease.add(
    'layer',
    steps.flatMap((s) => s.diffIds),
  );
  const blobOf = new Map<Digest, Descriptor>();
  for (const s of steps) {
    for (const d of s.diffIds) if (!blobOf.has(d)) blobOf.set(d, await compressedLayer(stores, d, 'gzip'));
  }
  const records: ExportRecord[] = steps.map((s) => ({
    key: s.key,
    parentKey: s.parentKey,
    chain: s.diffIds.map((d) => {
      const b = blobOf.get(d)!;
      return { blob: b.digest, diffId: d, mediaType: b.mediaType, size: b.size };
    }),
  }));
  const config = Buffer.from(JSON.stringify(buildCacheConfig(records, new Date().toISOString())));
  const layerDescs = [...blobOf.values()];
  for (const desc of layerDescs) await backend.putBlob(desc, () => stores.content.open(desc.digest));
  const mountDescs: Descriptor[] = [];
  for (const [id, dir] of [...mounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const desc = await packMount(stores, id, dir);
    await backend.putBlob(desc, () => stores.content.open(desc.digest));
    mountDescs.push(desc);
  }
  const configDesc: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: sha256(config), size: config.length };
  await backend.putBlob(configDesc, async () => Readable.from([config]));
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...layerDescs, ...mountDescs, configDesc] }));
  await backend.putRoot(index, MediaType.OciIndex);
  return sha256(index);
}
