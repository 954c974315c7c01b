/**
 * What a push sends: the local image with its layers compressed for the wire. Compressed
 * blobs are made once (parallel gzip, or zstd with `--compression-format zstd`) and cached
 * by diffID and format, so a second push does not compress again. With `auto`, a layer that
 * gzip cannot shrink (model weights) goes up uncompressed: the manifest's media type says
 * so, and every client reads it.
 */
import { gzipSync, constants as zc } from 'node:zlib';
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { openLayerBlob } from '../image/layer-blob.ts';
import { sampleLayer } from '../image/layer-sample.ts';
import type { ImageStores } from '../image/stores.ts';
import type { ImageSource, RawManifest } from '../image/transfer.ts';
import { gzipParallel, zstdCompress } from '../layer/index.ts';
import type { Digest } from '../oci/digest.ts';
import { sha256 } from '../sys/crypto.ts';
import { layerCompression, MediaType } from '../oci/mediatypes.ts';
import { manifestSchema, type Descriptor } from '../oci/schema.ts';
import type { ImageRecord } from '../store/images.ts';

export type CompressionFormat = 'auto' | 'gzip' | 'none' | 'zstd';

/**
 * How well gzip would shrink the layer, from windows spread over all of it (see
 * image/layer-sample.ts); tar headers are counted as compressing to a tenth.
 */
async function sampleRatio(stores: Pick<ImageStores, 'content' | 'snapshots'>, diffId: Digest): Promise<number> {
  const { windows, contentBytes, headerBytes } = await sampleLayer(stores, diffId);
  if (!windows.length) return 0;
  let sum = 0;
  for (const w of windows) sum += gzipSync(w, { level: zc.Z_BEST_SPEED }).length / w.length;
  return ((sum / windows.length) * contentBytes + 0.1 * headerBytes) / (contentBytes + headerBytes);
}

/** The layer compressed (parallel gzip, or zstd on all cores), made once and cached by diffID. */
export async function compressedLayer(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>,
  diffId: Digest,
  kind: 'gzip' | 'zstd',
): Promise<Descriptor> {
  const mediaType = kind === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayerZstd;
  const cached = stores.images.blobsOfLayer(diffId).find((b) => layerCompression(b.mediaType) === kind);
  if (cached && (await stores.content.has(cached.digest))) return { mediaType, digest: cached.digest, size: cached.size };
  const info = await stores.content.put((await openLayerBlob(stores, diffId)).pipe(kind === 'gzip' ? gzipParallel() : zstdCompress()));
  stores.images.putLayer(diffId, stores.images.layerSize(diffId) ?? 0, { digest: info.digest, mediaType, size: info.size });
  return { mediaType, digest: info.digest, size: info.size };
}

/** The image as a push source, its manifest rewritten to the compressed layers. */
export async function pushSource(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>,
  record: ImageRecord,
  format: CompressionFormat,
  onMessage?: (s: string) => void,
): Promise<ImageSource> {
  const original = manifestSchema.parse(JSON.parse((await stores.content.readBytes(record.manifestDigest)).toString()));
  const config = JSON.parse((await stores.content.readBytes(record.id)).toString()) as { rootfs: { diff_ids: Digest[] } };
  const layers: Descriptor[] = [];
  for (const [i, l] of original.layers.entries()) {
    const diffId = config.rootfs.diff_ids[i]!;
    // A layer that came compressed (pulled) goes up as it came: only local layers are compressed here.
    if (layerCompression(l.mediaType) !== 'none' || format === 'none') {
      layers.push({ mediaType: l.mediaType, digest: l.digest, size: l.size });
      continue;
    }
    if (format === 'auto' && (await sampleRatio(stores, diffId)) > 0.9) {
      onMessage?.(`${diffId.slice(7, 19)}: does not compress; pushing it uncompressed`);
      layers.push({ mediaType: MediaType.OciLayer, digest: l.digest, size: l.size });
      continue;
    }
    layers.push(await compressedLayer(stores, diffId, format === 'zstd' ? 'zstd' : 'gzip'));
  }
  const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { ...original.config, mediaType: MediaType.OciConfig }, layers };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const root: RawManifest = { digest: sha256(bytes), bytes, mediaType: MediaType.OciManifest };
  return {
    description: record.id,
    rootManifest: async () => root,
    manifest: async (d: Digest) => {
      if (d === root.digest) return root;
      throw new BerthError('NOT_FOUND', `manifest ${d} is not part of this push`);
    },
    // The registry hashes every upload against the digest it is pushed as: an uncompressed
    // layer regenerated from its dir is checked there, not hashed twice.
    openBlob: async (desc: Descriptor, opts: { start?: number } = {}): Promise<Readable> =>
      openLayerBlob(stores, desc.digest, { start: opts.start, receiverVerifies: true }),
  };
}
