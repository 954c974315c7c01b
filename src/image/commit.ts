/**
 * Records a finished image: writes its config and manifest into the content store and the
 * image record (with tags) into the metadata DB. Layers must already be in the store and
 * unpacked. Used by import and build; pulled and loaded images keep the manifest they came with.
 */
import type { Engine } from '../engine.ts';
import { sha256, type Digest } from '../oci/digest.ts';
import { MediaType } from '../oci/mediatypes.ts';
import type { ImageConfig, Manifest } from '../oci/schema.ts';
import type { ImageRecord } from '../store/images.ts';

export interface LocalLayer {
  readonly diffId: Digest;
  readonly size: number;
}

export async function commitImage(
  engine: Engine,
  config: ImageConfig,
  layers: readonly LocalLayer[],
  tags: readonly string[],
  opts: { configBytes?: Buffer } = {},
): Promise<ImageRecord> {
  // Reusing stored bytes keeps the digest: re-serializing parsed JSON may reorder keys.
  const configBytes = opts.configBytes ?? Buffer.from(JSON.stringify(config));
  const configInfo = await engine.content.put(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configInfo.digest, size: configInfo.size },
    layers: layers.map((l) => ({ mediaType: MediaType.OciLayer, digest: l.diffId, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestInfo = await engine.content.put(manifestBytes, { expected: sha256(manifestBytes) });
  for (const l of layers) {
    // Import stores the tar; build keeps only the layer dir (recorded by the build cache).
    if (await engine.content.has(l.diffId)) engine.images.putLayer(l.diffId, l.size, { digest: l.diffId, mediaType: MediaType.OciLayer, size: l.size });
    else engine.images.putLayer(l.diffId, l.size);
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
  engine.images.put(record, tags);
  return record;
}
