/**
 * Records a finished image: writes its config and manifest into the content store and the
 * image record (with tags) into the metadata DB. Layers must already be in the store and
 * unpacked. Used by import and build; pulled and loaded images keep the manifest they came with.
 */
import type { Digest } from '../oci/digest.ts';
import { sha256 } from '../sys/crypto.ts';
import { MediaType } from '../oci/mediatypes.ts';
import type { ImageConfig, Manifest } from '../oci/schema.ts';
import type { ImageRecord } from '../store/images.ts';
import type { ImageStores } from './stores.ts';

export interface LocalLayer {
  readonly diffId: Digest;
  readonly size: number;
}

export async function commitImage(
  stores: Pick<ImageStores, 'content' | 'images'>,
  config: ImageConfig,
  layers: readonly LocalLayer[],
  tags: readonly string[],
  /** `layersSynced`: the layer records wait for it (Snapshotter.durable, for built layers). */
  opts: { configBytes?: Buffer; layersSynced?: Promise<void> } = {},
): Promise<ImageRecord> {
  // Reusing stored bytes keeps the digest: re-serializing parsed JSON may reorder keys.
  const configBytes = opts.configBytes ?? Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: MediaType.OciLayer, digest: l.diffId, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  // The manifest names the config by digest, so both are written at once.
  const [configInfo, manifestInfo] = await Promise.all([
    stores.content.put(configBytes, { expected: configDigest }),
    stores.content.put(manifestBytes, { expected: sha256(manifestBytes) }),
    opts.layersSynced,
  ]);
  const stored = await Promise.all(layers.map((l) => stores.content.has(l.diffId)));
  for (const [i, l] of layers.entries()) {
    // Import stores the tar; build keeps only the layer dir (recorded by the build cache).
    if (stored[i]) stores.images.putLayer(l.diffId, l.size, { digest: l.diffId, mediaType: MediaType.OciLayer, size: l.size });
    else stores.images.putLayer(l.diffId, l.size);
  }
  const record: ImageRecord = {
    id: configInfo.digest,
    manifestDigest: manifestInfo.digest,
    manifestMediaType: MediaType.OciManifest,
    created: config.created,
    size: layers.reduce((n, l) => n + l.size, 0),
    os: config.os,
    architecture: config.architecture,
    variant: config.variant,
    addedAt: Date.now(),
  };
  stores.images.put(record, tags);
  return record;
}
