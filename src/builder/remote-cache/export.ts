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
import { BERTH_CACHE_CONFIG_MEDIA_TYPE, buildCacheConfig, CACHE_CONFIG_MEDIA_TYPE, type ExportRecord } from './format.ts';
import { packMount } from './mounts.ts';
import type { RemoteCacheStores } from './types.ts';

/** A step the build ran or found cached: its key, its parent step's key, its layers' diffIDs. */
export interface RecordedStep {
  readonly key: string;
  readonly parentKey?: string;
  readonly diffIds: readonly Digest[];
}

/** BuildKit's records (buildkit-keys.ts llbExportRecords), linked by key, each its layers' diffIDs (none for a key only). */
export interface BuildKitRecord {
  readonly key: string;
  readonly inputs: readonly (readonly string[])[];
  readonly diffIds: readonly Digest[];
}

/**
 * With BuildKit's records, the index has two configs: BuildKit's, of the type its importer
 * reads, and berth's of its own type. In one config, a berth record and a BuildKit record with
 * the same layers would make BuildKit load either (byResultID), and berth's fails the step.
 */
export async function exportCache(
  stores: RemoteCacheStores,
  backend: CacheBackend,
  steps: readonly RecordedStep[],
  mounts: ReadonlyMap<string, string>,
  buildkit: readonly BuildKitRecord[] = [],
): Promise<Digest> {
  const allDiffIds = [...steps, ...buildkit].flatMap((s) => s.diffIds);
  stores.lease.add('layer', allDiffIds);
  const blobOf = new Map<Digest, Descriptor>();
  for (const d of allDiffIds) if (!blobOf.has(d)) blobOf.set(d, await compressedLayer(stores, d, 'gzip'));
  const chainOf = (diffIds: readonly Digest[]) =>
    diffIds.map((d) => {
      const b = blobOf.get(d)!;
      return { blob: b.digest, diffId: d, mediaType: b.mediaType, size: b.size };
    });
  const createdAt = new Date().toISOString();
  const records: ExportRecord[] = steps.map((s) => ({ key: s.key, parentKey: s.parentKey, chain: chainOf(s.diffIds) }));
  const config = Buffer.from(JSON.stringify(buildCacheConfig(records, createdAt)));
  const configs: Descriptor[] = [];
  const putConfig = async (bytes: Buffer, mediaType: string) => {
    const desc: Descriptor = { mediaType, digest: sha256(bytes), size: bytes.length };
    await backend.putBlob(desc, async () => Readable.from([bytes]));
    configs.push(desc);
  };
  // As BuildKit's exporter: each layer names its diffID, which BuildKit's importer (v0.8) reads here only.
  const layerDescs = [...blobOf].map(([diffId, d]) => ({ ...d, annotations: { ...d.annotations, 'containerd.io/uncompressed': diffId } }));
  for (const desc of layerDescs) await backend.putBlob(desc, () => stores.content.open(desc.digest));
  const mountDescs: Descriptor[] = [];
  for (const [id, dir] of [...mounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const desc = await packMount(stores, id, dir);
    await backend.putBlob(desc, () => stores.content.open(desc.digest));
    mountDescs.push(desc);
  }
  if (buildkit.length) {
    await putConfig(config, BERTH_CACHE_CONFIG_MEDIA_TYPE);
    const bk: ExportRecord[] = buildkit.map((r) => ({ key: r.key, inputs: r.inputs, chain: chainOf(r.diffIds) }));
    await putConfig(Buffer.from(JSON.stringify(buildCacheConfig(bk, createdAt))), CACHE_CONFIG_MEDIA_TYPE);
  } else await putConfig(config, CACHE_CONFIG_MEDIA_TYPE);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...layerDescs, ...mountDescs, ...configs] }));
  await backend.putRoot(index, MediaType.OciIndex);
  return sha256(index);
}
